//! The whole ingest path on the built-in simulator: `optionhub serve` with no
//! credentials starts the simulator on loopback and ingests from it through the real
//! client and codec; chains go live with Greeks from the greeks plugin. Then the faults
//! a real feed has: a dropped connection, an expired token, a REST API that says slow
//! down.

use std::time::{Duration, Instant};

use optionhub::feed::sim::RestFault;
use serde_json::Value;

use crate::common::TestApp;

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
async fn eventually<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The nearest expiry of every underlying, from `/api/v2/market/underlyings`.
async fn current_chains(app: &TestApp) -> Vec<(String, String)> {
    let (status, list) = app.get_json("/api/v2/market/underlyings").await;
    assert_eq!(status, 200);
    list.as_array()
        .expect("array")
        .iter()
        .map(|u| {
            let name = u["name"].as_str().expect("name").to_owned();
            let expiry = u["expiries"][0]["date"]
                .as_str()
                .expect("an expiry")
                .to_owned();
            (name, expiry)
        })
        .collect()
}

async fn chain(app: &TestApp, underlying: &str, expiry: &str) -> Value {
    let (status, body) = app
        .get_json(&format!(
            "/api/v2/options/live?underlying={underlying}&expiry={expiry}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// True when the chain has a spot, priced contracts and Greeks from the plugin.
fn is_live_with_greeks(chain: &Value) -> bool {
    let priced = chain["strikes"].as_array().is_some_and(|rows| {
        rows.iter()
            .any(|r| r["call"]["ltp"].as_f64().unwrap_or(0.0) > 0.0)
    });
    let greeks = chain["strikes"].as_array().is_some_and(|rows| {
        rows.iter().any(|r| {
            r["call"]["greeks"]["iv"]
                .as_f64()
                .is_some_and(|iv| iv > 0.0)
        })
    });
    chain["spot"].as_f64().is_some_and(|s| s > 0.0) && priced && greeks
}

/// Every listed expiry is usable, not only the feed's tiers: the farthest NIFTY
/// expiry, once asked for, is priced (REST, then the on-demand feed) and gets Greeks
/// from the plugin like the nearest one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_farthest_expiry_asked_for_gets_prices_and_greeks() {
    let running = TestApp::builder().start().await;
    let (status, listed) = running
        .get_json("/api/v2/options/expiries?underlying=NIFTY")
        .await;
    assert_eq!(status, 200, "{listed}");
    let dates: Vec<&str> = listed["expiries"]
        .as_array()
        .expect("expiries")
        .iter()
        .filter_map(|e| e["date"].as_str())
        .collect();
    let tiers = optionhub::config::TierConfig::default().expiries;
    assert!(dates.len() > tiers, "beyond the tiers: {dates:?}");
    let farthest = dates.last().copied().expect("an expiry");
    let body = eventually(
        Duration::from_secs(20),
        "the farthest chain live with greeks",
        async || {
            let body = chain(&running, "NIFTY", farthest).await;
            is_live_with_greeks(&body).then_some(body)
        },
    )
    .await;
    assert_eq!(body["greeks"]["plugin"]["name"], "greeks-black76");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_five_underlyings_go_live_with_changing_chains_and_greeks() {
    let running = TestApp::builder().start().await;
    let chains = current_chains(&running).await;
    let names: Vec<&str> = chains.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"]
    );

    for (underlying, expiry) in &chains {
        let first = eventually(
            Duration::from_secs(10),
            "a live chain with greeks",
            async || {
                let body = chain(&running, underlying, expiry).await;
                is_live_with_greeks(&body).then_some(body)
            },
        )
        .await;
        assert_eq!(
            first["greeks"]["plugin"]["name"], "greeks-black76",
            "{underlying}"
        );
        let seq = first["seq"].as_u64().expect("seq");
        eventually(Duration::from_secs(5), "the chain to change", async || {
            let body = chain(&running, underlying, expiry).await;
            (body["seq"].as_u64().expect("seq") > seq).then_some(())
        })
        .await;
    }

    // Status says where the data comes from and what is subscribed; Full packets (the
    // last tier subscribed) arrive shortly after the rest.
    let status = eventually(Duration::from_secs(5), "full packets", async || {
        let (_, status) = running.get_json("/status").await;
        (status["feed"]["packets"]["full"].as_u64().unwrap_or(0) > 0).then_some(status)
    })
    .await;
    assert_eq!(status["feed"]["source"], "simulator");
    assert_eq!(status["scrip_master"]["source"], "fresh", "{status}");
    assert!(
        status["scrip_master"]["instruments"].as_u64().unwrap_or(0) > 1_000,
        "{status}"
    );
    assert_eq!(status["feed"]["connected"], true);
    assert!(
        status["subscriptions"]["by_mode"]["full"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{status}"
    );
    assert!(
        status["feed"]["packets"]["full"].as_u64().unwrap_or(0) > 0,
        "{status}"
    );
    assert_eq!(status["feed"]["decode_errors_total"], 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_underlying_and_expiry_list_the_valid_values() {
    let running = TestApp::builder().start().await;
    let (status, body) = running
        .get_json("/api/v2/options/expiries?underlying=NIFTYX")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_underlying");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("BANKNIFTY")
    );

    let (status, body) = running
        .get_json("/api/v2/options/live?underlying=NIFTY&expiry=2001-01-01")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_expiry");

    let (status, body) = running
        .get_json("/api/v2/options/strikes?underlying=NIFTY&expiry=25-11-2026")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_date");

    let (status, body) = running
        .get_json("/api/v2/options/expiries?underlying=nifty")
        .await;
    assert_eq!(status, 200);
    let label = body["expiries"][0]["label"].as_str().expect("label");
    assert!(
        label.starts_with("NIFTY ") && label.contains("current"),
        "{label}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_feed_reconnects_resubscribes_and_the_chains_recover() {
    let running = TestApp::builder().start().await;
    let (underlying, expiry) = current_chains(&running).await.remove(0);
    eventually(Duration::from_secs(10), "live chain", async || {
        is_live_with_greeks(&chain(&running, &underlying, &expiry).await).then_some(())
    })
    .await;
    let sim = running.sim();
    let attempts = sim.connection_attempts();
    sim.drop_connections();
    let (_, status) = running.get_json("/status").await;
    let packets_before = status["feed"]["frames"].as_u64().expect("frames");
    eventually(Duration::from_secs(10), "a reconnect", async || {
        (sim.connection_attempts() > attempts && sim.open_connections() > 0).then_some(())
    })
    .await;
    // Resubscribed: packets flow again and the chain keeps changing.
    let seq = chain(&running, &underlying, &expiry).await["seq"]
        .as_u64()
        .expect("seq");
    eventually(
        Duration::from_secs(10),
        "data after the reconnect",
        async || {
            let (_, status) = running.get_json("/status").await;
            let frames = status["feed"]["frames"].as_u64().expect("frames");
            let now = chain(&running, &underlying, &expiry).await["seq"]
                .as_u64()
                .expect("seq");
            (frames > packets_before + 10 && now > seq).then_some(())
        },
    )
    .await;
    let (_, status) = running.get_json("/status").await;
    let reconnects: u64 = status["feed"]["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| c["reconnects"].as_u64().unwrap_or(0))
        .sum();
    assert!(reconnects >= 1, "{status}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_stops_the_feed_with_a_clear_status_and_no_reconnect_storm() {
    let running = TestApp::builder().start().await;
    let sim = running.sim();
    eventually(Duration::from_secs(10), "connected", async || {
        (sim.open_connections() > 0).then_some(())
    })
    .await;
    sim.expire_token();
    // Patience for a loaded CI machine (all integration tests share 2 cores); alone this
    // takes well under a second. What is asserted does not change.
    let status = eventually(
        Duration::from_secs(20),
        "auth failure in status",
        async || {
            let (_, status) = running.get_json("/status").await;
            let failed = status["feed"]["connections"]
                .as_array()?
                .iter()
                .any(|c| c["state"] == "auth_failed");
            failed.then_some(status)
        },
    )
    .await;
    let reason = status["feed"]["connections"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("807"),
        "the reason names Dhan's code: {status}"
    );
    // The connection that met the expired token learned why; it did not need a
    // reconnect to be told (a reset that swallowed the disconnect packet would).
    assert_eq!(
        status["feed"]["connections"][0]["reconnects"], 0,
        "{status}"
    );
    let attempts = sim.connection_attempts();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sim.connection_attempts(),
        attempts,
        "no reconnects after an auth failure"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_rest_api_keeps_the_last_good_chain() {
    let running = TestApp::builder()
        .configure(move |config| {
            config.feed.rest_refresh_every = Duration::from_millis(100);
        })
        .start()
        .await;
    let (underlying, expiry) = current_chains(&running).await.remove(0);
    eventually(Duration::from_secs(10), "live chain", async || {
        is_live_with_greeks(&chain(&running, &underlying, &expiry).await).then_some(())
    })
    .await;
    let sim = running.sim();
    sim.set_rest_fault(Some(RestFault::RateLimited));
    let status = eventually(
        Duration::from_secs(10),
        "a rate-limited REST call",
        async || {
            let (_, status) = running.get_json("/status").await;
            (status["rest"]["rate_limited"].as_u64().unwrap_or(0) > 0).then_some(status)
        },
    )
    .await;
    assert!(
        status["rest"]["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("DH-904"),
        "{status}"
    );
    // The chain is still served, bid/ask included.
    let body = chain(&running, &underlying, &expiry).await;
    assert!(is_live_with_greeks(&body));
    let quoted = body["strikes"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["call"]["bid"].as_f64().unwrap_or(0.0) > 0.0)
        .count();
    assert!(quoted > 0, "bid/ask kept from the last good chain");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_reproduces_the_chain_states_of_the_recorded_run() {
    let data = tempfile::tempdir().expect("tempdir");
    let recording = data.path().join("feed.rec");
    let record = recording.clone();
    let live = TestApp::builder()
        .configure(move |config| config.feed.record = Some(record))
        .start()
        .await;
    let (underlying, expiry) = current_chains(&live).await.remove(0);
    eventually(Duration::from_secs(10), "live chain", async || {
        is_live_with_greeks(&chain(&live, &underlying, &expiry).await).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let live_market = live.state.market.clone();
    live.stop().await;
    let ids = live_market.chain_ids();
    let recorded: Vec<_> = ids.iter().map(|id| live_market.chain_view(id)).collect();
    assert!(
        recorded.iter().flatten().any(|v| v.seq > 10),
        "the live run saw changes"
    );

    let replay_dir = tempfile::tempdir().expect("tempdir");
    let replayed = TestApp::builder()
        .data_dir(replay_dir.path())
        .configure(move |config| {
            config.feed.source = optionhub::config::FeedSourceConfig::Replay {
                file: recording,
                speed_factor: None,
            };
        })
        .start()
        .await;
    let market = replayed.state.market.clone();
    assert_eq!(
        market.chain_ids(),
        ids,
        "the replay rebuilds the same chains"
    );
    eventually(
        Duration::from_secs(10),
        "the replay to reach the recorded states",
        async || {
            let now: Vec<_> = ids.iter().map(|id| market.chain_view(id)).collect();
            (now == recorded).then_some(())
        },
    )
    .await;
    for underlying in ["NIFTY", "SENSEX"] {
        assert_eq!(
            market.underlying_book(underlying),
            live_market.underlying_book(underlying)
        );
    }
    replayed.stop().await;
}
