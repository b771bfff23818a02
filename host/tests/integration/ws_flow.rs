//! WebSocket flow control against the real server: a client that stops reading is
//! conflated and then disconnected with 4008 while a normal client keeps receiving; a
//! client that falls behind skips the conflated seqs with a catch-up delta from its
//! last seq or a snapshot, never a delta it cannot apply; a silent client is closed
//! with 4012 while a live one is kept.
//!
//! Slow clients use a tiny TCP receive window, so the server's writes stall quickly.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::common::TestApp;
use crate::common::admin_token;
use crate::ws::{WsApp, connect, next_json, open, send, start, subscribe};

/// The tests that watch process-wide counters (`/metrics`) run one at a time, so one
/// test's slow client does not move another's.
static COUNTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Sum of a metric's series in the server's `/metrics`.
async fn metric(server: &TestApp, name: &str) -> f64 {
    let url = format!("http://{}/metrics", server.addr);
    let text = reqwest::get(url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A client whose socket has a tiny receive buffer.
async fn narrow_client(server: &TestApp, path: &str) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let stream = socket.connect(server.addr).await.expect("connect");
    let url = server.ws_url(path, &admin_token());
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("handshake");
    ws
}

/// Reads until a close frame arrives (skipping everything else), within `limit`.
pub(crate) async fn close_frame<S>(ws: &mut WebSocketStream<S>, limit: Duration) -> CloseFrame
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let until = Instant::now() + limit;
    loop {
        let next = tokio::time::timeout_at(until, ws.next()).await;
        match next.expect("a close frame in time") {
            Some(Ok(Message::Close(Some(frame)))) => return frame,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Data messages read within `window` (a short read on a socket that keeps working).
async fn read_for<S>(ws: &mut WebSocketStream<S>, window: Duration) -> Vec<Value>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let until = Instant::now() + window;
    let mut messages = Vec::new();
    while let Ok(message) = tokio::time::timeout_at(until, next_json(ws)).await {
        messages.push(message);
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_while_others_keep_receiving() {
    let _counters = COUNTERS.lock().await;
    let server = start(|config| {
        config.ws.queue_bytes = 16 << 10;
        config.ws.write_deadline = Duration::from_secs(2);
        config.ws.publish_interval = Duration::from_millis(50);
    })
    .await;
    let chains = server.chains().await;
    let before = metric(&server, "ws_slow_disconnects_total").await;
    let mut normal = open(&server, "/ws/live", &admin_token()).await;
    assert_eq!(subscribe(&mut normal, &[&chains[0]]).await["type"], "ack");
    let mut slow = narrow_client(&server, "/ws/live").await;
    send(
        &mut slow,
        json!({"action": "subscribe", "channels": chains}),
    )
    .await;

    let give_up = Instant::now() + Duration::from_secs(60);
    let mut received = 0;
    while metric(&server, "ws_slow_disconnects_total").await <= before {
        received += read_for(&mut normal, Duration::from_millis(200))
            .await
            .len();
        assert!(
            Instant::now() < give_up,
            "the slow client was never disconnected"
        );
    }
    // The slow client now drains what was in flight and finds the close frame.
    let frame = close_frame(&mut slow, Duration::from_secs(10)).await;
    assert_eq!(u16::from(frame.code), optionhub::ws::SLOW_CONSUMER);
    assert_eq!(frame.reason.as_str(), "slow consumer");
    // The normal client was served throughout and still is.
    assert!(received > 5, "normal client got only {received} messages");
    let later = read_for(&mut normal, Duration::from_secs(1)).await;
    assert!(
        later
            .iter()
            .any(|m| m["type"] == "update" || m["type"] == "snapshot"),
        "normal client still receives: {later:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_catches_up_never_with_a_delta_it_cannot_apply() {
    let _counters = COUNTERS.lock().await;
    let server = start(|config| {
        config.ws.queue_bytes = 32 << 10;
        config.ws.write_deadline = Duration::from_secs(60);
        config.ws.publish_interval = Duration::from_millis(50);
    })
    .await;
    let chains = server.chains().await;
    let dropped_before = metric(&server, "ws_messages_dropped_total").await;
    let mut ws = narrow_client(&server, "/ws/live").await;
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let names: Vec<&str> = chains.iter().map(String::as_str).collect();
    assert_eq!(subscribe(&mut ws, &names).await["type"], "ack");

    let mut last: HashMap<String, u64> = HashMap::new();
    let mut gaps = 0;
    let mut check = |messages: Vec<Value>| {
        for message in messages {
            if message["type"] == "ack" {
                continue;
            }
            let channel = message["channel"].as_str().expect("channel").to_string();
            let seq = message["seq"].as_u64().expect("seq");
            let previous = last.get(&channel).copied();
            match message["type"].as_str() {
                Some("update") => {
                    assert_eq!(
                        message["prev_seq"].as_u64(),
                        previous,
                        "an update applies on top of the last message of {channel}"
                    );
                    // A catch-up delta covers every seq the client missed.
                    if previous.is_some_and(|p| seq > p + 1) {
                        gaps += 1;
                    }
                }
                Some("snapshot") => {
                    if let Some(previous) = previous {
                        // A re-subscribe re-sends the current frame: same seq or later.
                        assert!(seq >= previous);
                        if seq > previous + 1 {
                            gaps += 1;
                        }
                    }
                }
                other => panic!("unexpected {other:?}: {message}"),
            }
            last.insert(channel, seq);
        }
    };
    check(read_for(&mut ws, Duration::from_secs(1)).await);
    // Stop reading: the server's writes stall, the channels publish on. Deltas alone
    // (a few hundred bytes) would take many seconds to fill the loopback socket
    // buffers (megabytes); re-subscribing re-sends each chain's snapshot (tens of KB),
    // which fills them in a second or two.
    let resync = json!({"action": "subscribe", "channels": chains});
    for _ in 0..16 {
        send(&mut ws, resync.clone()).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    check(read_for(&mut ws, Duration::from_secs(3)).await);
    assert!(
        gaps > 0,
        "after falling behind, the client skips the conflated seqs (catch-up delta or snapshot)"
    );
    assert!(metric(&server, "ws_messages_dropped_total").await > dropped_before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_close_a_silent_client_and_keep_a_live_one() {
    let server = start(|config| {
        config.ws.heartbeat = Duration::from_millis(300);
    })
    .await;
    // Never reads, so never answers the server's pings.
    let mut silent = narrow_client(&server, "/ws/live").await;
    // Reads, so tungstenite answers the pings.
    let mut live = connect(&server.ws_url("/ws/live", &admin_token())).await;
    let messages = read_for(&mut live, Duration::from_secs(2)).await;
    assert_eq!(
        messages.first().map(|w| w["type"].clone()),
        Some(json!("welcome"))
    );

    let frame = close_frame(&mut silent, Duration::from_secs(5)).await;
    assert_eq!(u16::from(frame.code), optionhub::ws::HEARTBEAT_TIMEOUT);
    assert_eq!(frame.reason.as_str(), "heartbeat timeout");

    send(&mut live, json!({"action": "ping"})).await;
    assert_eq!(next_json(&mut live).await["type"], "pong");
    server.stop().await;
}
