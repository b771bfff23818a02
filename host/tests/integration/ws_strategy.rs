//! The `strategy:{id}` WebSocket channel on the real server: the owner gets a snapshot
//! of the latest M2M and then every valuation the worker makes, as sequenced updates;
//! anyone else's subscription is refused like an unknown channel (no hint that the id
//! exists), and the connection stays usable.

use optionhub::auth::Role;
use serde_json::json;

use crate::portfolio::{Client, atm_contracts, is_money, start};
use crate::ws::{connect, next_json, subscribe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_stream_their_strategy_m2m_and_others_are_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path()).await;
    let owner = Client::new(&server, "ws-owner", Role::Trader);
    let (call, _) = atm_contracts(&owner).await;
    let (status, strategy) = owner
        .post(
            "/strategies",
            &json!({"name": "live", "underlying": "NIFTY"}),
        )
        .await;
    assert_eq!(status, 201, "{strategy}");
    let id = strategy["id"].as_i64().expect("id");
    let leg = json!({"security_id": call, "side": "buy", "lots": 1, "entry_price": "100.05"});
    let (status, body) = owner
        .post(&format!("/strategies/{id}/instruments"), &leg)
        .await;
    assert_eq!(status, 201, "{body}");

    let url = |token: &str| format!("ws://{}/ws/live?token={token}", server.addr);
    let channel = format!("strategy:{id}");
    let mut ws = connect(&url(&owner.token)).await;
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let ack = subscribe(&mut ws, &[&channel]).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["channel"], channel.as_str());
    assert_eq!(snapshot["data"]["strategy_id"], id);
    assert!(is_money(&snapshot["data"]["m2m"]), "{snapshot}");
    let mut last = snapshot["seq"].as_u64().expect("seq");
    for _ in 0..2 {
        let update = next_json(&mut ws).await;
        assert_eq!(update["type"], "update", "{update}");
        assert_eq!(update["kind"], "full");
        assert_eq!(update["prev_seq"].as_u64(), Some(last));
        assert!(is_money(&update["data"]["m2m"]), "{update}");
        last = update["seq"].as_u64().expect("seq");
    }

    let stranger = Client::new(&server, "ws-stranger", Role::Trader);
    let mut theirs = connect(&url(&stranger.token)).await;
    assert_eq!(next_json(&mut theirs).await["type"], "welcome");
    for name in [channel.as_str(), "strategy:999999"] {
        let refused = subscribe(&mut theirs, &[name]).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["code"], "unknown_channel");
    }
    // Still usable.
    let pong = {
        crate::ws::send(&mut theirs, json!({"action": "ping"})).await;
        next_json(&mut theirs).await
    };
    assert_eq!(pong["type"], "pong");
    server.stop().await;
}
