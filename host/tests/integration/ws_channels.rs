//! WebSocket channels beyond plain chains, against the real server: the per-tier cap
//! on channels per connection, which endpoint serves which channel, and instrument
//! channels. The `/ws/fo/stream` views are checked against their REST routes in
//! `ws_fo_views`.

use optionhub::auth::{Role, Tier};

use crate::common::{admin_token, token};
use crate::ws::{WsApp, next_json, open, start, subscribe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_per_connection_are_capped_by_tier() {
    let server = start(|config| {
        config.limits.ws_channels_free = 2;
        config.limits.ws_channels_pro = 3;
    })
    .await;
    let chains = server.chains().await;
    assert!(chains.len() >= 3, "the simulator has several underlyings");
    let three: Vec<&str> = chains.iter().take(3).map(String::as_str).collect();

    let free = token("free-user", Role::Viewer, Tier::Free);
    let mut ws = open(&server, "/ws/live", &free).await;
    let error = subscribe(&mut ws, &three).await;
    assert_eq!(error["code"], "too_many_channels", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may hold 2")
    );
    let ack = subscribe(&mut ws, &three[..2]).await;
    assert_eq!(ack["subscribed"], 2, "{ack}");
    // Subscribing again to a held channel is not a new channel (it re-sends a snapshot).
    let again = subscribe(&mut ws, &three[..1]).await;
    assert_eq!(
        (again["type"].as_str(), again["subscribed"].as_u64()),
        (Some("ack"), Some(2))
    );
    let error = subscribe(&mut ws, &three[2..]).await;
    assert_eq!(error["code"], "too_many_channels", "{error}");

    let pro = token("pro-user", Role::Viewer, Tier::Pro);
    let mut ws = open(&server, "/ws/live", &pro).await;
    assert_eq!(subscribe(&mut ws, &three).await["subscribed"], 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instrument_channels_stream_their_views_on_their_endpoint() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let channel = chains[0].as_str();
    let rest = server.rest_chain(channel).await;
    let mut fo = open(&server, "/ws/fo/stream", &admin_token()).await;
    // Chains belong to /ws/live, views to /ws/fo/stream.
    assert_eq!(
        subscribe(&mut fo, &[channel]).await["code"],
        "wrong_endpoint"
    );

    let row = rest["strikes"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["call"]["security_id"].is_u64()))
        .expect("a strike with a call");
    let id = row["call"]["security_id"].as_u64().expect("id");
    let mut live = open(&server, "/ws/live", &admin_token()).await;
    let instrument = format!("instrument:{id}");
    assert_eq!(subscribe(&mut live, &[&instrument]).await["type"], "ack");
    let snapshot = next_json(&mut live).await;
    assert_eq!(snapshot["data"]["security_id"].as_u64(), Some(id));
    assert_eq!(snapshot["data"]["kind"], "option");
    assert_eq!(snapshot["data"]["right"], "call");
    assert_eq!(snapshot["data"]["strike"], row["strike"]);
    assert_eq!(
        subscribe(&mut live, &["instrument:4294967295"]).await["code"],
        "unknown_channel"
    );
    server.stop().await;
}
