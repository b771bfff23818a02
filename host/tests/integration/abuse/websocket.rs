//! WebSocket fair use, against the real server: a user's connections are capped by
//! tier (429 `too_many_connections`), upgrades spend the request budget, a client over
//! its message budget gets `rate_limited` errors and then a 1008 close, a request names
//! at most 100 channels (duplicates counted once) and is refused by the tier's channel
//! cap before any strategy is looked up, and a session whose token expires or whose
//! user is deleted or demoted is closed with 4001 at the next heartbeat.

use std::time::Duration;

use futures_util::SinkExt;
use optionhub::auth::{Principal, Role, Tier};
use optionhub::store::NewUser;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::common::TestApp;
use crate::common::{token, token_service};
use crate::ws::{WsApp, next_control, open, refused_status, send, start, subscribe};
use crate::ws_flow::close_frame;

/// Connects `token` to `/ws/live`, or answers the refusal's status and body.
async fn try_connect(server: &TestApp, token: &str) -> Result<crate::ws::Ws, (u16, Value)> {
    match tokio_tungstenite::connect_async(server.ws_url("/ws/live", token)).await {
        Ok((ws, _)) => Ok(ws),
        Err(error) => Err(refused_status(Err::<(), _>(error))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_beyond_the_connection_cap_is_refused_with_429() {
    let server = start(|config| {
        config.limits.ws_connections_free = 2;
        config.limits.ws_connections_pro = 3;
    })
    .await;
    let free = token("capped-free", Role::Viewer, Tier::Free);
    let first = open(&server, "/ws/live", &free).await;
    let _second = open(&server, "/ws/live", &free).await;
    let (status, body) = try_connect(&server, &free)
        .await
        .expect_err("a third free connection is refused");
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "too_many_connections", "{body}");
    // Another user, and the pro tier's larger cap, are unaffected.
    let pro = token("capped-pro", Role::Viewer, Tier::Pro);
    let mut pros = Vec::new();
    for _ in 0..3 {
        pros.push(open(&server, "/ws/live", &pro).await);
    }
    assert_eq!(
        try_connect(&server, &pro).await.err().map(|e| e.0),
        Some(429)
    );

    // A closed connection gives its slot back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_connect(&server, &free).await {
            Ok(_) => break,
            Err((429, _)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("the slot did not come back: {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_spend_the_request_budget() {
    let server = start(|config| {
        config.limits.default.free_per_minute = 3;
        config.limits.ws_connections_free = 100;
    })
    .await;
    let free = token("reconnector", Role::Viewer, Tier::Free);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(open(&server, "/ws/live", &free).await);
    }
    let (status, body) = try_connect(&server, &free)
        .await
        .expect_err("the fourth upgrade in a minute is over the budget");
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_message_budget_gets_errors_then_a_1008_close() {
    let server = start(|config| {
        config.ws.client_messages_per_sec = 1;
        config.ws.client_message_burst = 5;
    })
    .await;
    let mut ws = open(
        &server,
        "/ws/live",
        &token("chatty", Role::Viewer, Tier::Pro),
    )
    .await;
    let ping = || Message::Text(json!({"action": "ping"}).to_string().into());
    // The burst is answered (the welcome spent nothing).
    for _ in 0..5 {
        ws.send(ping()).await.expect("send");
        assert_eq!(next_control(&mut ws).await["type"], "pong");
    }
    // Then a message is refused, not acted on (a refill may let one more through).
    let mut refused = None;
    for _ in 0..3 {
        ws.send(ping()).await.expect("send");
        let answer = next_control(&mut ws).await;
        if answer["type"] == "error" {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("a refusal");
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    // A client that keeps going is closed.
    for _ in 0..40 {
        if ws.send(ping()).await.is_err() {
            break;
        }
    }
    let close = close_frame(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(u16::from(close.code), 1008, "{close:?}");
    assert_eq!(close.reason.as_str(), "message rate exceeded");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_names_at_most_100_channels_and_duplicates_count_once() {
    let server = start(|_| {}).await;
    let chain = server.chains().await.into_iter().next().expect("a chain");
    let mut ws = open(
        &server,
        "/ws/live",
        &token("lister", Role::Viewer, Tier::Pro),
    )
    .await;
    let many: Vec<String> = (1..=101).map(|i| format!("instrument:{i}")).collect();
    send(
        &mut ws,
        json!({"action": "subscribe", "channels": many, "id": 1}),
    )
    .await;
    let refused = next_control(&mut ws).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("too_many_names")),
        "{refused}"
    );
    assert_eq!(refused["id"], 1);
    // A hundred copies of one chain, in two spellings, are one channel.
    let mut copies: Vec<String> = vec![chain.clone(); 50];
    copies.extend(std::iter::repeat_n(chain.to_lowercase(), 50));
    let ack = subscribe(
        &mut ws,
        &copies.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["channels"], json!([chain]));
    assert_eq!(ack["subscribed"], 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_cap_refuses_before_any_strategy_is_looked_up() {
    let server = start(|config| config.limits.ws_channels_free = 2).await;
    let mut ws = open(
        &server,
        "/ws/live",
        &token("hoarder", Role::Trader, Tier::Free),
    )
    .await;
    // None of these strategies exists: looking them up would answer `unknown_channel`.
    let answer = subscribe(&mut ws, &["strategy:1", "strategy:2", "strategy:3"]).await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "too_many_channels", "{answer}");
    // Within the cap, the lookup happens and says so.
    let answer = subscribe(&mut ws, &["strategy:1"]).await;
    assert_eq!(answer["code"], "unknown_channel", "{answer}");
    server.stop().await;
}

/// Reads `ws` (answering the server's pings) until its close frame; asserts 4001 and
/// answers the reason.
fn revoked_reason(mut ws: crate::ws::Ws) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let frame = close_frame(&mut ws, Duration::from_secs(15)).await;
        assert_eq!(
            u16::from(frame.code),
            optionhub::ws::ACCESS_REVOKED,
            "{frame:?}"
        );
        frame.reason.to_string()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_with_4001_when_the_token_expires_or_the_user_loses_access() {
    let server = start(|config| {
        config.ws.heartbeat = Duration::from_millis(300);
        config.auth.leeway = Duration::ZERO;
    })
    .await;
    let users = server.state.store.users();
    for name in ["demoted-dora", "deleted-dee", "steady-sam"] {
        users
            .add(NewUser {
                username: name,
                role: Role::Trader,
                tier: Tier::Pro,
                password_hash: None,
            })
            .await
            .expect("add user");
    }

    // A token with three seconds left.
    let service = token_service();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::try_from(service.ttl().as_secs()).expect("ttl");
    let short = service
        .issue_at(
            &Principal {
                user: "steady-sam".into(),
                role: Role::Viewer,
                tier: Tier::Free,
            },
            now - ttl + 3,
        )
        .expect("token");
    let expiring = revoked_reason(open(&server, "/ws/live", &short).await);
    let demoted = open(
        &server,
        "/ws/live",
        &token("demoted-dora", Role::Trader, Tier::Pro),
    )
    .await;
    let deleted = open(
        &server,
        "/ws/live",
        &token("deleted-dee", Role::Trader, Tier::Pro),
    )
    .await;
    let (demoted, deleted) = (revoked_reason(demoted), revoked_reason(deleted));
    // A session whose access is unchanged keeps working across many heartbeats.
    let mut steady = open(
        &server,
        "/ws/live",
        &token("steady-sam", Role::Trader, Tier::Pro),
    )
    .await;
    let steady = tokio::spawn(async move {
        for _ in 0..25 {
            send(&mut steady, json!({"action": "ping"})).await;
            assert_eq!(next_control(&mut steady).await["type"], "pong");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    users
        .update("demoted-dora", Role::Trader, Tier::Free, None)
        .await
        .expect("demote");
    sqlx::query("DELETE FROM users WHERE username = $1")
        .bind("deleted-dee")
        .execute(server.state.store.pool())
        .await
        .expect("delete");
    assert_eq!(demoted.await.expect("reader"), "access reduced");
    assert_eq!(deleted.await.expect("reader"), "user deleted");
    assert_eq!(expiring.await.expect("reader"), "token expired");

    steady.await.expect("the steady session stays open");
    server.stop().await;
}
