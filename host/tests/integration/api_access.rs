//! The public API's gatekeeping, against the real server on 127.0.0.1:0 with real HTTP:
//! login, tokens (expired, tampered, wrong role), rate limits and their headers, the
//! JSON error shape for everything a client can get wrong, docs served offline, metrics,
//! and plugin administration.

use std::path::Path;
use std::time::Duration;

use optionhub::auth::{Role, Tier, hash_password};
use optionhub::server::RunningServer;
use optionhub::store::NewUser;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::{admin_token, probe_v2, token, wasm};

/// Adds a free-tier viewer with a password, straight into the server's store.
async fn add_viewer(running: &RunningServer, username: &str, password: &str) {
    let hash = hash_password(password).expect("hash");
    running
        .state
        .store
        .users()
        .add(NewUser {
            username,
            role: Role::Viewer,
            tier: Tier::Free,
            password_hash: Some(&hash),
        })
        .await
        .expect("add user");
}

/// Asserts the API's error shape and returns the code.
async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("json error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_issues_tokens_that_open_the_routes_their_role_allows() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = TestApp::builder()
        .no_plugins()
        .data_dir(data.path())
        .start()
        .await;
    let base = running.base().to_owned();
    add_viewer(&running, "vera", "viewer-password").await;
    let client = reqwest::Client::new();

    // Anonymous: health and docs yes, data no.
    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("health")
            .status(),
        200
    );
    let anonymous = client
        .get(format!("{base}/api/v2/market/underlyings"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(anonymous).await, "unauthenticated");

    // Wrong password and unknown user look the same.
    for (user, password) in [("vera", "wrong-password"), ("nobody", "viewer-password")] {
        let refused = client
            .post(format!("{base}/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(refused.status(), 401);
        assert_eq!(error_code(refused).await, "invalid_credentials");
    }

    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": "vera", "password": "viewer-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["role"], "viewer");
    let access = login["access_token"].as_str().expect("token").to_string();

    let ok = client
        .get(format!("{base}/api/v2/market/underlyings"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-ratelimit-remaining"));

    // A viewer is not an admin: 403, not 401.
    let forbidden = client
        .get(format!("{base}/admin/plugins"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("request");
    assert_eq!(forbidden.status(), 403);
    assert_eq!(error_code(forbidden).await, "forbidden");
    // Strategies need the trader role.
    let forbidden = client
        .post(format!("{base}/api/v2/strategies/evaluate"))
        .bearer_auth(&access)
        .json(&json!({"legs": []}))
        .send()
        .await
        .expect("request");
    assert_eq!(forbidden.status(), 403);

    // Tampered (role raised in the payload, signature kept) and garbage tokens.
    let mut parts: Vec<String> = access.split('.').map(String::from).collect();
    let admin_parts: Vec<String> = admin_token().split('.').map(String::from).collect();
    parts[1] = admin_parts[1].clone();
    for bad in [parts.join("."), "garbage".to_string(), format!("{access}x")] {
        let refused = client
            .get(format!("{base}/admin/plugins"))
            .bearer_auth(&bad)
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), 401);
        assert_eq!(error_code(refused).await, "invalid_token");
    }

    // A token signed with another key.
    let foreign = optionhub::auth::TokenService::hs256(
        b"some-other-secret-some-other-secret!",
        optionhub::auth::TokenSettings {
            issuer: "optionhub".into(),
            audience: "optionhub-api".into(),
            ttl: Duration::from_secs(60),
            leeway: Duration::from_secs(1),
        },
    )
    .issue(&optionhub::auth::Principal {
        user: "mallory".into(),
        role: Role::Admin,
        tier: Tier::Pro,
    })
    .expect("issue");
    let refused = client
        .get(format!("{base}/status"))
        .bearer_auth(&foreign)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);

    // An expired token (issued two TTLs ago).
    let expired = running
        .state
        .tokens
        .issue_at(
            &optionhub::auth::Principal {
                user: "vera".into(),
                role: Role::Viewer,
                tier: Tier::Free,
            },
            time::OffsetDateTime::now_utc().unix_timestamp()
                - 2 * running.state.tokens.ttl().as_secs() as i64,
        )
        .expect("issue");
    let refused = client
        .get(format!("{base}/status"))
        .bearer_auth(&expired)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
    assert_eq!(error_code(refused).await, "token_expired");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_is_429_with_headers_and_the_login_route_is_stricter() {
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| {
            config.limits.default.free_per_minute = 3;
            config.limits.login_per_minute = 2;
        })
        .start()
        .await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let free = token("frank", Role::Viewer, Tier::Free);
    let pro = token("petra", Role::Viewer, Tier::Pro);
    for expected_remaining in ["2", "1", "0"] {
        let ok = client
            .get(format!("{base}/status"))
            .bearer_auth(&free)
            .send()
            .await
            .expect("request");
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["x-ratelimit-limit"], "3");
        assert_eq!(ok.headers()["x-ratelimit-remaining"], expected_remaining);
    }
    let limited = client
        .get(format!("{base}/status"))
        .bearer_auth(&free)
        .send()
        .await
        .expect("request");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&retry), "retry-after {retry}");
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    assert!(limited.headers().contains_key("x-ratelimit-reset"));
    assert_eq!(error_code(limited).await, "rate_limited");
    // Someone else (pro, default 1000) is unaffected.
    let other = client
        .get(format!("{base}/status"))
        .bearer_auth(&pro)
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 200);
    assert_eq!(other.headers()["x-ratelimit-limit"], "100000");

    // Login: 2 attempts per minute per address, whatever the user name.
    let mut statuses = Vec::new();
    for user in ["a", "b", "c"] {
        let response = client
            .post(format!("{base}/auth/login"))
            .json(&json!({"username": user, "password": "whatever-password"}))
            .send()
            .await
            .expect("login");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_the_json_error_shape_and_never_a_500() {
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| config.server.max_body_bytes = 1024)
        .start()
        .await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let admin = admin_token();
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (client.get(format!("{base}/no/such/route")), 404),
        (client.delete(format!("{base}/health")), 405),
        (
            client
                .post(format!("{base}/auth/login"))
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (
            client
                .post(format!("{base}/auth/login"))
                .json(&json!({"username": 5, "password": []})),
            422,
        ),
        (
            client
                .post(format!("{base}/auth/login"))
                .json(&json!({"username": "x"})),
            422,
        ),
        (
            client
                .post(format!("{base}/auth/login"))
                .body("username=x&password=y"),
            415,
        ),
        (
            client
                .post(format!("{base}/auth/login"))
                .header("content-type", "application/json")
                .body(format!("{{\"username\":\"{}\"}}", "x".repeat(4096))),
            413,
        ),
        (
            client
                .get(format!(
                    "{base}/api/v2/options/live?underlying=NIFTY&expiry=tomorrow"
                ))
                .bearer_auth(&admin),
            400,
        ),
        (
            client
                .get(format!(
                    "{base}/api/v2/options/live?underlying=NOPE&expiry=2026-01-01"
                ))
                .bearer_auth(&admin),
            404,
        ),
        (
            client
                .get(format!("{base}/admin/plugins/%FF%FE"))
                .bearer_auth(&admin),
            400,
        ),
        (
            client
                .get(format!("{base}/status"))
                .header("authorization", "Basic dXNlcjpwYXNz"),
            401,
        ),
        (
            client
                .get(format!("{base}/status"))
                .header("authorization", format!("Bearer {}", "A".repeat(10_000))),
            401,
        ),
    ];
    for (request, expected) in cases {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let url = response.url().to_string();
        assert_eq!(status, expected, "{url}");
        let code = error_code(response).await;
        assert!(!code.is_empty(), "{url}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_render_offline_and_the_document_lists_the_routes() {
    let running = TestApp::builder().no_plugins().start().await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let doc: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/health",
        "/auth/login",
        "/admin/plugins",
        "/admin/plugins/{name}/rollback",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    let swagger = client
        .get(format!("{base}/docs/"))
        .send()
        .await
        .expect("docs");
    assert_eq!(swagger.status(), 200);
    let page = swagger.text().await.expect("html");
    assert!(page.contains("swagger-ui"), "{page}");
    // Every script and stylesheet the page loads is served by us, not a CDN.
    assert!(!page.contains("https://"), "docs page loads remote assets");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let response = client
            .get(format!("{base}/docs/{asset}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{asset}");
    }
    let redoc = client
        .get(format!("{base}/redoc"))
        .send()
        .await
        .expect("redoc")
        .text()
        .await
        .expect("html");
    assert!(redoc.contains("/redoc/redoc.standalone.js") && !redoc.contains("https://"));
    let script = client
        .get(format!("{base}/redoc/redoc.standalone.js"))
        .send()
        .await
        .expect("redoc js");
    assert_eq!(script.status(), 200);
    assert!(script.bytes().await.expect("bytes").len() > 100_000);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_move_to_their_own_address() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = TestApp::builder()
        .no_plugins()
        .data_dir(data.path())
        .start()
        .await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let _ = client
        .get(format!("{base}/status"))
        .send()
        .await
        .expect("status");
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains("route=\"/status\"")
            && l.contains("status=\"401\"")),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("feed_frames_total"), "{text}");
    // Every series says what it is (telemetry::catalog).
    assert!(
        text.contains("# HELP http_requests_total HTTP answers"),
        "{text}"
    );
    // The pool figures are read at scrape time: a pool has at least one connection.
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
    };
    assert!(gauge("db_pool_size").is_some_and(|v| v >= 1.0), "{text}");
    assert!(gauge("db_pool_available").is_some(), "{text}");
    // The session as `/status` judges it: the test simulator trades around the clock,
    // and its feed is not silent.
    assert_eq!(gauge("market_open"), Some(1.0), "{text}");
    assert!(gauge("feed_stalled").is_some(), "{text}");
    running.stop().await;

    let data = tempfile::tempdir().expect("tempdir");
    let running = TestApp::builder()
        .no_plugins()
        .data_dir(data.path())
        .configure(move |config| {
            config.server.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
        })
        .start()
        .await;
    let public = client
        .get(format!("http://{}/metrics", running.addr))
        .send()
        .await
        .expect("metrics");
    assert_eq!(public.status(), 404);
    let private = running.metrics_addr.expect("metrics address");
    let response = client
        .get(format!("http://{private}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_upload_roll_back_and_unload_plugins() {
    let running = TestApp::builder().no_plugins().start().await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let admin = admin_token();
    let upload = |bytes: Vec<u8>, bearer: String| {
        client
            .post(format!("{base}/admin/plugins"))
            .bearer_auth(bearer)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
    };

    let trader = token("tara", Role::Trader, Tier::Pro);
    assert_eq!(
        upload(wasm("probe"), trader)
            .await
            .expect("upload")
            .status(),
        403
    );

    let first = upload(wasm("probe"), admin.clone()).await.expect("upload");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["plugin"]["name"], "probe");
    assert_eq!(first["activation"], "added");
    let v1 = first["plugin"]["version"].clone();

    let second: Value = upload(probe_v2(), admin.clone())
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    assert_ne!(second["plugin"]["version"], v1);
    assert!(second["activation"]["replaced"].is_object(), "{second}");

    let refused = upload(b"\0asm garbage".to_vec(), admin.clone())
        .await
        .expect("upload");
    assert_eq!(refused.status(), 422);
    let code = error_code(refused).await;
    assert!(code.starts_with("plugin_"), "{code}");

    let detail: Value = client
        .get(format!("{base}/admin/plugins/probe"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("detail")
        .json()
        .await
        .expect("json");
    assert_eq!(detail["active"]["version"], second["plugin"]["version"]);
    assert_eq!(detail["previous"].as_array().map(Vec::len), Some(1));

    let rolled: Value = client
        .post(format!("{base}/admin/plugins/probe/rollback"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("rollback")
        .json()
        .await
        .expect("json");
    assert_eq!(rolled["version"], v1);

    let list: Value = client
        .get(format!("{base}/admin/plugins"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["plugins"].as_array().map(Vec::len), Some(1));
    assert!(!list["refused"].as_array().expect("refused").is_empty());

    let deleted = client
        .delete(format!("{base}/admin/plugins/probe"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    let gone = client
        .get(format!("{base}/admin/plugins/probe"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("detail");
    assert_eq!(gone.status(), 404);
    assert_eq!(error_code(gone).await, "plugin_not_found");
    running.stop().await;
}

/// A server holding only the RS256 public key checks tokens but cannot issue them: a
/// right password then gets 503 (the server's configuration, not the caller, is at
/// fault), never a 401 that would send a client back to ask for credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_a_server_that_cannot_issue_tokens_is_503() {
    // The RS256 test keys live with the auth crate's own tests.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/auth/tests/fixtures");
    let running = TestApp::builder()
        .no_plugins()
        .configure(move |config| {
            config.auth.keys = optionhub::config::JwtKeys::Rs256 {
                public_pem: fixtures.join("jwt-rs256-public.pem"),
                private_pem: None,
            };
        })
        .start()
        .await;
    add_viewer(&running, "vera", "viewer-password").await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/auth/login", running.addr))
        .json(&json!({"username": "vera", "password": "viewer-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!response.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(response).await, "cannot_issue_tokens");
    running.stop().await;
}
