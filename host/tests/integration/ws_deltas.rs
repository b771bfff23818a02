//! Chain deltas against the real server: two clients that subscribe at different times
//! and apply every delta by the README's rules hold the same chain whenever they are at
//! the same `seq`, and deltas carry far less than snapshots.

use serde_json::Value;

use crate::common::admin_token;
use crate::ws::{Ws, WsApp, next_json, open, start, subscribe};

/// A client's copy of one chain channel.
struct Follower {
    ws: Ws,
    seq: u64,
    chain: Value,
    delta_bytes: Vec<usize>,
    snapshot_bytes: usize,
}

impl Follower {
    async fn subscribe(mut ws: Ws, channel: &str) -> Self {
        assert_eq!(subscribe(&mut ws, &[channel]).await["type"], "ack");
        let snapshot = next_json(&mut ws).await;
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        Self {
            ws,
            seq: snapshot["seq"].as_u64().expect("seq"),
            snapshot_bytes: snapshot["data"].to_string().len(),
            chain: snapshot["data"].clone(),
            delta_bytes: Vec::new(),
        }
    }

    /// Reads the next data message and applies it.
    async fn advance(&mut self) {
        let message = next_json(&mut self.ws).await;
        let seq = message["seq"].as_u64().expect("seq");
        match message["type"].as_str() {
            Some("update") => {
                assert_eq!(message["kind"], "delta", "{message}");
                assert_eq!(message["prev_seq"].as_u64(), Some(self.seq), "{message}");
                self.delta_bytes.push(message["data"].to_string().len());
                optionhub::ws::apply_chain_patch(&mut self.chain, &message["data"]);
            }
            Some("snapshot") => self.chain = message["data"].clone(),
            other => panic!("unexpected {other:?}: {message}"),
        }
        self.seq = seq;
    }
}

/// The chain with every `null` removed (a missing key and a null mean the same).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_applying_deltas_agree_with_a_fresh_snapshot_at_every_seq() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let channel = chains[0].as_str();
    let token = admin_token();
    let mut early = Follower::subscribe(open(&server, "/ws/live", &token).await, channel).await;
    for _ in 0..5 {
        early.advance().await;
    }
    let mut late = Follower::subscribe(open(&server, "/ws/live", &token).await, channel).await;
    let mut compared = 0;
    while compared < 5 {
        if early.seq < late.seq {
            early.advance().await;
        } else if late.seq < early.seq {
            late.advance().await;
        } else {
            assert_eq!(
                without_nulls(&early.chain),
                without_nulls(&late.chain),
                "at seq {}",
                early.seq
            );
            compared += 1;
            early.advance().await;
            late.advance().await;
        }
    }
    let deltas = early.delta_bytes.len();
    assert!(deltas >= 5, "the early client followed by deltas");
    let mean = early.delta_bytes.iter().sum::<usize>() / deltas;
    assert!(
        mean * 2 < early.snapshot_bytes,
        "deltas carry changed fields only: mean {mean} B against a {} B snapshot",
        early.snapshot_bytes
    );
    server.stop().await;
}
