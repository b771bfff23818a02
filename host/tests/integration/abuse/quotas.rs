//! What one user may make the server keep or read, on the real server: saved strategies
//! and accounts past their quotas are refused with 403 `quota_exceeded` (also when the
//! creates race each other, on SQLite and, when `OPTIONHUB_TEST_POSTGRES_URL` is set,
//! on PostgreSQL), legs past 20 per strategy are refused with 422 `too_many_legs` even
//! when added all at once, and `/fo/moneyness-series` refuses a range that could read
//! more snapshot rows than its bound, naming the intervals and the range that fit. (M2M
//! retention is tested beside its code, in `portfolio::retention`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use optionhub::auth::{Role, Tier};
use optionhub::config::{Quotas, StoreConfig};
use optionhub::server::RunningServer;
use optionhub::store::Store;
use optionhub::store::history::SnapshotRow;
use serde_json::{Value, json};

use crate::common::test_app::TestAppBuilder;
use crate::common::{TestApp, token};
use crate::portfolio::Client;

const QUOTAS: Quotas = Quotas {
    strategies_free: 3,
    strategies_pro: 5,
    accounts: 2,
};

/// NIFTY only, no plugins, the quotas under test.
fn app() -> TestAppBuilder {
    TestApp::builder().no_plugins().configure(|config| {
        config.feed.underlyings = vec!["NIFTY".into()];
        config.portfolio.quotas = QUOTAS;
    })
}

/// A trader client of `tier`.
fn trader(server: &RunningServer, user: &str, tier: Tier) -> Client {
    let mut client = Client::new(server, user, Role::Trader);
    client.token = token(user, Role::Trader, tier);
    client
}

/// Sends every body at once; the statuses, and the bodies of the refusals.
async fn all_at_once(client: &Arc<Client>, path: &str, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let client = Arc::clone(client);
            let path = path.to_string();
            tokio::spawn(async move { client.post(&path, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

fn assert_quota_refusal(answer: &(u16, Value), what: &str) {
    assert_eq!(answer.0, 403, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], "quota_exceeded", "{}", answer.1);
    let message = answer.1["error"]["message"].as_str().expect("message");
    assert!(message.contains(what), "{message}");
}

/// The quota checks of one server, whatever its database.
async fn quotas_hold(server: &RunningServer) {
    let strategy = |i: usize| json!({"name": format!("s{i}"), "underlying": "NIFTY"});

    // Free tier: three, then a clear refusal; another user is unaffected.
    let free = trader(server, "free-user", Tier::Free);
    for i in 0..3 {
        let (status, body) = free.post("/strategies", &strategy(i)).await;
        assert_eq!(status, 201, "{body}");
    }
    let refused = free.post("/strategies", &strategy(3)).await;
    assert_quota_refusal(&refused, "3 saved strategies");

    // Pro tier, every create at once: exactly the quota is kept.
    let pro = Arc::new(trader(server, "pro-user", Tier::Pro));
    let answers = all_at_once(&pro, "/strategies", (0..12).map(strategy).collect()).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 5, "{answers:?}");
    for answer in answers.iter().filter(|(status, _)| *status != 201) {
        assert_quota_refusal(answer, "5 saved strategies");
    }
    let (_, listed) = pro.get("/strategies").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(5), "{listed}");

    // Accounts, at once too.
    let account = |i: usize| json!({"name": format!("a{i}"), "broker": "dhan", "broker_client_id": format!("c{i}")});
    let answers = all_at_once(&pro, "/accounts", (0..6).map(account).collect()).await;
    assert_eq!(
        answers.iter().filter(|(status, _)| *status == 201).count(),
        2,
        "{answers:?}"
    );
    for answer in answers.iter().filter(|(status, _)| *status != 201) {
        assert_quota_refusal(answer, "2 accounts");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategy_and_account_quotas_hold_under_concurrent_creates() {
    let server = app().start().await;
    quotas_hold(&server).await;
    server.stop().await;

    let Ok(base) = std::env::var("OPTIONHUB_TEST_POSTGRES_URL") else {
        eprintln!("skipped PostgreSQL: OPTIONHUB_TEST_POSTGRES_URL is not set");
        return;
    };
    // A schema of its own, so parallel tests never meet.
    sqlx::any::install_default_drivers();
    let schema = format!("quota_{}", std::process::id());
    let admin = sqlx::AnyPool::connect(&base).await.expect("admin");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop schema");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    let server = app()
        .configure(move |config| {
            config.store = StoreConfig {
                max_connections: 8,
                ..StoreConfig::new(url)
            };
        })
        .start()
        .await;
    quotas_hold(&server).await;
    server.stop().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop schema");
}

/// The first NIFTY expiry that is not today, and its live chain once listed.
async fn live_chain(client: &Client) -> (String, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    loop {
        let (_, expiries) = client
            .get("/api/v2/options/expiries?underlying=NIFTY")
            .await;
        let expiry = expiries["expiries"].as_array().and_then(|list| {
            list.iter()
                .filter_map(|e| e["date"].as_str())
                .find(|d| *d != today)
                .map(str::to_string)
        });
        if let Some(expiry) = expiry {
            let (status, live) = client
                .get(&format!(
                    "/api/v2/options/live?underlying=NIFTY&expiry={expiry}"
                ))
                .await;
            if status == 200 && live["atm_strike"].as_f64().is_some() {
                return (expiry, live);
            }
        }
        assert!(Instant::now() < deadline, "no live NIFTY chain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legs_added_all_at_once_stop_at_twenty() {
    let server = app().start().await;
    let client = Arc::new(trader(&server, "leggy", Tier::Pro));
    let (_, live) = live_chain(&client).await;
    let calls: Vec<u64> = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .filter_map(|s| s["call"]["security_id"].as_u64())
        .collect();
    assert!(calls.len() >= 26, "{} calls listed", calls.len());
    let (status, created) = client
        .post(
            "/strategies",
            &json!({"name": "wide", "underlying": "NIFTY"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let legs = calls[..26]
        .iter()
        .map(|security_id| json!({"security_id": security_id, "side": "buy", "entry_price": "10.05"}))
        .collect();
    let answers = all_at_once(&client, &format!("/strategies/{id}/instruments"), legs).await;
    let added = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(added, 20, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 422, "{body}");
        assert_eq!(body["error"]["code"], "too_many_legs", "{body}");
    }
    let (_, after) = client.get(&format!("/strategies/{id}")).await;
    assert_eq!(after["legs"].as_array().map(Vec::len), Some(20), "{after}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moneyness_series_refuses_ranges_past_its_row_bound_naming_what_fits() {
    let data = tempfile::tempdir().expect("tempdir");
    let store_config = StoreConfig::sqlite_in(data.path());
    let server = app()
        .data_dir(data.path())
        .configure(|config| {
            // No live recording: the rows are the ones written below.
            config.history.interval = Duration::ZERO;
            config.history.max_series_rows = 500;
        })
        .start()
        .await;
    let client = trader(&server, "reader", Tier::Pro);
    let (expiry, live) = live_chain(&client).await;
    let atm = live["atm_strike"].as_f64().expect("atm");
    let strikes: Vec<(f64, u64)> = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .filter_map(|s| Some((s["strike"].as_f64()?, s["call"]["security_id"].as_u64()?)))
        .filter(|(strike, _)| (strike - atm).abs() <= 500.0)
        .collect();

    // Two hours of snapshots, one every 10 s (720 of them), as a busy recorder would
    // have written: the series needs only one per interval of them.
    let now = optionhub::store::now_ms();
    let from = now - 2 * 3_600_000;
    let store = Store::open(&store_config).await.expect("store");
    let mut rows = Vec::new();
    for t in 0..720_i64 {
        for &(strike, security_id) in &strikes {
            rows.push(SnapshotRow {
                ts_ms: from + t * 10_000,
                underlying: "NIFTY".into(),
                expiry: expiry.as_str().into(),
                strike,
                is_call: true,
                security_id: u32::try_from(security_id).expect("id"),
                spot: atm,
                ltp: 100.0,
                bid: 99.0,
                ask: 101.0,
                greeks: None,
                oi: u64::try_from(t).expect("t"),
                volume: 1,
                plugin: None,
            });
        }
    }
    store.history().insert(&rows).await.expect("insert");
    store.close().await;

    let path = |interval: &str| {
        format!(
            "/fo/moneyness-series?underlying=NIFTY&expiry={expiry}&metric=oi&interval={interval}\
             &from={from}&to={}",
            from + 2 * 3_600_000 - 1
        )
    };
    // 120 one-minute points, each a row per strike in the band: past 500 rows.
    let (status, body) = client.get(&path("1m")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "range_too_large", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("use interval 5m, 15m, 30m, 1h, 1d"),
        "{message}"
    );
    assert!(message.contains("at 1m ask for at most"), "{message}");

    // Five-minute points fit, and each is the latest snapshot of its slot.
    let (status, body) = client.get(&path("5m")).await;
    assert_eq!(status, 200, "{body}");
    let times = body["times"].as_array().expect("times");
    assert_eq!(times.len(), 24, "{body}");
    let atm_bucket = body["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .find(|b| b["bucket"] == "ATM")
        .expect("ATM bucket");
    // Snapshot t = 29 is the last of the first five minutes.
    assert_eq!(atm_bucket["values"][0].as_f64(), Some(29.0), "{atm_bucket}");
    server.stop().await;
}
