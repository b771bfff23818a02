//! Secrets and the image: what would leak a key or open the server up, tried against
//! the real server (in process on `127.0.0.1:0`, or the `optionhub` binary where the
//! log or the exit is the point). Development mode on a network address is refused; the
//! Dhan REST client does not follow a redirect with the token; the feed URL's token
//! never reaches the log, even at trace level; a failing database is named in a 503,
//! not described; a credentials key that is garbled or readable by others stops the
//! start; sealed credentials open only for their own account; and every admin action,
//! allowed or refused, is one log line and one row of `GET /admin/audit`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use optionhub::auth::{Role, Tier};
use optionhub::config::{DhanCredentials, RunMode};
use optionhub::server::{self};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::test_app::TestAppBuilder;
use crate::common::{admin_token, server_config, token, wasm};

/// History recording off: these tests read the database and want it quiet.
fn app() -> TestAppBuilder {
    TestApp::builder()
        .no_plugins()
        .configure(|config| config.history.interval = Duration::ZERO)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_mode_on_a_network_address_is_refused_unless_allowed() {
    // The binary, as an operator would run it: refused at once, saying how to proceed.
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_optionhub"))
        .args(["serve", "--listen", "0.0.0.0:0", "--mode", "development"])
        .arg("--data")
        .arg(data.path())
        .env_remove("OPTIONHUB_ALLOW_DEV_ON_NETWORK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("development mode kept serving on 0.0.0.0");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--allow-dev-on-network"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("access token"),
        "no token printed"
    );

    // Asked for explicitly: it runs.
    let allowed = app()
        .configure(move |config| {
            config.server.listen = "0.0.0.0:0".parse().expect("addr");
            config.server.allow_dev_on_network = true;
        })
        .start()
        .await;
    assert!(allowed.addr.ip().is_unspecified());
    allowed.stop().await;

    // Production mode (the image's) on the same address needs no flag.
    let production = app()
        .configure(move |config| {
            config.server.listen = "0.0.0.0:0".parse().expect("addr");
            config.auth.mode = RunMode::Production;
        })
        .start()
        .await;
    let health = reqwest::get(format!(
        "http://127.0.0.1:{}/health",
        production.addr.port()
    ))
    .await
    .expect("health");
    assert_eq!(health.status(), 200);
    production.stop().await;
}

/// A plain HTTP server on loopback answering every request with `answer`, recording
/// the `access-token` header of each request it gets.
async fn recording_server(
    answer: axum::response::Response<String>,
) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let answer = Arc::new(answer);
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let recorded = Arc::clone(&recorded);
        let answer = Arc::clone(&answer);
        async move {
            let token = headers
                .get("access-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            recorded.lock().expect("lock").push(token);
            let mut response = axum::response::Response::new(answer.body().clone());
            *response.status_mut() = answer.status();
            *response.headers_mut() = answer.headers().clone();
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dhan_rest_client_does_not_follow_a_redirect_with_the_token() {
    use optionhub::feed::dhan::rest::{DhanRestClient, RestError};
    use optionhub::instruments::{ExchangeSegment, InstrumentKey};

    let (elsewhere, elsewhere_seen) = recording_server(
        axum::response::Response::builder()
            .header("content-type", "application/json")
            .body(r#"{"data":["2030-01-01"],"status":"success"}"#.to_string())
            .expect("response"),
    )
    .await;
    let (dhan, dhan_seen) = recording_server(
        axum::response::Response::builder()
            .status(302)
            .header("location", format!("{elsewhere}/v2/optionchain/expirylist"))
            .body(String::new())
            .expect("response"),
    )
    .await;
    let dhan = url::Url::parse(&dhan).expect("url");
    let client = DhanRestClient::new(&dhan, DhanCredentials::new("1000", "redirect-me-token"))
        .expect("client");
    let result = client
        .expiry_list(InstrumentKey::new(ExchangeSegment::IdxI, 13))
        .await;
    assert!(
        matches!(result, Err(RestError::Status { status: 302, .. })),
        "{result:?}"
    );
    assert_eq!(
        dhan_seen.lock().expect("lock").as_slice(),
        [Some("redirect-me-token".to_string())]
    );
    assert!(
        elsewhere_seen.lock().expect("lock").is_empty(),
        "the token went to the redirect's target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_token_never_reaches_the_log_even_at_trace_level() {
    use optionhub::feed::sim::{SimConfig, SimHandle};

    let secret = format!("feed-token-{}", std::process::id());
    let sim = SimHandle::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig::new(7, DhanCredentials::new("1000", secret.as_str())),
    )
    .await
    .expect("simulator");
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_optionhub"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--history-interval-secs",
            "0",
        ])
        .args(["--underlyings", "NIFTY", "--log-format", "json"])
        .arg("--data")
        .arg(data.path())
        .env("DHAN_CLIENT_ID", "1000")
        .env("DHAN_ACCESS_TOKEN", &secret)
        .env("DHAN_FEED_URL", sim.feed_url())
        .env("DHAN_API_URL", sim.api_url())
        .env("DHAN_SCRIP_MASTER_URL", sim.scrip_master_url())
        // An operator asking for everything the handshake libraries say.
        .env(
            "RUST_LOG",
            "info,tungstenite=trace,tokio_tungstenite=trace,hyper=trace,reqwest=trace",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !log.contains("feed connected") && Instant::now() < deadline {
        if let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    // A moment more, for the subscriptions that follow the connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();
    reader.join().expect("reader");
    log.extend(lines_rx.try_iter().map(|line| line + "\n"));
    sim.stop().await;
    assert!(log.contains("feed connected"), "never connected:\n{log}");
    assert!(!log.contains(&secret), "the token is in the log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_database_is_named_in_the_503_without_its_error_text() {
    let running = app().start().await;
    // The database goes away under the running server.
    running.state.store.pool().close().await;
    let response = reqwest::Client::new()
        .get(format!("http://{}/accounts", running.addr))
        .bearer_auth(token("tara", Role::Trader, Tier::Pro))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "storage_unavailable", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("database"), "{body}");
    assert!(
        !message.contains("pool") && !message.contains("closed"),
        "{body}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credentials_key_that_is_garbled_or_readable_by_others_stops_the_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let key_file = data.path().join("credentials-dev-key");
    std::fs::write(&key_file, "not-hex-at-all").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let error = server::start(server_config(data.path(), None))
        .await
        .expect_err("a garbled key stops the start");
    assert!(
        format!("{error:#}").contains("does not hold a credentials key"),
        "{error:#}"
    );
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("read"),
        "not-hex-at-all",
        "not regenerated"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&key_file, "11".repeat(32)).expect("write");
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = server::start(server_config(data.path(), None))
            .await
            .expect_err("a key others can read stops the start");
        assert!(format!("{error:#}").contains("chmod 600"), "{error:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_credentials_open_only_for_their_own_account() {
    let running = app().start().await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for (name, secret) in [("main", "token-of-main"), ("spare", "token-of-spare")] {
        let created: Value = client
            .post(format!("http://{}/accounts", running.addr))
            .bearer_auth(token("tara", Role::Trader, Tier::Pro))
            .json(&json!({
                "name": name,
                "broker": "dhan",
                "broker_client_id": "1000",
                "access_token": secret,
            }))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        assert_eq!(created["has_credentials"], true, "{created}");
        ids.push(created["id"].as_i64().expect("id"));
    }
    let sealer = running.state.sealer.clone().expect("development key");
    let accounts = running.state.store.accounts();
    let main = accounts
        .get("tara", ids[0])
        .await
        .expect("read")
        .expect("row");
    let sealed = main.credentials_sealed.expect("sealed");
    assert_eq!(
        sealer.open("tara", ids[0], &sealed).expect("opens"),
        "token-of-main"
    );
    // Copied onto the owner's other account, it does not open.
    assert!(sealer.open("tara", ids[1], &sealed).is_err());
    running.stop().await;
}

/// A `tracing` writer into a shared buffer, to read the log lines a test caused.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The audit's log lines in `log`, parsed.
fn audit_lines(log: &CapturedLog) -> Vec<Value> {
    let bytes = log.0.lock().expect("lock").clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "optionhub::audit")
        .collect()
}

// One thread, so the subscriber set for this test sees the server's request handling.
#[tokio::test(flavor = "current_thread")]
async fn every_admin_action_allowed_or_refused_is_logged_and_listed() {
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let running = app().start().await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let probe = wasm("probe");
    let probe_hash = optionhub::plugins::artifacts::content_hash(&probe);

    // Allowed: an admin uploads.
    let uploaded = client
        .post(format!("{base}/admin/plugins"))
        .bearer_auth(admin_token())
        .body(probe.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 201);
    // Refused by the gate: a viewer, then no token at all.
    let as_viewer = client
        .delete(format!("{base}/admin/plugins/probe"))
        .bearer_auth(token("vic", Role::Viewer, Tier::Free))
        .send()
        .await
        .expect("unload");
    assert_eq!(as_viewer.status(), 403);
    let anonymous = client
        .post(format!("{base}/admin/plugins"))
        .body(probe.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(anonymous.status(), 401);
    // Refused by the handler: an admin uploads something that is not a component.
    let garbage = client
        .post(format!("{base}/admin/plugins"))
        .bearer_auth(admin_token())
        .body(b"not a component".to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(garbage.status(), 422);

    // The database keeps them, newest first, for admins only.
    let listed = client
        .get(format!("{base}/admin/audit"))
        .bearer_auth(token("vic", Role::Viewer, Tier::Free))
        .send()
        .await
        .expect("audit");
    assert_eq!(listed.status(), 403);
    let listed: Value = client
        .get(format!("{base}/admin/audit"))
        .bearer_auth(admin_token())
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["kept"], 1000);
    let entries = listed["entries"].as_array().expect("entries");
    let summary: Vec<(String, String, String, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_string(),
                e["action"].as_str().unwrap_or_default().to_string(),
                e["outcome"].as_str().unwrap_or_default().to_string(),
                e["status"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let row = |actor: &str, action: &str, outcome: &str, status: i64| {
        (actor.into(), action.into(), outcome.into(), status)
    };
    assert_eq!(
        summary,
        [
            row("test-admin", "plugin.upload", "refused", 422),
            row("anonymous", "plugin.upload", "refused", 401),
            row("vic", "plugin.unload", "refused", 403),
            row("test-admin", "plugin.upload", "allowed", 201),
        ]
    );
    assert_eq!(entries[3]["content_hash"], probe_hash.as_str());
    assert_eq!(entries[3]["target"], "probe");
    assert_eq!(entries[2]["target"], "probe");
    assert_eq!(
        entries[0]["content_hash"],
        optionhub::plugins::artifacts::content_hash(b"not a component").as_str()
    );
    assert!(entries.iter().all(|e| e["address"] == "127.0.0.1"));

    // And each one was one structured log line with the same facts.
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let allowed = &lines[0]["fields"];
    assert_eq!(allowed["actor"], "test-admin");
    assert_eq!(allowed["address"], "127.0.0.1");
    assert_eq!(allowed["action"], "plugin.upload");
    assert_eq!(allowed["outcome"], "allowed");
    assert_eq!(allowed["content_hash"], probe_hash.as_str());
    assert_eq!(lines[1]["fields"]["actor"], "vic");
    assert_eq!(lines[1]["fields"]["outcome"], "refused");

    // The route is documented.
    let doc: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/admin/audit"]["get"].is_object());
    running.stop().await;
}
