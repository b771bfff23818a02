//! `--public-market-data`, both ways, against the real server with real HTTP and
//! WebSocket clients: off (the default), market data needs a token; on, market data
//! and `/ws/live` market channels answer without one, budgeted per client address,
//! while strategies, accounts, admin and `/ws/fo/stream` still need a token.

use optionhub::auth::{Role, Tier};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestApp;
use crate::common::token;
use crate::ws::{WsApp, connect, next_json, refused_status, start, subscribe};

const FREE_PER_MINUTE: u32 = 5;

async fn public(on: bool) -> TestApp {
    start(move |config| {
        config.auth.public_market_data = on;
        config.limits.default.free_per_minute = FREE_PER_MINUTE;
    })
    .await
}

async fn anonymous_get(server: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .expect("request")
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("JSON error");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_market_data_needs_a_token() {
    let server = public(false).await;
    let response = anonymous_get(&server, "/api/v2/market/underlyings").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, "unauthenticated");
    let addr = server.addr;
    let (status, _) =
        refused_status(tokio_tungstenite::connect_async(format!("ws://{addr}/ws/live")).await);
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_market_data_is_served_anonymously_and_budgeted_by_address() {
    let server = public(true).await;
    let response = anonymous_get(&server, "/api/v2/market/underlyings").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-ratelimit-limit"],
        FREE_PER_MINUTE.to_string().as_str(),
        "anonymous callers get the free budget"
    );
    let list: Value = response.json().await.expect("json");
    assert!(list.as_array().is_some_and(|a| !a.is_empty()), "{list}");

    // Everything else still needs a token.
    for path in ["/strategies", "/accounts", "/admin/plugins", "/status"] {
        let response = anonymous_get(&server, path).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // A bad token is refused, not ignored.
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/v2/market/underlyings", server.addr))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The address's budget runs out (one request spent above); a user's does not.
    let mut statuses = Vec::new();
    for _ in 0..FREE_PER_MINUTE {
        statuses.push(
            anonymous_get(&server, "/api/v2/market/underlyings")
                .await
                .status(),
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let viewer = token("vera", Role::Viewer, Tier::Free);
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/v2/market/underlyings", server.addr))
        .bearer_auth(&viewer)
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a user has a budget of its own"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_live_channels_need_no_token_but_strategies_and_fo_stream_do() {
    let server = public(true).await;
    let chains = server.chains().await;
    let addr = server.addr;
    let mut ws = connect(&format!("ws://{addr}/ws/live")).await;
    assert_eq!(next_json(&mut ws).await["type"], "welcome");
    let ack = subscribe(&mut ws, &[chains[0].as_str()]).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["channel"], chains[0].as_str());
    let refused = subscribe(&mut ws, &["strategy:1"]).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("unauthorized")),
        "{refused}"
    );
    let (status, body) =
        refused_status(tokio_tungstenite::connect_async(format!("ws://{addr}/ws/fo/stream")).await);
    assert_eq!(status, 401, "{body}");
    server.stop().await;
}
