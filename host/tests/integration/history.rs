//! Chain history on the real server: the simulator backfill filling the session,
//! `/fo/moneyness-series` and `/fo/oi-change?window=` reading it, a restart on the same
//! data directory keeping it (and not backfilling again), and the database going away
//! while running (snapshots queue, then flush; market routes keep serving).

use std::time::{Duration, Instant};

use optionhub::config::{HistoryConfig, StoreConfig};
use serde_json::Value;

use crate::common::TestApp;
use crate::common::test_app::TestAppBuilder;

/// What these tests ask of a server's chain history.
trait HistoryProbe {
    async fn history(&self) -> Value;
    async fn wait_history(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value;
    async fn expiry(&self) -> String;
}

impl HistoryProbe for TestApp {
    async fn history(&self) -> Value {
        let (status, body) = self.get_json("/status").await;
        assert_eq!(status, 200, "{body}");
        body["history"].clone()
    }

    /// Waits until `done` holds for `/status`'s history section.
    async fn wait_history(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let history = self.history().await;
            if done(&history) {
                return history;
            }
            assert!(Instant::now() < deadline, "{what}: {history}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The first NIFTY expiry that is not today.
    async fn expiry(&self) -> String {
        let (_, body) = self
            .get_json("/api/v2/options/expiries?underlying=NIFTY")
            .await;
        let today = time::OffsetDateTime::now_utc().date().to_string();
        body["expiries"]
            .as_array()
            .expect("expiries")
            .iter()
            .filter_map(|e| e["date"].as_str())
            .find(|d| *d != today)
            .expect("a future expiry")
            .to_string()
    }
}

/// NIFTY only, the Greeks and OI plugins in the plugin directory, data in `data`.
fn app(data: &std::path::Path, history: HistoryConfig) -> TestAppBuilder {
    TestApp::builder()
        .plugins(&["greeks-black76", "oi-analytics"])
        .data_dir(data)
        .configure(move |config| {
            config.feed.underlyings = vec!["NIFTY".into()];
            config.history = history;
        })
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).expect("time")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_feeds_the_history_routes_and_survives_a_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let history = HistoryConfig {
        interval: Duration::from_secs(60),
        backfill: Some(Duration::from_secs(20 * 60)),
        ..HistoryConfig::default()
    };
    let max_span = Duration::from_secs(20 * 60);
    let (start, end) =
        optionhub::history::backfill::span(time::OffsetDateTime::now_utc(), max_span);
    // 20 minutes at one a minute, or fewer in the first 20 minutes after 09:15 IST
    // (the backfill starts at the session's open).
    let expected = u64::try_from((end - start).whole_minutes()).expect("minutes");
    let server = app(data.path(), history).start().await;
    let done = server
        .wait_history("backfill", Duration::from_secs(120), |h| {
            // Written, not just taken from the queue: a batch may be in flight.
            h["backfill"]["state"] == "done"
                && h["written"].as_u64() >= h["backfill"]["rows"].as_u64()
        })
        .await;
    let points = done["backfill"]["points"].as_u64().expect("points");
    assert!(
        points.abs_diff(expected) <= 1,
        "{points} vs {expected}: {done}"
    );
    assert!(points > 0, "{done}");
    let backfilled = done["backfill"]["rows"].as_u64().expect("rows");
    assert!(
        done["written"].as_u64().expect("written") >= backfilled,
        "{done}"
    );
    assert_eq!(done["dropped"], 0);

    let expiry = server.expiry().await;
    let chain = format!("underlying=NIFTY&expiry={expiry}");
    let from = now_ms() - 30 * 60_000;
    let (status, series) = server
        .get_json(&format!(
            "/fo/moneyness-series?{chain}&metric=iv&interval=1m&strikes=2&from={from}"
        ))
        .await;
    assert_eq!(status, 200, "{series}");
    let times = series["times"].as_array().expect("times");
    assert!((times.len() as u64).abs_diff(points) <= 1, "{series}");
    let buckets = series["buckets"].as_array().expect("buckets");
    let names: Vec<&str> = buckets
        .iter()
        .filter_map(|b| b["bucket"].as_str())
        .collect();
    assert_eq!(names, ["ATM-2", "ATM-1", "ATM", "ATM+1", "ATM+2"]);
    let step = 50.0;
    for (i, spot) in series["spot"].as_array().expect("spot").iter().enumerate() {
        // ATM is re-evaluated at every point: the strike nearest that point's spot.
        let atm = f(&series["atm_strike"][i]);
        assert!(
            (atm - f(spot)).abs() <= step / 2.0 + 1e-9,
            "{atm} vs {spot}"
        );
        assert_eq!(f(&buckets[2]["strikes"][i]), atm);
        assert_eq!(f(&buckets[3]["strikes"][i]), atm + step);
        let iv = f(&buckets[2]["values"][i]);
        assert!(
            (0.03..1.5).contains(&iv),
            "ATM IV {iv} from the Greeks plugin"
        );
    }
    let (status, oi) = server
        .get_json(&format!(
            "/fo/moneyness-series?{chain}&metric=OI&side=put&interval=5m&strikes=0&from={from}"
        ))
        .await;
    assert_eq!(status, 200, "{oi}");
    assert!(f(&oi["buckets"][0]["values"][0]) > 0.0, "{oi}");
    assert!(oi["times"].as_array().expect("times").len() <= 7);

    let too_many_points = format!("from={}&interval=1m", from - 4 * 86_400_000);
    for (query, needle) in [
        ("metric=rho", "iv, delta, gamma, theta, vega, oi"),
        ("interval=2m", "1m, 5m, 15m, 30m, 1h, 1d"),
        ("side=both", "call, put"),
        ("from=yesterday", "RFC 3339"),
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "before",
        ),
        ("from=0&interval=1d", "31 days"),
        (too_many_points.as_str(), "points"),
        ("strikes=21", "0 to 20"),
    ] {
        let (status, body) = server
            .get_json(&format!("/fo/moneyness-series?{chain}&{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(needle), "{query}: {message}");
    }

    // (Right after 09:15 IST the backfill holds a single snapshot, too recent for any
    // window; that minute skips this part.)
    if points >= 2 {
        // OI change over the last few minutes: against the stored snapshot, through the
        // OI plugin (which needs the chain's live Greeks first). Half the backfilled span,
        // so a snapshot that old exists.
        let window = (points / 2).max(1);
        let deadline = Instant::now() + Duration::from_secs(60);
        let movers = loop {
            let (status, body) = server
                .get_json(&format!("/fo/oi-change?{chain}&window={window}m&limit=5"))
                .await;
            if status == 200 {
                break body;
            }
            assert_eq!(status, 503, "{body}");
            assert!(Instant::now() < deadline, "{body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(movers["window"], format!("{window}m"));
        let reference = time::OffsetDateTime::parse(
            movers["reference_time"].as_str().expect("reference_time"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339");
        let reference_ms = i64::try_from(reference.unix_timestamp_nanos() / 1_000_000).expect("ms");
        assert!(reference_ms <= now_ms() - i64::try_from(window).expect("minutes") * 60_000);
        let (ts, past) = server
            .state
            .store
            .history()
            .chain_at("NIFTY", &expiry, reference_ms)
            .await
            .expect("read")
            .expect("a snapshot");
        assert_eq!(ts, reference_ms);
        let gainers = movers["gainers"].as_array().expect("gainers");
        assert!(!gainers.is_empty(), "{movers}");
        for mover in gainers
            .iter()
            .chain(movers["losers"].as_array().expect("losers"))
        {
            let id = mover["security_id"].as_u64().expect("id");
            let then = past
                .iter()
                .find(|c| u64::from(c.security_id) == id)
                .map_or(mover["oi"].as_i64().expect("oi"), |c| c.oi as i64);
            assert_eq!(
                mover["oi_change"].as_i64(),
                Some(mover["oi"].as_i64().expect("oi") - then),
                "{mover}"
            );
        }
    }
    let (status, plain) = server.get_json(&format!("/fo/oi-change?{chain}")).await;
    assert_eq!(status, 200);
    assert!(plain.get("window").is_none(), "no window, no window field");
    let (status, body) = server
        .get_json(&format!("/fo/oi-change?{chain}&window=day"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &Value::from("no_history")),
        "{body}"
    );
    let (status, body) = server
        .get_json(&format!("/fo/oi-change?{chain}&window=0m"))
        .await;
    assert_eq!(status, 400, "{body}");

    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for name in [
        "history_rows_written_total",
        "history_rows_queued",
        "history_rows_dropped_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }

    // Restart on the same data directory: the history is there, and no second backfill.
    let rows = server.state.store.history().count().await.expect("count");
    server.stop().await;
    let server = app(data.path(), history).start().await;
    let again = server
        .wait_history("restart", Duration::from_secs(30), |h| {
            h["backfill"]["state"] != "off"
        })
        .await;
    assert_eq!(again["backfill"]["state"], "skipped", "{again}");
    assert!(server.state.store.history().count().await.expect("count") >= rows);
    let (status, series) = server
        .get_json(&format!(
            "/fo/moneyness-series?{chain}&interval=1m&from={from}"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        series["times"].as_array().expect("times").len() as u64 + 1 >= points,
        "{series}"
    );
    server.stop().await;
}

/// Snapshots every second into a small queue: the outage tests watch it fill.
fn busy_history() -> HistoryConfig {
    HistoryConfig {
        interval: Duration::from_secs(1),
        queue_rows: 3_000,
        backfill: None,
        ..HistoryConfig::default()
    }
}

/// The market routes answer while the database is away.
async fn market_serves(server: &TestApp, expiry: &str) {
    let (status, body) = server
        .get_json(&format!(
            "/api/v2/options/live?underlying=NIFTY&expiry={expiry}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Waits for the outage to show (failures, rows piling up, then the oldest dropped),
/// then for the flush once `restore` has run.
async fn outage_then_flush(server: &TestApp, expiry: &str, storage_503: bool) -> Value {
    let outage = server
        .wait_history("outage", Duration::from_secs(60), |h| {
            h["write_failures"].as_u64() > Some(0) && h["dropped"].as_u64() > Some(0)
        })
        .await;
    assert!(
        outage["queued"].as_u64() <= Some(3_000),
        "bounded: {outage}"
    );
    market_serves(server, expiry).await;
    if storage_503 {
        let (status, body) = server
            .get_json(&format!(
                "/fo/moneyness-series?underlying=NIFTY&expiry={expiry}&interval=1m"
            ))
            .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (503, &Value::from("storage_unavailable")),
            "{body}"
        );
    }
    outage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_queues_snapshots_then_flushes() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = app(data.path(), busy_history()).start().await;
    let expiry = server.expiry().await;
    server
        .wait_history("first rows", Duration::from_secs(30), |h| {
            h["written"].as_u64() > Some(0)
        })
        .await;
    // Another process holds the write lock: every write waits out the busy timeout and
    // fails.
    let url = format!("sqlite://{}", data.path().join("optionhub.db").display());
    let mut locker = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .expect("lock");
    let outage = outage_then_flush(&server, &expiry, false).await;
    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock");
    let flushed = server
        .wait_history("flush", Duration::from_secs(60), |h| {
            h["written"].as_u64() > outage["written"].as_u64() && h["queued"].as_u64() < Some(3_000)
        })
        .await;
    assert!(flushed["dropped"].as_u64() >= outage["dropped"].as_u64());
    market_serves(&server, &expiry).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_queues_snapshots_answers_503_then_flushes() {
    let Some(database) = crate::common::ScratchPostgres::create("oh_hist").await else {
        return;
    };

    let data = tempfile::tempdir().expect("tempdir");
    let url = database.url.clone();
    let server = app(data.path(), busy_history())
        .configure(move |config| {
            config.store = StoreConfig {
                url,
                max_connections: 4,
                connect_wait: Duration::ZERO,
            };
        })
        .start()
        .await;
    let expiry = server.expiry().await;
    server
        .wait_history("first rows", Duration::from_secs(30), |h| {
            h["written"].as_u64() > Some(0)
        })
        .await;
    // The database goes away: no new connections, and the open ones are cut.
    database.allow_connections(false).await;
    let outage = outage_then_flush(&server, &expiry, true).await;
    database.allow_connections(true).await;
    let flushed = server
        .wait_history("flush", Duration::from_secs(60), |h| {
            h["written"].as_u64() > outage["written"].as_u64() && h["queued"].as_u64() < Some(3_000)
        })
        .await;
    assert!(flushed["write_failures"].as_u64() >= outage["write_failures"].as_u64());
    let (status, body) = server
        .get_json(&format!(
            "/fo/moneyness-series?underlying=NIFTY&expiry={expiry}&interval=1m"
        ))
        .await;
    assert_eq!(status, 200, "storage routes are back: {body}");
    server.stop().await;
    database.drop().await;
}
