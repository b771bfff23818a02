//! Market depth recomputed from the levels the route returns, gamma exposure through the
//! custom-analytics route, and long and short calls valued by the strategy route.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{FoApp, close, f, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_custom_analytics_and_strategy_evaluation() {
    let server = start().await;
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
    assert_eq!(unknown.status, 404, "an id naming nothing");
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("999999999")
    );
    server.stop().await;
}
