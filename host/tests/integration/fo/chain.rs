//! The chain analytics (`/fo/summary`, `/fo/strike-distribution`, `/fo/oi-change`)
//! against the live chain at the same sequence number, and the response cache hitting
//! while that sequence stands still.

use std::time::Duration;

use serde_json::Value;

use super::{FoApp, close, f, start};
use crate::common::TestApp;

/// Whether a live contract is in the analytics input: it has a price or a two-sided quote.
fn priced(contract: &Value) -> bool {
    f(&contract["ltp"]) > 0.0 || (f(&contract["bid"]) > 0.0 && f(&contract["ask"]) > 0.0)
}

/// Calls `fetch` until its answer and the live chain around it show one chain sequence
/// and one Greeks computation; returns (live, answer).
async fn at_one_seq(server: &TestApp, chain: &str, path: &str) -> (Value, Value) {
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
    let server = start().await;
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
    let mut theta_seen = false;
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
                for greek in ["gamma", "theta", "vega"] {
                    assert!(
                        close(f(&row[side][greek]), f(&contract["greeks"][greek]), 1e-12),
                        "{side} {greek} at {strike}: {} vs {}",
                        row[side][greek],
                        contract["greeks"][greek]
                    );
                }
                theta_seen |= f(&row[side]["theta"]) != 0.0 && f(&row[side]["vega"]) != 0.0;
            }
        }
    }

    assert!(
        theta_seen,
        "some strike near ATM has theta and vega: {dist}"
    );

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
    server.stop().await;
}
