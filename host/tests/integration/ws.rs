//! The WebSocket API against the real server on the simulated feed, with a real
//! tokio-tungstenite client: authentication before the upgrade, the request/reply
//! protocol, snapshots then sequenced updates, and unsubscribe. Channel caps and the
//! analytics and instrument channels are in `ws_channels`; flow control (slow
//! consumers, conflation, heartbeats) is in `ws_flow`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use optionhub::auth::{Role, Tier};
use optionhub::config::Config;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{TestApp, admin_token, token};

/// What the WebSocket tests ask of a server beyond [`TestApp`]'s own.
pub(crate) trait WsApp {
    /// `ws://…path?token=…`.
    fn ws_url(&self, path: &str, token: &str) -> String;
    /// `UNDERLYING:YYYY-MM-DD` of the current expiry of every underlying.
    async fn chains(&self) -> Vec<String>;
    /// The REST live chain of a channel.
    async fn rest_chain(&self, channel: &str) -> Value;
}

impl WsApp for TestApp {
    fn ws_url(&self, path: &str, token: &str) -> String {
        format!("ws://{}{path}?token={token}", self.addr)
    }

    async fn chains(&self) -> Vec<String> {
        let (status, list) = self.get_json("/api/v2/market/underlyings").await;
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .expect("array")
            .iter()
            .filter_map(|u| {
                let date = u["expiries"][0]["date"].as_str()?;
                Some(format!("{}:{date}", u["name"].as_str()?))
            })
            .collect()
    }

    async fn rest_chain(&self, channel: &str) -> Value {
        let (underlying, expiry) = channel.split_once(':').expect("chain channel");
        let path = format!("/api/v2/options/live?underlying={underlying}&expiry={expiry}");
        let (status, chain) = self.get_json(&path).await;
        assert_eq!(status, 200, "{chain}");
        chain
    }
}

/// Starts a server on the simulator (no plugins, publications every 100 ms), with
/// `tweak` applied to its configuration.
pub(crate) async fn start(tweak: impl FnOnce(&mut Config) + 'static) -> TestApp {
    TestApp::builder()
        .no_plugins()
        .configure(|config| config.ws.publish_interval = Duration::from_millis(100))
        .configure(tweak)
        .start()
        .await
}

/// A client socket.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    ws
}

pub(crate) async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    value: Value,
) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .expect("send");
}

/// The next JSON message, skipping pings and pongs; panics on close or after 10 s.
pub(crate) async fn next_json<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("readable");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON message"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// Connects, checks the welcome, returns the socket.
pub(crate) async fn open(server: &TestApp, path: &str, token: &str) -> Ws {
    let mut ws = connect(&server.ws_url(path, token)).await;
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

/// The next message that is not channel data (an ack, error, pong).
pub(crate) async fn next_control<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
) -> Value {
    loop {
        let message = next_json(ws).await;
        if message["type"] != "snapshot" && message["type"] != "update" {
            return message;
        }
    }
}

/// Subscribes and returns the answer (ack or error).
pub(crate) async fn subscribe<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    channels: &[&str],
) -> Value {
    send(ws, json!({"action": "subscribe", "channels": channels})).await;
    next_control(ws).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_gives_ack_then_snapshot_then_updates_in_sequence() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let channel = chains[0].as_str();
    let mut ws = open(&server, "/ws/live", &admin_token()).await;
    // Any case is accepted; the ack names the canonical channel.
    let ack = subscribe(&mut ws, &[&channel.to_lowercase()]).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["channels"], json!([channel]));
    assert_eq!(ack["subscribed"], 1);

    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["channel"], channel);
    assert!(snapshot["server_ts_ms"].as_i64().is_some_and(|t| t > 0));
    // The same shape as the REST live chain.
    let rest = server.rest_chain(channel).await;
    let data = &snapshot["data"];
    assert_eq!(data["underlying"], rest["underlying"]);
    assert_eq!(data["expiry"], rest["expiry"]);
    assert_eq!(
        data["strikes"].as_array().map(Vec::len),
        rest["strikes"].as_array().map(Vec::len)
    );
    let strikes = data["strikes"].as_array().map_or(0, Vec::len);
    assert!(strikes > 0);

    let mut last = snapshot["seq"].as_u64().expect("seq");
    let mut deltas = 0;
    while deltas < 5 {
        let message = next_json(&mut ws).await;
        let seq = message["seq"].as_u64().expect("seq");
        assert!(seq > last, "seq goes up: {seq} after {last}");
        assert!(message["server_ts_ms"].as_i64().is_some_and(|t| t > 0));
        if message["type"] == "update" {
            assert_eq!(message["kind"], "delta");
            assert_eq!(message["prev_seq"].as_u64(), Some(last), "{message}");
            let changed = message["data"]["strikes"].as_array().map_or(0, Vec::len);
            assert!(changed <= strikes);
            assert!(message["data"]["seq"].as_u64().is_some());
            deltas += 1;
        } else {
            assert_eq!(message["type"], "snapshot", "{message}");
        }
        last = seq;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_errors_and_the_connection_survives() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let mut ws = open(&server, "/ws/live", &admin_token()).await;

    ws.send(Message::Text("{not json".into()))
        .await
        .expect("send");
    let error = next_json(&mut ws).await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("invalid_json"))
    );

    send(&mut ws, json!({"action": "dance", "id": 3})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(error["code"], "unknown_action");
    assert_eq!(error["id"], 3);

    let error = subscribe(&mut ws, &["NOPE:2026-11-25"]).await;
    assert_eq!(error["code"], "unknown_channel", "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("valid underlyings") && message.contains("NIFTY"),
        "{message}"
    );

    let (underlying, _) = chains[0].split_once(':').expect("chain");
    let error = subscribe(&mut ws, &[&format!("{underlying}:1999-01-01")]).await;
    assert_eq!(error["code"], "unknown_channel");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("valid expiries")
    );

    // A request with one bad channel changes nothing.
    let error = subscribe(&mut ws, &[&chains[0], "garbage"]).await;
    assert_eq!(error["code"], "unknown_channel");

    let error = subscribe(&mut ws, &[&format!("summary:{}", chains[0])]).await;
    assert_eq!(error["code"], "wrong_endpoint");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/ws/fo/stream")
    );

    send(&mut ws, json!({"action": "ping", "id": "p1"})).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(
        (pong["type"].as_str(), pong["id"].as_str()),
        (Some("pong"), Some("p1"))
    );

    let ack = subscribe(&mut ws, &[&chains[0]]).await;
    assert_eq!(
        (ack["type"].as_str(), ack["subscribed"].as_u64()),
        (Some("ack"), Some(1))
    );
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    server.stop().await;
}

pub(crate) fn refused_status(
    result: Result<impl std::fmt::Debug, tungstenite::Error>,
) -> (u16, Value) {
    match result {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            )
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_invalid_tokens_are_refused_with_401_before_the_upgrade() {
    let server = start(|_| {}).await;
    let addr = server.addr;
    let (status, body) =
        refused_status(tokio_tungstenite::connect_async(format!("ws://{addr}/ws/live")).await);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, body) = refused_status(
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/fo/stream?token=not.a.jwt")).await,
    );
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_token");
    // A plain GET with a good token is told this is a WebSocket endpoint.
    let plain = crate::common::authed_get(format!("http://{addr}/ws/live"))
        .await
        .expect("get");
    assert_eq!(plain.status(), 426, "Upgrade Required");
    let body: Value = plain.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "websocket_required");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/ws/live") && m.contains("Upgrade: websocket")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_the_subprotocol_is_accepted_and_the_protocol_echoed() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let viewer = token("watcher", Role::Viewer, Tier::Free);
    let mut request = format!("ws://{}/ws/live", server.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {viewer}").parse().expect("header"),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects with the token as a subprotocol");
    assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
    let welcome = next_json(&mut ws).await;
    assert_eq!(
        (welcome["user"].as_str(), welcome["tier"].as_str()),
        (Some("watcher"), Some("free"))
    );
    assert_eq!(subscribe(&mut ws, &[&chains[0]]).await["type"], "ack");

    // The token alone as the subprotocol works too, and is echoed.
    let mut request = format!("ws://{}/ws/live", server.addr)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", viewer.parse().expect("header"));
    let (_, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        viewer.as_str()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_updates() {
    let server = start(|_| {}).await;
    let chains = server.chains().await;
    let hub = server.state.ws.clone();
    let mut ws = open(&server, "/ws/live", &admin_token()).await;
    subscribe(&mut ws, &[&chains[0]]).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    assert_eq!(next_json(&mut ws).await["type"], "update");
    // A second subscriber shares the channel's one publisher.
    let mut other = open(&server, "/ws/live", &admin_token()).await;
    subscribe(&mut other, &[&chains[0]]).await;
    assert_eq!(hub.active_channels(), 1);
    send(
        &mut ws,
        json!({"action": "unsubscribe", "channels": [chains[0]]}),
    )
    .await;
    // Updates already queued may precede the ack; none may follow it.
    let ack = loop {
        let message = next_json(&mut ws).await;
        if message["type"] == "ack" {
            break message;
        }
        assert_eq!(message["channel"], chains[0].as_str());
    };
    assert_eq!(
        (ack["action"].as_str(), ack["subscribed"].as_u64()),
        (Some("unsubscribe"), Some(0))
    );
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), next_json(&mut ws)).await;
    assert!(quiet.is_err(), "no message after unsubscribing: {quiet:?}");
    send(
        &mut ws,
        json!({"action": "unsubscribe", "channels": [chains[0]]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["code"], "not_subscribed");
    // The other subscriber still gets updates; when it leaves, the publisher stops.
    assert_eq!(hub.active_channels(), 1);
    assert!(next_json(&mut other).await["seq"].is_u64());
    drop(other);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    while hub.active_channels() > 0 {
        assert!(tokio::time::Instant::now() < give_up, "publisher stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}
