//! The `/ws/fo/stream` chain views against their REST routes, on the real server with
//! the bundled plugins: `summary:`, `strikes:` and `oi-change:` stream exactly what
//! `/fo/summary`, `/fo/strike-distribution` and `/fo/oi-change` answer with default
//! parameters: the same field names at every level and, at the same chain and Greeks
//! sequence numbers, the same values.

use std::time::{Duration, Instant};

use optionhub::config::FeedSourceConfig;
use serde_json::{Map, Value};

use crate::common::{TestApp, admin_token};
use crate::ws::{connect, next_json, subscribe};

/// NIFTY only, Greeks and OI plugins, publications every 100 ms, and slow ticks: the
/// chain stands still between them, so a WS frame and a REST answer taken just after it
/// often see the same sequence numbers.
async fn start() -> TestApp {
    TestApp::builder()
        .plugins(&["greeks-black76", "oi-analytics"])
        .configure(|config| {
            config.feed.underlyings = vec!["NIFTY".into()];
            config.ws.publish_interval = Duration::from_millis(100);
            if let FeedSourceConfig::Simulator { tick, .. } = &mut config.feed.source {
                *tick = Duration::from_millis(700);
            }
        })
        .start()
        .await
}

/// A chain (`UNDERLYING:YYYY-MM-DD`) whose summary answers, once its Greeks exist.
async fn ready_chain(server: &TestApp) -> String {
    let (_, underlyings) = server.get_json("/api/v2/market/underlyings").await;
    let underlying = &underlyings[0];
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let expiry = underlying["expiries"]
        .as_array()
        .expect("expiries")
        .iter()
        .filter_map(|e| e["date"].as_str())
        .find(|d| *d != today)
        .expect("a future expiry")
        .to_string();
    let name = underlying["name"].as_str().expect("name");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let path = format!("/fo/summary?underlying={name}&expiry={expiry}");
        let (status, body) = server.get_json(&path).await;
        if status == 200 {
            return format!("{name}:{expiry}");
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "no Greeks: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `a` and `b` have the same field names at every level: objects key by key,
/// arrays element by element (an empty array fits any), scalars alike (null included,
/// as an optional number may be either). `Err` names the first difference.
fn same_shape(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            if keys(x) != keys(y) {
                return Err(format!("{at}: keys {:?} vs {:?}", keys(x), keys(y)));
            }
            x.iter()
                .try_for_each(|(k, v)| same_shape(v, &y[k], &format!("{at}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) => match (x.first(), y.first()) {
            (Some(p), Some(q)) => same_shape(p, q, &format!("{at}[0]")),
            _ => Ok(()),
        },
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            Err(format!("{at}: {a} vs {b}"))
        }
        _ => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_stream_views_are_the_rest_answers() {
    let server = start().await;
    let chain = ready_chain(&server).await;
    let (underlying, expiry) = chain.split_once(':').expect("chain");
    let query = format!("underlying={underlying}&expiry={expiry}");
    let views = [
        ("summary", format!("/fo/summary?{query}")),
        ("strikes", format!("/fo/strike-distribution?{query}")),
        ("oi-change", format!("/fo/oi-change?{query}")),
    ];
    let url = format!("ws://{}/ws/fo/stream?token={}", server.addr, admin_token());
    let mut ws = connect(&url).await;
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let channels: Vec<String> = views
        .iter()
        .map(|(prefix, _)| format!("{prefix}:{chain}"))
        .collect();
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    let ack = subscribe(&mut ws, &names).await;
    assert_eq!(ack["subscribed"], 3, "{ack}");

    let mut shaped = [false; 3];
    let mut equal = [false; 3];
    let deadline = Instant::now() + Duration::from_secs(60);
    while equal.iter().any(|done| !done) {
        assert!(
            Instant::now() < deadline,
            "shapes checked {shaped:?}, equal at one seq {equal:?}"
        );
        let message = next_json(&mut ws).await;
        if message["type"] != "snapshot" && message["type"] != "update" {
            continue;
        }
        let Some(i) = channels
            .iter()
            .position(|c| message["channel"] == c.as_str())
        else {
            panic!("a frame of a channel not subscribed: {message}");
        };
        let data = &message["data"];
        let (status, answer) = server.get_json(&views[i].1).await;
        assert_eq!(status, 200, "{answer}");
        if let Err(difference) = same_shape(data, &answer, &channels[i]) {
            panic!("WS and REST differ: {difference}");
        }
        shaped[i] = true;
        let same_input =
            data["seq"] == answer["seq"] && data["greeks"]["seq"] == answer["greeks"]["seq"];
        if same_input {
            assert_eq!(data, &answer, "{} at one seq", channels[i]);
            equal[i] = true;
        }
    }
    server.stop().await;
}
