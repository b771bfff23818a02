//! HTTP fair use, against the real server: login has a budget per user name beside the
//! one per address; `X-Forwarded-For` is believed only from trusted proxies; password
//! checks queue behind a bounded number of permits; a request past its deadline (30 s,
//! uploads 120 s by default) is answered 503 `request_timeout`; and a request refused
//! before its body was read leaves its keep-alive connection usable, or clearly closed.

use std::net::SocketAddr;
use std::time::Duration;

use optionhub::auth::{Role, Tier, hash_password};
use optionhub::config::TrustedProxies;
use optionhub::server::RunningServer;
use optionhub::store::NewUser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::common::TestApp;
use crate::common::{admin_token, token};

async fn add_user(running: &RunningServer, name: &str, password: &str) {
    let hash = hash_password(password).expect("hash");
    running
        .state
        .store
        .users()
        .add(NewUser {
            username: name,
            role: Role::Viewer,
            tier: Tier::Free,
            password_hash: Some(&hash),
        })
        .await
        .expect("add user");
}

/// One login attempt, claiming to come from `forwarded_for`; status and error code.
async fn login(
    client: &reqwest::Client,
    running: &RunningServer,
    user: &str,
    password: &str,
    forwarded_for: &str,
) -> (StatusCode, Option<String>) {
    let response = client
        .post(format!("http://{}/auth/login", running.addr))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().map(String::from))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_limited_per_user_name_from_any_address() {
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| {
            config.server.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").expect("cidr");
            config.limits.login_per_minute = 100;
            config.limits.login_per_user_per_minute = 3;
        })
        .start()
        .await;
    add_user(&running, "vera", "vera-password").await;
    let client = reqwest::Client::new();
    // Each guess from a fresh address, as a botnet would.
    for i in 0..3 {
        let (status, _) = login(&client, &running, "vera", "guess", &format!("10.0.0.{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, code) = login(&client, &running, "vera", "vera-password", "10.0.1.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code.as_deref(), Some("rate_limited"));
    // Another name is unaffected.
    let (status, _) = login(&client, &running, "bob", "guess", "10.0.1.2").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    for trusted in [false, true] {
        let running = TestApp::builder()
            .no_plugins()
            .configure(move |config| {
                if trusted {
                    config.server.trusted_proxies =
                        TrustedProxies::parse("127.0.0.0/8").expect("cidr");
                }
                config.limits.login_per_minute = 2;
                config.limits.login_per_user_per_minute = 100;
            })
            .start()
            .await;
        let client = reqwest::Client::new();
        for _ in 0..2 {
            let (status, _) = login(&client, &running, "x", "guess", "10.0.0.1").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _) = login(&client, &running, "x", "guess", "10.0.0.1").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "trusted: {trusted}");
        // Another claimed address: a new budget only when a trusted proxy says so.
        let (status, _) = login(&client, &running, "x", "guess", "1.2.3.4, 10.0.0.2").await;
        let expected = if trusted {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(status, expected, "trusted: {trusted}");
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_wait_for_a_free_permit() {
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| {
            config.limits.password_hash_concurrency = 1;
        })
        .start()
        .await;
    add_user(&running, "vera", "vera-password").await;
    let checks = running.state.limits.password_checks();
    let held = checks.hold().await.expect("permit");
    let pending = {
        let url = format!("http://{}/auth/login", running.addr);
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"username": "vera", "password": "vera-password"}))
                .send()
                .await
                .expect("login")
                .status()
        })
    };
    let until = Instant::now() + Duration::from_secs(10);
    while checks.waiting() == 0 {
        assert!(
            Instant::now() < until,
            "the login never queued for a permit"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!pending.is_finished(), "the login hashed without a permit");
    drop(held);
    assert_eq!(pending.await.expect("task"), StatusCode::OK);
    running.stop().await;
}

/// Sends `head` and the first bytes of a body that never completes; the status, the
/// JSON body and how long the answer took.
async fn trickle(addr: SocketAddr, head: &str) -> (u16, Value, Duration) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(b"{\"usern").await.expect("some body");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("an answer, then the connection closed")
        .expect("read");
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_answered_503() {
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| {
            config.server.request_timeout = Duration::from_secs(1);
            config.server.upload_timeout = Duration::from_secs(4);
        })
        .start()
        .await;
    let login = "POST /auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: 1000\r\n\r\n";
    let (status, body, elapsed) = trickle(running.addr, login).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");

    let upload = format!(
        "POST /admin/plugins HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         content-type: application/wasm\r\ncontent-length: 100000\r\n\r\n",
        admin_token()
    );
    let (status, body, elapsed) = trickle(running.addr, &upload).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    assert!(
        elapsed >= Duration::from_millis(3900),
        "uploads have the longer deadline: {elapsed:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_refused_before_its_body_is_read_leaves_the_connection_usable() {
    let running = TestApp::builder().no_plugins().start().await;
    let base = running.base().to_owned();
    // One idle connection kept: every request after the first reuses it if it can.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("client");
    let viewer = token("vic", Role::Viewer, Tier::Free);
    let admin = admin_token();
    let refusals = [
        // 403: a viewer is not an admin.
        ("/admin/plugins", Some(viewer.as_str()), 512 << 10, 403),
        // 401: no token.
        ("/admin/plugins", None, 512 << 10, 401),
        // 413: over the 256 KiB body cap of the other routes.
        (
            "/api/v2/strategies/evaluate",
            Some(admin.as_str()),
            600 << 10,
            413,
        ),
        // Larger than is worth draining: closed, and said so.
        ("/admin/plugins", Some(viewer.as_str()), 4 << 20, 403),
    ];
    for round in 0..15 {
        for (path, bearer, size, status) in refusals {
            let mut request = client
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .body(vec![0u8; size]);
            if let Some(bearer) = bearer {
                request = request.bearer_auth(bearer);
            }
            let refused = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}, {path} ({size} B): {e:?}"));
            assert_eq!(refused.status().as_u16(), status, "round {round}, {path}");
            let next = client
                .get(format!("{base}/health"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("round {round}, after {path} ({size} B): {e:?}"));
            assert_eq!(next.status(), 200);
        }
    }
    running.stop().await;
}

/// Reads one HTTP/1.1 answer with a `content-length` body: its status and head.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> Option<(u16, String)> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buffer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buffer).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_survives_an_early_refusal_of_a_slow_body() {
    let running = TestApp::builder().no_plugins().start().await;
    let viewer = token("vic", Role::Viewer, Tier::Free);
    let cases = [
        (
            "/admin/plugins",
            format!("authorization: Bearer {viewer}\r\n"),
            403,
        ),
        ("/admin/plugins", String::new(), 401),
        (
            "/api/v2/strategies/evaluate",
            format!("authorization: Bearer {}\r\n", admin_token()),
            413,
        ),
    ];
    const BODY: usize = 600 << 10;
    for round in 0..3 {
        for (path, auth, status) in &cases {
            let mut stream = tokio::net::TcpStream::connect(running.addr)
                .await
                .expect("connect");
            let head = format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\n{auth}content-type: application/json\r\n\
                 content-length: {BODY}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await.expect("head");
            // Half the body, then the answer arrives before the rest is sent, as on a
            // slow uplink.
            stream.write_all(&[b' '; BODY / 2]).await.expect("half");
            let (refused, answer_head) =
                tokio::time::timeout(Duration::from_secs(10), read_answer(&mut stream))
                    .await
                    .expect("an early answer")
                    .expect("an answer");
            assert_eq!(refused, *status, "round {round}, {path}");
            assert!(
                !answer_head.contains("connection: close"),
                "round {round}, {path}: {answer_head}"
            );
            stream.write_all(&[b' '; BODY / 2]).await.expect("the rest");
            stream
                .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .expect("second request");
            let second = tokio::time::timeout(Duration::from_secs(10), read_answer(&mut stream))
                .await
                .expect("the second answer in time");
            assert_eq!(
                second.map(|(status, _)| status),
                Some(200),
                "round {round}: the connection was dropped after {path}"
            );
        }
    }
    running.stop().await;
}
