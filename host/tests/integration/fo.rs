//! The F&O analytics routes on the real server: the simulator feeding two underlyings,
//! the bundled plugins loaded from a directory, a real HTTP client. Every answer is
//! checked against what another route (usually the live chain at the same sequence
//! number) says independently, the response cache is seen to hit while the chain stands
//! still, and malformed input everywhere is a JSON 4xx, never a 500.

use std::time::{Duration, Instant};

use optionhub::config::FeedSourceConfig;
use optionhub::server::{self, RunningServer};
use serde_json::{Value, json};

use crate::common::{server_config, wasm_path};

const BUNDLED: [&str; 4] = [
    "greeks-black76",
    "oi-analytics",
    "strategy-valuation",
    "gamma-exposure",
];

struct Server {
    running: RunningServer,
    base: String,
    client: reqwest::Client,
    _data: tempfile::TempDir,
}

/// A response: status, `x-cache` header, JSON body.
struct Answer {
    status: u16,
    cache: String,
    body: Value,
}

impl Server {
    async fn start() -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let plugins = data.path().join("plugins");
        std::fs::create_dir_all(&plugins).expect("mkdir");
        for name in BUNDLED {
            let file = format!("{}.wasm", name.replace('-', "_"));
            std::fs::copy(wasm_path(name), plugins.join(file)).expect("copy plugin");
        }
        let mut config = server_config(data.path(), Some(&plugins));
        config.feed.underlyings = vec!["NIFTY".into(), "BANKNIFTY".into()];
        // Slow ticks leave the chains standing still between bursts, so answers taken
        // one after another can be compared at one sequence number.
        if let FeedSourceConfig::Simulator { tick, .. } = &mut config.feed.source {
            *tick = Duration::from_millis(700);
        }
        let running = server::start(config).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        Self {
            running,
            base,
            client: reqwest::Client::new(),
            _data: data,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        answer(response).await
    }

    async fn post(&self, path: &str, body: &str, json_type: bool) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .body(body.to_string());
        if json_type {
            request = request.header("content-type", "application/json");
        }
        answer(request.send().await.expect("request")).await
    }

    async fn evaluate(&self, body: &Value) -> Answer {
        self.post("/api/v2/strategies/evaluate", &body.to_string(), true)
            .await
    }

    /// The first expiry of `underlying` that is not today (so nothing has expired),
    /// once its chain has Greeks and the OI plugin answers.
    async fn ready_chain(&self, underlying: &str) -> String {
        let expiries = self
            .get(&format!("/api/v2/options/expiries?underlying={underlying}"))
            .await
            .body;
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let expiry = expiries["expiries"]
            .as_array()
            .expect("expiries")
            .iter()
            .filter_map(|e| e["date"].as_str())
            .find(|d| *d != today)
            .expect("a future expiry")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let summary = self
                .get(&format!(
                    "/fo/summary?underlying={underlying}&expiry={expiry}"
                ))
                .await;
            if summary.status == 200 {
                return expiry;
            }
            assert_eq!(summary.status, 503, "{}", summary.body);
            assert!(
                Instant::now() < deadline,
                "no Greeks for {underlying} {expiry}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text}"));
    Answer {
        status,
        cache,
        body,
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

/// Whether a live contract is in the analytics input: it has a price or a two-sided quote.
fn priced(contract: &Value) -> bool {
    f(&contract["ltp"]) > 0.0 || (f(&contract["bid"]) > 0.0 && f(&contract["ask"]) > 0.0)
}

/// Calls `fetch` until its answer and the live chain around it show one chain sequence
/// and one Greeks computation; returns (live, answer).
async fn at_one_seq(server: &Server, chain: &str, path: &str) -> (Value, Value) {
    for _ in 0..100 {
        let before = server
            .get(&format!("/api/v2/options/live?{chain}"))
            .await
            .body;
        let answer = server.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let after = server
            .get(&format!("/api/v2/options/live?{chain}"))
            .await
            .body;
        let same =
            |a: &Value, b: &Value| a["seq"] == b["seq"] && a["greeks"]["seq"] == b["greeks"]["seq"];
        if same(&before, &answer.body) && same(&after, &answer.body) {
            return (after, answer.body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never answered at a steady sequence number");
}

fn sum(live: &Value, side: &str, field: &str) -> (f64, usize) {
    let mut total = 0.0;
    let mut count = 0;
    for strike in live["strikes"].as_array().expect("strikes") {
        let contract = &strike[side];
        if !contract.is_null() && priced(contract) {
            total += f(&contract[field]);
            count += 1;
        }
    }
    (total, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_analytics_agree_with_the_live_chain_and_repeat_from_the_cache() {
    let server = Server::start().await;
    let expiry = server.ready_chain("NIFTY").await;
    let chain = format!("underlying=NIFTY&expiry={expiry}");

    // Summary: PCR and totals are the put and call sums of the live chain.
    let (live, summary) = at_one_seq(&server, &chain, &format!("/fo/summary?{chain}")).await;
    let (call_oi, calls) = sum(&live, "call", "oi");
    let (put_oi, puts) = sum(&live, "put", "oi");
    assert!(call_oi > 0.0 && put_oi > 0.0, "the simulator has OI");
    assert_eq!(f(&summary["total_call_oi"]), call_oi);
    assert_eq!(f(&summary["total_put_oi"]), put_oi);
    assert!(
        close(f(&summary["pcr_oi"]), put_oi / call_oi, 1e-12),
        "{summary}"
    );
    let (call_volume, _) = sum(&live, "call", "volume");
    let (put_volume, _) = sum(&live, "put", "volume");
    if call_volume > 0.0 {
        assert!(close(
            f(&summary["pcr_volume"]),
            put_volume / call_volume,
            1e-12
        ));
    }
    assert_eq!(summary["contracts"].as_u64(), Some((calls + puts) as u64));
    // ATM is the listed strike nearest the forward the Greeks used.
    let forward = f(&live["forward"]);
    let nearest = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .map(|s| f(&s["strike"]))
        .min_by(|a, b| (a - forward).abs().total_cmp(&(b - forward).abs()))
        .expect("a strike");
    assert_eq!(f(&summary["atm_strike"]), nearest);
    assert_eq!(f(&summary["forward"]), forward);
    let atm_iv = f(&summary["atm_iv"]);
    assert!(atm_iv > 0.01 && atm_iv < 2.0, "ATM IV {atm_iv}");
    for level in ["max_pain", "support", "resistance"] {
        let strike = f(&summary[level]);
        assert!(
            live["strikes"]
                .as_array()
                .expect("strikes")
                .iter()
                .any(|s| f(&s["strike"]) == strike),
            "{level} {strike} is a listed strike"
        );
    }
    assert_eq!(summary["plugin"]["name"], "oi-analytics");
    assert_eq!(summary["greeks"]["plugin"]["name"], "greeks-black76");

    // Strike distribution: 3 strikes each side, centred on ATM, matching the live rows.
    let path = format!("/fo/strike-distribution?{chain}&strikes=3");
    let (live, dist) = at_one_seq(&server, &chain, &path).await;
    let rows = dist["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 7, "{dist}");
    assert_eq!(f(&rows[3]["strike"]), f(&dist["atm_strike"]));
    let strikes: Vec<f64> = rows.iter().map(|r| f(&r["strike"])).collect();
    assert!(
        strikes.windows(2).all(|w| w[0] < w[1]),
        "ascending {strikes:?}"
    );
    for row in rows {
        let strike = f(&row["strike"]);
        let at = live["strikes"]
            .as_array()
            .expect("strikes")
            .iter()
            .find(|s| f(&s["strike"]) == strike)
            .expect("strike is live");
        for side in ["call", "put"] {
            let contract = &at[side];
            if contract.is_null() || !priced(contract) {
                continue;
            }
            assert_eq!(row[side]["oi"], contract["oi"], "{side} OI at {strike}");
            assert_eq!(
                row[side]["oi_change"], contract["oi_change"],
                "{side} OI change at {strike}"
            );
            assert_eq!(row[side]["volume"], contract["volume"]);
            if !contract["greeks"].is_null() {
                assert!(close(
                    f(&row[side]["delta"]),
                    f(&contract["greeks"]["delta"]),
                    1e-12
                ));
                assert!(close(
                    f(&row[side]["iv"]),
                    f(&contract["greeks"]["iv"]),
                    1e-12
                ));
            }
        }
    }

    // OI change: gainers descending, losers ascending, each change as the live chain says.
    let path = format!("/fo/oi-change?{chain}&limit=5");
    let (live, movers) = at_one_seq(&server, &chain, &path).await;
    let live_change = |id: u64| {
        live["strikes"]
            .as_array()
            .expect("strikes")
            .iter()
            .flat_map(|s| [&s["call"], &s["put"]])
            .find(|c| c["security_id"].as_u64() == Some(id))
            .map(|c| c["oi_change"].as_i64().expect("oi change"))
    };
    for (list, sign) in [("gainers", 1), ("losers", -1)] {
        let list = movers[list].as_array().expect("list");
        assert!(list.len() <= 5);
        let changes: Vec<i64> = list
            .iter()
            .map(|m| m["oi_change"].as_i64().expect("change"))
            .collect();
        assert!(changes.iter().all(|c| c.signum() == sign), "{changes:?}");
        assert!(
            changes.windows(2).all(|w| w[0] * sign >= w[1] * sign),
            "sorted {changes:?}"
        );
        for m in list {
            let id = m["security_id"].as_u64().expect("id");
            assert_eq!(live_change(id), m["oi_change"].as_i64(), "mover {id}");
            assert!(m["buildup"].is_string());
        }
    }
    assert!(
        !movers["gainers"].as_array().expect("gainers").is_empty(),
        "the simulator moves OI"
    );

    // The cache: the same request at an unchanged sequence is a hit, counted in /health.
    let path = format!("/fo/summary?underlying=nifty&expiry={expiry}");
    let mut hit = false;
    for _ in 0..100 {
        let hits_before = server.get("/health").await.body["cache"]["hits"]
            .as_u64()
            .expect("hits");
        let first = server.get(&path).await;
        let second = server.get(&path).await;
        assert_eq!((first.status, second.status), (200, 200));
        if first.body["seq"] == second.body["seq"]
            && first.body["greeks"]["seq"] == second.body["greeks"]["seq"]
        {
            assert_eq!(second.cache, "hit", "unchanged inputs must hit");
            assert_eq!(first.body, second.body);
            let health = server.get("/health").await.body;
            assert!(
                health["cache"]["hits"].as_u64().expect("hits") > hits_before,
                "{health}"
            );
            assert!(health["cache"]["misses"].as_u64().expect("misses") > 0);
            hit = true;
            break;
        }
    }
    assert!(hit, "two requests never met one sequence number");
    // A changed parameter is a different key: a miss, and a different answer.
    let other = server
        .get(&format!("/fo/strike-distribution?{chain}&strikes=1"))
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.body["rows"].as_array().map(Vec::len), Some(3));
    // The live chain goes through the cache too.
    let mut live_hit = false;
    for _ in 0..100 {
        let a = server.get(&format!("/api/v2/options/live?{chain}")).await;
        let b = server.get(&format!("/api/v2/options/live?{chain}")).await;
        if a.body["seq"] == b.body["seq"] && a.body["greeks"]["seq"] == b.body["greeks"]["seq"] {
            assert_eq!(b.cache, "hit");
            live_hit = true;
            break;
        }
    }
    assert!(live_hit);
    server.running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_custom_analytics_and_strategy_evaluation() {
    let server = Server::start().await;
    let expiry = server.ready_chain("NIFTY").await;
    let chain = format!("underlying=NIFTY&expiry={expiry}");

    // Depth: recomputed here from the levels the route returns.
    let live = server
        .get(&format!("/api/v2/options/live?{chain}"))
        .await
        .body;
    let deadline = Instant::now() + Duration::from_secs(30);
    let (with_depth, without_depth) = loop {
        let live = server
            .get(&format!("/api/v2/options/live?{chain}"))
            .await
            .body;
        let contracts: Vec<Value> = live["strikes"]
            .as_array()
            .expect("strikes")
            .iter()
            .flat_map(|s| [s["call"].clone(), s["put"].clone()])
            .filter(|c| !c.is_null())
            .collect();
        let with = contracts
            .iter()
            .find(|c| c["depth"].is_array())
            .and_then(|c| c["security_id"].as_u64());
        let without = contracts
            .iter()
            .find(|c| c["depth"].is_null())
            .and_then(|c| c["security_id"].as_u64());
        if let (Some(with), Some(without)) = (with, without) {
            break (with, without);
        }
        assert!(Instant::now() < deadline, "no Full-mode contract");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let depth = server
        .get(&format!("/fo/depth?security_id={with_depth}"))
        .await;
    assert_eq!(depth.status, 200, "{}", depth.body);
    let d = &depth.body;
    let levels = d["levels"].as_array().expect("levels");
    assert_eq!(levels.len(), 5);
    let quoted = |price: &str, qty: &str| -> Vec<(f64, f64)> {
        levels
            .iter()
            .map(|l| (f(&l[price]), f(&l[qty])))
            .filter(|(p, q)| *p > 0.0 && *q > 0.0)
            .collect()
    };
    let (bids, asks) = (
        quoted("bid_price", "bid_qty"),
        quoted("ask_price", "ask_qty"),
    );
    assert!(!bids.is_empty() && !asks.is_empty(), "{d}");
    let best_bid = bids.iter().map(|b| b.0).fold(f64::MIN, f64::max);
    let best_ask = asks.iter().map(|a| a.0).fold(f64::MAX, f64::min);
    assert_eq!(f(&d["best_bid"]), best_bid);
    assert_eq!(f(&d["best_ask"]), best_ask);
    assert!(close(f(&d["spread"]), best_ask - best_bid, 1e-12));
    let mid = 0.5 * (best_bid + best_ask);
    assert!(close(
        f(&d["spread_pct"]),
        100.0 * (best_ask - best_bid) / mid,
        1e-9
    ));
    let (bid_qty, ask_qty): (f64, f64) = (
        bids.iter().map(|b| b.1).sum(),
        asks.iter().map(|a| a.1).sum(),
    );
    assert_eq!(f(&d["total_bid_qty"]), bid_qty);
    assert!(close(
        f(&d["imbalance"]),
        (bid_qty - ask_qty) / (bid_qty + ask_qty),
        1e-12
    ));
    let (bq, aq) = (f(&d["best_bid_qty"]), f(&d["best_ask_qty"]));
    assert!(close(
        f(&d["weighted_mid"]),
        (best_bid * aq + best_ask * bq) / (bq + aq),
        1e-12
    ));
    assert!(f(&d["weighted_mid"]) >= best_bid && f(&d["weighted_mid"]) <= best_ask);
    let none = server
        .get(&format!("/fo/depth?security_id={without_depth}"))
        .await;
    assert_eq!(
        (none.status, none.body["error"]["code"].as_str()),
        (404, Some("no_depth"))
    );
    assert!(
        none.body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Full mode")
    );

    // Custom analytics: gamma exposure's declared outputs, stamped, with its params.
    let path = format!("/api/v2/analytics/gamma-exposure?{chain}&window=2&scale=rupees");
    let gex = server.get(&path).await;
    assert_eq!(gex.status, 200, "{}", gex.body);
    let g = &gex.body;
    assert_eq!(g["plugin"]["name"], "gamma-exposure");
    assert!(g["seq"].as_u64().is_some());
    assert_eq!(g["params"], json!({"window": "2", "scale": "rupees"}));
    let scalar = |name: &str| {
        g["scalars"]
            .as_array()
            .expect("scalars")
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| {
                (
                    f(&s["value"]),
                    s["unit"].as_str().unwrap_or_default().to_string(),
                )
            })
    };
    for name in ["total_gex", "call_gex", "put_gex", "forward"] {
        assert!(scalar(name).is_some(), "{name} missing from {g}");
    }
    let (total, unit) = scalar("total_gex").expect("total");
    let (calls, _) = scalar("call_gex").expect("calls");
    let (puts, _) = scalar("put_gex").expect("puts");
    assert!(close(total, calls + puts, 1e-9), "total = calls + puts");
    assert_eq!(unit, "INR");
    let table = g["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == "gex_by_strike")
        .expect("table");
    let strikes = table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["name"] == "strike")
        .expect("strikes");
    assert!(
        strikes["values"].as_array().expect("values").len() <= 5,
        "window=2: at most 5 strikes"
    );
    // Defaults apply when no parameter is given.
    let default = server
        .get(&format!("/api/v2/analytics/gamma-exposure?{chain}"))
        .await;
    assert_eq!(
        default.body["params"],
        json!({"window": "0", "scale": "crore"})
    );

    // Strategy: a long ATM call loses at most its premium and may gain without limit.
    let atm = f(&live["atm_strike"]);
    let lot_size = f(&live["lot_size"]);
    let call = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .find(|s| f(&s["strike"]) == atm)
        .map(|s| s["call"]["security_id"].as_u64().expect("call id"))
        .expect("ATM call");
    let long_call = json!({
        "legs": [{"security_id": call, "side": "buy", "lots": 2, "entry_price": "100.50"}],
        "range_pct": 20,
        "points": 401,
        "scenarios": [{"spot_shift_pct": 1, "iv_shift_points": 0, "days_forward": 0},
                      {"spot_shift_pct": -1, "iv_shift_points": 2, "days_forward": 1}]
    });
    let value = server.evaluate(&long_call).await;
    assert_eq!(value.status, 200, "{}", value.body);
    let v = &value.body;
    let quantity = 2.0 * lot_size;
    assert_eq!(f(&v["legs"][0]["quantity"]), quantity);
    assert!(
        close(f(&v["max_loss"]), 100.5 * quantity, 1e-9),
        "{}",
        v["max_loss"]
    );
    assert_eq!(v["max_profit"], "unlimited");
    assert!(close(f(&v["net_premium"]), 100.5 * quantity, 1e-9));
    let market = f(&v["legs"][0]["market_price"]);
    assert!(close(f(&v["total_mtm"]), (market - 100.5) * quantity, 1e-9));
    let breakevens = v["breakevens"].as_array().expect("breakevens");
    assert_eq!(breakevens.len(), 1, "{v}");
    assert!(
        close(f(&breakevens[0]), atm + 100.5, 1e-6),
        "breakeven {}",
        breakevens[0]
    );
    assert_eq!(v["payoff"]["spot"].as_array().map(Vec::len), Some(401));
    assert_eq!(v["payoff"]["at_expiry"].as_array().map(Vec::len), Some(401));
    assert_eq!(v["scenarios"].as_array().map(Vec::len), Some(2));
    assert!(
        f(&v["greeks"]["delta"]) > 0.0,
        "a long call has positive delta"
    );
    let pop = f(&v["probability_of_profit"]);
    assert!((0.0..=1.0).contains(&pop));
    assert_eq!(v["plugin"]["name"], "strategy-valuation");
    // Sold instead, the loss is the unlimited side; a number works as a price too.
    let mut short_call = long_call.clone();
    short_call["legs"][0]["side"] = json!("sell");
    short_call["legs"][0]["entry_price"] = json!(100.5);
    let short = server.evaluate(&short_call).await;
    assert_eq!(short.status, 200, "{}", short.body);
    assert_eq!(short.body["max_loss"], "unlimited");
    assert!(close(f(&short.body["max_profit"]), 100.5 * quantity, 1e-9));

    // Legs on two underlyings, or an id that names nothing, are refused by id.
    let bank_expiry = server.ready_chain("BANKNIFTY").await;
    let bank = server
        .get(&format!(
            "/api/v2/options/live?underlying=BANKNIFTY&expiry={bank_expiry}"
        ))
        .await
        .body;
    let bank_call = bank["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .find_map(|s| s["call"]["security_id"].as_u64())
        .expect("a BANKNIFTY call");
    let mixed = server
        .evaluate(&json!({"legs": [
            {"security_id": call, "side": "buy", "entry_price": "1"},
            {"security_id": bank_call, "side": "sell", "entry_price": "1"}]}))
        .await;
    assert_eq!(
        (mixed.status, mixed.body["error"]["code"].as_str()),
        (422, Some("mixed_underlyings"))
    );
    let unknown = server
        .evaluate(
            &json!({"legs": [{"security_id": 999_999_999u64, "side": "buy", "entry_price": "1"}]}),
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("999999999")
    );
    server.running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_is_a_json_4xx_and_never_a_500() {
    let server = Server::start().await;
    let expiry = server.ready_chain("NIFTY").await;
    let ok = format!("underlying=NIFTY&expiry={expiry}");
    let gets = [
        ("/fo/summary".to_string(), 400, "missing_underlying"),
        (
            format!("/fo/summary?underlying=NOPE&expiry={expiry}"),
            404,
            "unknown_underlying",
        ),
        (
            "/fo/summary?underlying=NIFTY".to_string(),
            400,
            "missing_expiry",
        ),
        (
            "/fo/summary?underlying=NIFTY&expiry=24-11-2026".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/fo/summary?underlying=NIFTY&expiry=1999-01-01".to_string(),
            404,
            "unknown_expiry",
        ),
        (
            "/fo/summary?underlying=NIFTY&underlying=BANKNIFTY".to_string(),
            400,
            "malformed_query",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=ten"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=-1"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=100000"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/oi-change?{ok}&limit=0"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/oi-change?{ok}&limit=1.5"),
            400,
            "invalid_parameter",
        ),
        (
            "/fo/oi-change?underlying=&expiry=".to_string(),
            400,
            "missing_underlying",
        ),
        ("/fo/depth".to_string(), 400, "missing_security_id"),
        (
            "/fo/depth?security_id=abc".to_string(),
            400,
            "invalid_security_id",
        ),
        (
            "/fo/depth?security_id=-5".to_string(),
            400,
            "invalid_security_id",
        ),
        (
            "/fo/depth?security_id=999999999".to_string(),
            404,
            "unknown_security_id",
        ),
        (
            format!("/api/v2/analytics/no-such-plugin?{ok}"),
            404,
            "plugin_not_found",
        ),
        (
            format!("/api/v2/analytics/oi-analytics?{ok}"),
            400,
            "wrong_world",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&windw=3"),
            400,
            "unknown_parameter",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&window=1&window=2"),
            400,
            "duplicate_parameter",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&scale=furlongs"),
            422,
            "plugin_invalid_input",
        ),
        (
            "/api/v2/analytics/gamma-exposure?underlying=NIFTY&expiry=soon".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/api/v2/options/live?underlying=NIFTY&expiry=2026-13-45".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/api/v2/options/strikes?underlying=NIFTY&expiry=x&expiry=y".to_string(),
            400,
            "malformed_query",
        ),
    ];
    for (path, status, code) in &gets {
        let answer = server.get(path).await;
        assert_eq!(answer.status, *status, "{path}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"].as_str(),
            Some(*code),
            "{path}: {}",
            answer.body
        );
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // The unknown-plugin answer lists what is loaded; the unknown-param one what is valid.
    let unknown = server
        .get(&format!("/api/v2/analytics/no-such-plugin?{ok}"))
        .await;
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("gamma-exposure")
    );
    let typo = server
        .get(&format!("/api/v2/analytics/gamma-exposure?{ok}&windw=3"))
        .await;
    let message = typo.body["error"]["message"].as_str().expect("msg");
    assert!(
        message.contains("window") && message.contains("scale"),
        "{message}"
    );

    let leg = r#"{"security_id":1,"side":"buy","entry_price":"1"}"#;
    let posts = [
        ("{not json".to_string(), true, 400, "malformed_json"),
        (format!(r#"{{"legs":[{leg}]}}"#), false, 400, "not_json"),
        (r#"{"legs":[]}"#.to_string(), true, 422, "no_legs"),
        (r#"{"legs":"all"}"#.to_string(), true, 422, "invalid_body"),
        (
            r#"{"legs":[{"security_id":"x","side":"buy","entry_price":"1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"hold","entry_price":"1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":"-1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":"NaN"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":-3}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            format!(r#"{{"legs":[{leg}],"colour":"red"}}"#),
            true,
            422,
            "invalid_body",
        ),
        (
            format!(r#"{{"legs":[{leg}],"points":1}}"#),
            true,
            422,
            "invalid_strategy",
        ),
        (
            format!(r#"{{"legs":[{leg}],"range_pct":-5}}"#),
            true,
            422,
            "invalid_strategy",
        ),
        (
            format!(r#"{{"legs":[{leg}],"target_date":"tomorrow"}}"#),
            true,
            400,
            "malformed_date",
        ),
        (
            format!(r#"{{"legs":[{leg}]}}"#),
            true,
            422,
            "unknown_contract",
        ),
    ];
    for (body, json_type, status, code) in &posts {
        let answer = server
            .post("/api/v2/strategies/evaluate", body, *json_type)
            .await;
        assert_eq!(answer.status, *status, "{body}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"].as_str(),
            Some(*code),
            "{body}: {}",
            answer.body
        );
    }
    // A target date past the nearest expiry, and one in the past, are refused.
    let live = server.get(&format!("/api/v2/options/live?{ok}")).await.body;
    let call = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .find_map(|s| s["call"]["security_id"].as_u64())
        .expect("a call");
    for target in ["2000-01-01", "2999-01-01"] {
        let answer = server
            .evaluate(
                &json!({"legs": [{"security_id": call, "side": "buy", "entry_price": "1"}],
                              "target_date": target}),
            )
            .await;
        assert_eq!(answer.status, 422, "{target}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "invalid_target_date");
    }
    server.running.stop().await.expect("clean stop");
}
