//! The health routes against the real server with a real HTTP client and no token:
//! `/health` keeps its objects and carries the flat fields monitors read,
//! `/health/live` answers whenever the process does, and `/health/ready` is 200 only
//! once the database, the feed and a Greeks plugin are all there, naming what is
//! missing in its 503 otherwise.

use std::time::{Duration, Instant};

use crate::common::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_keeps_its_objects_and_adds_the_monitor_fields() {
    let server = TestApp::builder().start().await;
    // The flat counters must be the detailed object's, renamed.
    let (status, health) = server.get_json_as("/health", None).await;
    assert_eq!(status, 200, "{health}");
    for kept in ["status", "version", "uptime_seconds", "feed", "plugins"] {
        assert!(!health[kept].is_null(), "{kept} missing: {health}");
    }
    assert_eq!(health["database"]["status"], "ok", "{health}");
    assert_eq!(health["database_status"], "healthy");
    assert_eq!(health["redis"], "disabled", "no REDIS_URL in this test");
    assert!(health["uptime"].is_u64(), "{health}");
    let stats = &health["cache_stats"];
    let cache = &health["cache"];
    assert_eq!(stats["l1_hits"], cache["memory_hits"], "{health}");
    assert_eq!(stats["total_misses"], cache["misses"], "{health}");
    let l2 = cache["hits"].as_u64().expect("hits") - cache["memory_hits"].as_u64().expect("l1");
    assert_eq!(stats["l2_hits"].as_u64(), Some(l2));
    assert!(stats["hit_rate"].is_f64() || stats["hit_rate"].is_u64());

    let (status, live) = server.get_json_as("/health/live", None).await;
    assert_eq!((status, live["status"].as_str()), (200, Some("alive")));

    // Ready once the simulated feed has connected (the plugin and database already are).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, ready) = server.get_json_as("/health/ready", None).await;
        if status == 200 {
            assert_eq!(ready["ready"], true);
            assert_eq!(ready["not_ready"], serde_json::json!([]));
            break;
        }
        assert_eq!(status, 503, "{ready}");
        assert_eq!(ready["not_ready"], serde_json::json!(["feed"]), "{ready}");
        assert!(Instant::now() < deadline, "never ready: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_greeks_plugin_the_server_is_alive_but_not_ready() {
    let server = TestApp::builder().no_plugins().start().await;
    let (status, live) = server.get_json_as("/health/live", None).await;
    assert_eq!((status, live["status"].as_str()), (200, Some("alive")));
    // Give the feed time to connect, so only the plugin is missing.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let (status, ready) = server.get_json_as("/health/ready", None).await;
        assert_eq!(status, 503, "no Greeks plugin, never ready: {ready}");
        if ready["checks"]["feed"] == true || Instant::now() > deadline {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["not_ready"], serde_json::json!(["greeks"]), "{ready}");
    assert_eq!(ready["checks"]["database"], true);
    // /health itself still answers 200: the process is up, analytics are what is missing.
    let (status, health) = server.get_json_as("/health", None).await;
    assert_eq!(status, 200);
    assert_eq!(health["plugins"]["loaded"], 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_database_makes_the_server_unready_until_it_is_back() {
    let Some(database) = crate::common::ScratchPostgres::create("oh_health").await else {
        eprintln!("skipped: OPTIONHUB_TEST_POSTGRES_URL is not set");
        return;
    };
    let url = database.url.clone();
    let server = TestApp::builder()
        .configure(move |config| {
            config.store = optionhub::config::StoreConfig {
                max_connections: 2,
                connect_wait: Duration::ZERO,
                ..optionhub::config::StoreConfig::new(url)
            };
        })
        .start()
        .await;
    let ready_is = |want: u16| {
        let server = &server;
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let (status, body) = server.get_json_as("/health/ready", None).await;
                if status == want {
                    return body;
                }
                assert!(Instant::now() < deadline, "never {want}: {body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    ready_is(200).await;

    database.allow_connections(false).await;
    let unready = ready_is(503).await;
    assert_eq!(
        unready["not_ready"],
        serde_json::json!(["database"]),
        "{unready}"
    );
    let (status, health) = server.get_json_as("/health", None).await;
    assert_eq!(status, 200, "still alive: {health}");
    assert_eq!(
        (
            health["database_status"].as_str(),
            health["status"].as_str()
        ),
        (Some("unhealthy"), Some("degraded")),
        "{health}"
    );
    assert_eq!(server.get_json_as("/health/live", None).await.0, 200);

    database.allow_connections(true).await;
    ready_is(200).await;
    server.stop().await;
    database.drop().await;
}
