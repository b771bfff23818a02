//! The exchange calendar against the real server and simulator, with an injected
//! clock: a closed market (the simulator idles, `/status` says closed and not stalled,
//! the recorder stores nothing), the rollover at 15:30 IST on an expiry day (REST lists,
//! subscriptions and WebSocket channels move on, without a restart), and every listed
//! expiry brought live on demand within Dhan's 5 × 5,000 budget.

use std::sync::Arc;
use std::time::Duration;

use optionhub::calendar::ManualClock;
use serde_json::Value;
use time::macros::datetime;

use crate::common::TestApp;
use crate::common::{admin_token, authed_get};
use crate::ws::{WsApp, next_json, open, start, subscribe};

async fn get(server: &TestApp, path: &str) -> Value {
    let url = format!("http://{}{path}", server.addr);
    let response = authed_get(url).await.expect("request");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("json")
}

/// Polls `check` on `path` every 100 ms for up to `secs`; the last answer on failure.
async fn wait_for(
    server: &TestApp,
    path: &str,
    secs: u64,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let value = get(server, path).await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never satisfied the check: {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn dates(expiries: &Value) -> Vec<String> {
    expiries["expiries"]
        .as_array()
        .expect("expiries")
        .iter()
        .filter_map(|e| e["date"].as_str().map(str::to_owned))
        .collect()
}

fn priced(chain: &Value) -> usize {
    chain["strikes"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .flat_map(|r| [&r["call"], &r["put"]])
                .filter(|c| c["ltp"].as_f64().is_some_and(|p| p > 0.0))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_market_idles_says_so_and_records_nothing() {
    // Sunday 11:00 IST.
    let clock = ManualClock::starting_at(datetime!(2026-11-22 11:00 +05:30));
    let shared = clock.clone();
    let server = start(move |config| {
        config.feed.session.always_open = false;
        config.feed.clock = shared;
        config.history.interval = Duration::from_millis(200);
    })
    .await;
    // The REST seed gives the chains prices even on a Sunday.
    let chains = server.chains().await;
    let chain = server.rest_chain(&chains[0]).await;
    assert!(priced(&chain) > 0, "seeded from REST: {chain}");
    let status = wait_for(&server, "/status", 10, |s| {
        s["feed"]["connected"] == true && s["subscriptions"]["instruments"].as_u64() > Some(5)
    })
    .await;
    assert_eq!(status["market"]["open"], false, "{status}");
    assert_eq!(status["market"]["phase"], "weekend");
    assert_eq!(
        status["market"]["feed_stalled"], false,
        "silence is not a stall"
    );
    assert!(
        status["market"]["next_open_ist"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-11-23T09:15")),
        "{status}"
    );
    // The simulator idles: no frames beyond the subscription snapshots.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let frames = get(&server, "/status").await["feed"]["frames"].as_u64();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let later = get(&server, "/status").await;
    assert_eq!(later["feed"]["frames"].as_u64(), frames, "{later}");
    // Several recorder intervals passed with priced chains: nothing recorded.
    let history = &later["history"];
    assert_eq!(history["written"], 0, "{history}");
    assert_eq!(history["queued"], 0, "{history}");

    // Monday 09:20 IST: open, and the simulator trades again.
    clock.set(datetime!(2026-11-23 09:20 +05:30));
    let open = wait_for(&server, "/status", 10, |s| {
        s["market"]["open"] == true && s["feed"]["frames"].as_u64() > frames
    })
    .await;
    assert_eq!(open["market"]["phase"], "open");
    wait_for(&server, "/status", 10, |s| {
        s["history"]["written"].as_u64() > Some(0)
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_set_rolls_at_the_close_of_an_expiry_day() {
    // Tuesday 1 Dec 2026, a NIFTY weekly expiry in the simulator, just before the close.
    let clock = ManualClock::starting_at(datetime!(2026-12-01 15:25 +05:30));
    let shared = clock.clone();
    let server = start(move |config| config.feed.clock = shared).await;
    let before = dates(&get(&server, "/api/v2/options/expiries?underlying=NIFTY").await);
    assert_eq!(before.first().map(String::as_str), Some("2026-12-01"));
    let next = before.get(1).cloned().expect("a next expiry");
    wait_for(&server, "/status", 10, |s| {
        s["subscriptions"]["expiries"]["NIFTY"][0] == "2026-12-01"
    })
    .await;

    let mut ws = open(&server, "/ws/live", &admin_token()).await;
    let ack = subscribe(&mut ws, &["NIFTY:2026-12-01"]).await;
    assert_eq!(ack["type"], "ack", "{ack}");

    clock.set(datetime!(2026-12-01 15:30:01 +05:30));
    // The channel's last message names the next expiry.
    let expired = loop {
        let message = next_json(&mut ws).await;
        if message["type"] == "expired" {
            break message;
        }
        assert!(
            message["type"] == "snapshot" || message["type"] == "update",
            "{message}"
        );
    };
    assert_eq!(expired["channel"], "NIFTY:2026-12-01");
    assert_eq!(expired["data"]["next_expiry"], next.as_str());
    assert_eq!(
        expired["data"]["next_channel"],
        format!("NIFTY:{next}").as_str()
    );
    assert_eq!(expired["data"]["expired_at"], "2026-12-01T15:30:00+05:30");

    // REST lists and the subscription plan moved on, with no restart.
    let after = dates(&get(&server, "/api/v2/options/expiries?underlying=NIFTY").await);
    assert_eq!(after.first(), Some(&next), "{after:?}");
    assert!(!after.contains(&"2026-12-01".to_owned()));
    let status = wait_for(&server, "/status", 10, |s| {
        s["subscriptions"]["expiries"]["NIFTY"][0] == next.as_str()
    })
    .await;
    assert_eq!(status["market"]["live_from"], "2026-12-02");
    // The expired chain is still readable, labelled as such.
    let old = get(
        &server,
        "/api/v2/options/live?underlying=NIFTY&expiry=2026-12-01",
    )
    .await;
    assert_eq!(old["expiry"]["position"], "expired", "{}", old["expiry"]);
    // A late subscriber gets the same final message.
    let mut late = open(&server, "/ws/live", &admin_token()).await;
    assert_eq!(
        subscribe(&mut late, &["NIFTY:2026-12-01"]).await["type"],
        "ack"
    );
    let message = next_json(&mut late).await;
    assert_eq!(message["type"], "expired", "{message}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_expiry_of_every_underlying_is_usable_at_once() {
    let server = start(|config| {
        config.feed.on_demand.idle = Duration::from_secs(3);
    })
    .await;
    let underlyings = get(&server, "/api/v2/market/underlyings").await;
    let mut chains = Vec::new();
    for u in underlyings.as_array().expect("underlyings") {
        let name = u["name"].as_str().expect("name").to_owned();
        let path = format!("/api/v2/options/expiries?underlying={name}");
        for date in dates(&get(&server, &path).await) {
            chains.push((name.clone(), date));
        }
    }
    assert_eq!(underlyings.as_array().map(Vec::len), Some(5));
    assert!(chains.len() >= 20, "{chains:?}");
    let server = Arc::new(server);
    // Every chain asked for at once.
    let asks = chains.iter().map(|(name, date)| {
        let server = server.clone();
        let path = format!("/api/v2/options/live?underlying={name}&expiry={date}");
        tokio::spawn(async move { get(&server, &path).await })
    });
    for answer in futures_util::future::join_all(asks).await {
        let chain = answer.expect("request task");
        assert!(chain["strikes"].as_array().is_some_and(|s| !s.is_empty()));
    }
    // Within Dhan's limits, every chain beyond the tiers gets a share of the feed.
    let beyond: Vec<String> = chains
        .iter()
        .filter(|(name, date)| {
            !chains
                .iter()
                .filter(|(n, _)| n == name)
                .take(2)
                .any(|(_, d)| d == date)
        })
        .map(|(name, date)| format!("{name}:{date}"))
        .collect();
    let status = wait_for(&server, "/status", 20, |s| {
        beyond
            .iter()
            .all(|c| s["subscriptions"]["on_demand"][c].as_u64() > Some(0))
    })
    .await;
    let subscriptions = &status["subscriptions"];
    assert!(
        subscriptions["instruments"].as_u64() <= Some(25_000),
        "{subscriptions}"
    );
    assert!(
        subscriptions["connections"].as_u64() <= Some(5),
        "{subscriptions}"
    );
    let connections = status["feed"]["connections"]
        .as_array()
        .expect("connections");
    assert!(connections.len() <= 5);
    assert!(
        connections.iter().all(|c| c["last_error"].is_null()),
        "the simulator refused nothing: {connections:?}"
    );
    // Every chain is priced (feed or REST) and says where from. (This harness loads
    // no Greeks plugin; the Greeks of a priced chain are the plugin's business.)
    for (name, date) in &chains {
        let path = format!("/api/v2/options/live?underlying={name}&expiry={date}");
        let chain = wait_for(&server, &path, 20, |c| {
            priced(c) > 0 && c["source"]["kind"].is_string()
        })
        .await;
        let kind = chain["source"]["kind"].as_str().unwrap_or_default();
        assert!(kind == "feed" || kind == "rest", "{}", chain["source"]);
        assert!(chain["source"]["as_of_ms"].as_i64() > Some(0));
    }
    // Nobody asks any more: the on-demand chains are released after the idle time.
    wait_for(&server, "/status", 20, |s| {
        s["subscriptions"]["on_demand"]
            .as_object()
            .is_some_and(serde_json::Map::is_empty)
    })
    .await;
    match Arc::try_unwrap(server) {
        Ok(server) => server.stop().await,
        Err(_) => panic!("the server is still shared"),
    }
}
