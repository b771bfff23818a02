//! Saved strategies, accounts and M2M on the real server: CRUD, ownership (another
//! user's ids are 404s), validation errors naming the problem, optimistic concurrency,
//! the M2M worker filling the time series (on a short interval) and publishing on the
//! hub, and a restart on the same data directory keeping strategies and history. Also
//! `optionhub migrate`, including its refusal of a schema newer than the binary.

use std::path::Path;
use std::time::{Duration, Instant};

use optionhub::auth::{Role, Tier};
use optionhub::server::RunningServer;
use serde_json::{Value, json};

use crate::common::{TestApp, token};

const BUNDLED: [&str; 3] = ["greeks-black76", "oi-analytics", "strategy-valuation"];

/// The bundled plugins, NIFTY and BANKNIFTY (for a leg on another underlying than its
/// strategy's), M2M every 200 ms; data in `data`.
pub(crate) async fn start(data: &Path) -> TestApp {
    TestApp::builder()
        .plugins(&BUNDLED)
        .data_dir(data)
        .configure(|config| {
            config.feed.underlyings = vec!["NIFTY".into(), "BANKNIFTY".into()];
            config.portfolio.m2m_interval = Duration::from_millis(200);
        })
        .start()
        .await
}

pub(crate) struct Client {
    base: String,
    pub token: String,
    http: reqwest::Client,
}

impl Client {
    pub(crate) fn new(server: &RunningServer, user: &str, role: Role) -> Self {
        Self {
            base: format!("http://{}", server.addr),
            token: token(user, role, Tier::Pro),
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.send_with(method, path, body, None).await
    }

    async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(version) = if_match {
            request = request.header("if-match", version);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, body)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

/// The ATM call and put of the first NIFTY expiry that is not today, once it has Greeks.
pub(crate) async fn atm_contracts(c: &Client) -> (u64, u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    loop {
        let (_, expiries) = c.get("/api/v2/options/expiries?underlying=NIFTY").await;
        let expiry = expiries["expiries"].as_array().and_then(|list| {
            list.iter()
                .filter_map(|e| e["date"].as_str())
                .find(|d| *d != today)
                .map(str::to_string)
        });
        if let Some(expiry) = expiry {
            let (status, _) = c
                .get(&format!("/fo/summary?underlying=NIFTY&expiry={expiry}"))
                .await;
            if status == 200 {
                let (_, live) = c
                    .get(&format!(
                        "/api/v2/options/live?underlying=NIFTY&expiry={expiry}"
                    ))
                    .await;
                let atm = live["atm_strike"].as_f64().expect("atm");
                let row = live["strikes"]
                    .as_array()
                    .expect("strikes")
                    .iter()
                    .find(|s| s["strike"].as_f64() == Some(atm))
                    .expect("ATM row")
                    .clone();
                return (
                    row["call"]["security_id"].as_u64().expect("call"),
                    row["put"]["security_id"].as_u64().expect("put"),
                );
            }
        }
        assert!(Instant::now() < deadline, "no Greeks for NIFTY");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn is_money(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let digits = s.trim_start_matches('-');
        digits.split_once('.').is_some_and(|(w, f)| {
            !w.is_empty() && f.len() == 2 && (w.to_string() + f).bytes().all(|b| b.is_ascii_digit())
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_strategies_accounts_m2m_and_a_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let running = start(data.path()).await;
    let alice = Client::new(&running, "alice", Role::Trader);
    let bob = Client::new(&running, "bob", Role::Trader);
    let viewer = Client::new(&running, "vera", Role::Viewer);

    // Accounts: credentials go in, never come out.
    let (status, account) = alice
        .post(
            "/accounts",
            &json!({"name": "main", "broker": "dhan", "broker_client_id": "1000001",
                    "access_token": "very-secret-dhan-token"}),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["has_credentials"], true);
    assert!(!account.to_string().contains("very-secret"), "{account}");
    let account_id = account["id"].as_i64().expect("id");
    let (_, accounts) = alice.get("/accounts").await;
    assert!(!accounts.to_string().contains("very-secret"));
    assert_eq!(accounts.as_array().map(Vec::len), Some(1));
    assert_eq!(bob.get(&format!("/accounts/{account_id}")).await.0, 404);
    let (status, bad) = alice
        .post(
            "/accounts",
            &json!({"name": "x", "broker": "zerodha", "broker_client_id": "1"}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");

    // A strategy, grouped by the account.
    let (status, created) = alice
        .post(
            "/strategies",
            &json!({"name": "long straddle", "underlying": "nifty", "account_id": account_id}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["underlying"], "NIFTY");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_i64().expect("id");
    let (status, body) = alice
        .post("/strategies", &json!({"name": "x", "underlying": "NOPE"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_underlying"))
    );
    let (status, _) = bob
        .post(
            "/strategies",
            &json!({"name": "x", "underlying": "NIFTY", "account_id": account_id}),
        )
        .await;
    assert_eq!(status, 404, "another user's account");
    assert_eq!(viewer.get("/strategies").await.0, 403);

    let (call, put) = atm_contracts(&alice).await;
    let legs = format!("/strategies/{id}/instruments");
    let (status, after) = alice
        .post(
            &legs,
            &json!({"security_id": call, "side": "buy", "lots": 1, "entry_price": "100.05"}),
        )
        .await;
    assert_eq!(status, 201, "{after}");
    assert_eq!(after["legs"][0]["entry_price"], "100.05");
    assert_eq!(after["version"], 2);
    let (status, after) = alice
        .post(
            &legs,
            &json!({"security_id": put, "side": "buy", "entry_price": "90",
                    "entry_time": "2026-11-20T09:20:00+05:30"}),
        )
        .await;
    assert_eq!(status, 201, "{after}");
    assert_eq!(after["legs"][1]["entry_price"], "90.00");
    assert_eq!(after["legs"][1]["lots"], 1);

    // A contract of another underlying conflicts with the strategy's.
    let (_, expiries) = alice
        .get("/api/v2/options/expiries?underlying=BANKNIFTY")
        .await;
    let expiry = expiries["expiries"][0]["date"].as_str().expect("an expiry");
    let (_, chain) = alice
        .get(&format!(
            "/api/v2/options/live?underlying=BANKNIFTY&expiry={expiry}"
        ))
        .await;
    let banknifty = chain["strikes"][0]["call"]["security_id"]
        .as_u64()
        .expect("a BANKNIFTY contract");

    // Validation: each refusal names its problem.
    for (body, want, needle) in [
        (
            json!({"security_id": banknifty, "side": "buy", "entry_price": "1"}),
            409,
            "not on NIFTY",
        ),
        (
            json!({"security_id": call, "side": "buy", "entry_price": 100.05}),
            422,
            "decimal string",
        ),
        (
            json!({"security_id": call, "side": "buy", "entry_price": "1O0"}),
            422,
            "not an amount",
        ),
        (
            json!({"security_id": call, "side": "buy", "entry_price": "100.03"}),
            422,
            "tick",
        ),
        (
            json!({"security_id": call, "side": "long", "entry_price": "1"}),
            422,
            "side",
        ),
        (
            json!({"security_id": 999_999_999u64, "side": "buy", "entry_price": "1"}),
            404,
            "999999999",
        ),
        (
            json!({"security_id": call, "side": "buy", "lots": 0, "entry_price": "1"}),
            422,
            "lots",
        ),
        (
            json!({"security_id": call, "side": "buy", "entry_price": "1", "entry_time": "yesterday"}),
            400,
            "entry_time",
        ),
    ] {
        let (status, answer) = alice.post(&legs, &body).await;
        assert_eq!(status, want, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{body} → {message}");
    }

    // Bob cannot see or touch any of it: 404s, not 403s.
    let path = format!("/strategies/{id}");
    assert_eq!(bob.get(&path).await.0, 404);
    assert_eq!(
        bob.send(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"name": "mine"}))
        )
        .await
        .0,
        404
    );
    assert_eq!(bob.send(reqwest::Method::DELETE, &path, None).await.0, 404);
    assert_eq!(
        bob.post(
            &legs,
            &json!({"security_id": call, "side": "buy", "entry_price": "1"})
        )
        .await
        .0,
        404
    );
    assert_eq!(bob.get(&format!("{path}/m2m/timeseries")).await.0, 404);
    assert_eq!(bob.get("/strategies").await.1, json!([]));

    // Optimistic concurrency: a stale If-Match is a 409 and changes nothing.
    let (status, conflict) = alice
        .send_with(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"name": "renamed"})),
            Some("\"1\""),
        )
        .await;
    assert_eq!(
        (status, conflict["error"]["code"].as_str()),
        (409, Some("version_conflict"))
    );
    let (status, renamed) = alice
        .send_with(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"name": "renamed"})),
            Some("\"3\""),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (renamed["name"].as_str(), renamed["version"].as_i64()),
        (Some("renamed"), Some(4))
    );

    // A second strategy on the same expiry: the worker values both in one plugin call
    // and must hand each its own legs.
    let (_, second) = alice
        .post(
            "/strategies",
            &json!({"name": "short put", "underlying": "NIFTY"}),
        )
        .await;
    let second_id = second["id"].as_i64().expect("id");
    let (status, _) = alice
        .post(
            &format!("/strategies/{second_id}/instruments"),
            &json!({"security_id": put, "side": "sell", "lots": 3, "entry_price": "0.05"}),
        )
        .await;
    assert_eq!(status, 201);

    // The worker values it every 200 ms: the series fills and the hub publishes.
    let mut live = running.state.m2m.subscribe(id);
    let mut live_second = running.state.m2m.subscribe(second_id);
    let deadline = Instant::now() + Duration::from_secs(60);
    let series = loop {
        let (status, series) = alice.get(&format!("{path}/m2m/timeseries")).await;
        assert_eq!(status, 200, "{series}");
        if series["points"].as_array().is_some_and(|p| p.len() >= 3) {
            break series;
        }
        assert!(
            Instant::now() < deadline,
            "the M2M worker wrote no points: {series}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for point in series["points"].as_array().expect("points") {
        assert!(is_money(&point["m2m"]), "{point}");
        assert_eq!(point["strategy_version"], 4);
    }
    tokio::time::timeout(Duration::from_secs(10), live.changed())
        .await
        .expect("a live update")
        .expect("open");
    let update = live.borrow().clone().expect("an update");
    assert_eq!(update.legs.len(), 2);
    assert_eq!(
        update.m2m.paise(),
        update.legs.iter().map(|l| l.m2m.paise()).sum::<i64>(),
        "the total is the exact sum of the legs"
    );
    tokio::time::timeout(Duration::from_secs(10), live_second.changed())
        .await
        .expect("a live update of the second strategy")
        .expect("open");
    let short_put = live_second.borrow().clone().expect("an update");
    assert_eq!(short_put.legs.len(), 1);
    assert!(
        short_put.m2m.paise() < 0,
        "sold at 0.05, the put is worth more now: {short_put:?}"
    );
    let (_, detail) = alice.get(&path).await;
    assert!(is_money(&detail["m2m"]["m2m"]), "{detail}");
    let (_, bucketed) = alice
        .get(&format!("{path}/m2m/timeseries?interval=1h"))
        .await;
    assert_eq!(
        bucketed["points"].as_array().map(Vec::len),
        Some(1),
        "{bucketed}"
    );
    let (status, _) = alice
        .get(&format!("{path}/m2m/timeseries?interval=fortnight"))
        .await;
    assert_eq!(status, 400);
    let (_, empty) = alice
        .get(&format!("{path}/m2m/timeseries?to=2000-01-01T00:00:00Z"))
        .await;
    assert_eq!(empty["points"], json!([]));

    // Removing a leg, and a second strategy to delete.
    let leg_id = detail["legs"][1]["id"].as_i64().expect("leg id");
    let (status, one_leg) = alice
        .send(reqwest::Method::DELETE, &format!("{legs}/{leg_id}"), None)
        .await;
    assert_eq!(status, 200, "{one_leg}");
    assert_eq!(one_leg["legs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        alice
            .send(reqwest::Method::DELETE, &format!("{legs}/{leg_id}"), None)
            .await
            .0,
        404
    );
    let (_, doomed) = alice
        .post(
            "/strategies",
            &json!({"name": "doomed", "underlying": "NIFTY"}),
        )
        .await;
    let doomed_path = format!("/strategies/{}", doomed["id"]);
    assert_eq!(
        alice
            .send(reqwest::Method::DELETE, &doomed_path, None)
            .await
            .0,
        204
    );
    assert_eq!(alice.get(&doomed_path).await.0, 404);

    // Restart on the same data directory: strategies and history are intact.
    let before = alice.get(&path).await.1;
    let points_before = alice.get(&format!("{path}/m2m/timeseries")).await.1["points"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    running.stop().await;
    let running = start(data.path()).await;
    let alice = Client::new(&running, "alice", Role::Trader);
    let (status, after) = alice.get(&path).await;
    assert_eq!(status, 200, "{after}");
    for field in ["name", "version", "legs", "account_id", "created_at"] {
        assert_eq!(after[field], before[field], "{field}");
    }
    let (_, series) = alice.get(&format!("{path}/m2m/timeseries")).await;
    assert!(
        series["points"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default()
            >= points_before,
        "history kept: {series}"
    );
    assert_eq!(
        alice.get("/accounts").await.1.as_array().map(Vec::len),
        Some(1)
    );
    running.stop().await;
}

#[tokio::test]
async fn migrate_applies_and_refuses_a_newer_schema() {
    let data = tempfile::tempdir().expect("tempdir");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_optionhub"))
            .args(["migrate", "--data", &data.path().display().to_string()])
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("up to date"));
    assert!(run().status.success(), "idempotent");

    // A migration this binary does not know, as a newer binary would have left it.
    let store =
        optionhub::store::Store::open(&optionhub::config::StoreConfig::sqlite_in(data.path()))
            .await
            .expect("opens");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(store.pool())
    .await
    .expect("insert");
    store.close().await;
    let refused = run();
    assert!(!refused.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(said.contains("newer than this binary"), "{said}");
}
