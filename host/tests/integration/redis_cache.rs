//! The Redis cache layer in the real server: with `REDIS_URL` pointing at a live Redis
//! the health and metrics say so; with it pointing nowhere the server still starts,
//! answers every route from memory and says it is degraded. (Redis going away and
//! coming back under a running cache is tested in `store::shared_cache`.)

use optionhub::config::RedisConfig;
use serde_json::Value;

use crate::common::{TestApp, authed_get};

/// `redis_connected` is one gauge per process: these tests take turns.
static GAUGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn health(addr: std::net::SocketAddr) -> Value {
    reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("json")
}

async fn metrics_text(addr: std::net::SocketAddr) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

async fn chain_answer(addr: std::net::SocketAddr) -> reqwest::Response {
    let list: Value = authed_get(format!("http://{addr}/api/v2/market/underlyings"))
        .await
        .expect("underlyings")
        .json()
        .await
        .expect("json");
    let name = list[0]["name"].as_str().expect("name").to_string();
    let date = list[0]["expiries"][0]["date"]
        .as_str()
        .expect("date")
        .to_string();
    authed_get(format!(
        "http://{addr}/api/v2/options/live?underlying={name}&expiry={date}"
    ))
    .await
    .expect("live chain")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_degrades_to_memory_not_errors() {
    let _gauge = GAUGE.lock().await;
    let mut redis = RedisConfig::new("redis://127.0.0.1:1");
    redis.op_timeout = std::time::Duration::from_millis(50);
    let running = TestApp::builder()
        .no_plugins()
        .configure(|config| config.cache.redis = Some(redis))
        .start()
        .await;
    let first = chain_answer(running.addr).await;
    assert_eq!(first.status(), 200);
    let again = chain_answer(running.addr).await;
    assert_eq!(again.status(), 200);
    let health = health(running.addr).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["cache"]["redis"]["state"], "unavailable");
    assert!(health["cache"]["misses"].as_u64() >= Some(1));
    let text = metrics_text(running.addr).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("redis_connected") && l.ends_with(" 0")),
        "redis_connected 0 in /metrics"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_redis_is_reported_connected() {
    let Ok(url) = std::env::var("OPTIONHUB_TEST_REDIS_URL") else {
        eprintln!("skipped: OPTIONHUB_TEST_REDIS_URL is not set");
        return;
    };
    let _gauge = GAUGE.lock().await;
    let running = TestApp::builder()
        .no_plugins()
        .configure(|config| config.cache.redis = Some(RedisConfig::new(url)))
        .start()
        .await;
    assert_eq!(chain_answer(running.addr).await.status(), 200);
    let health = health(running.addr).await;
    assert_eq!(health["cache"]["redis"]["state"], "connected", "{health}");
    assert_eq!(health["cache"]["redis"]["errors"], 0);
    let text = metrics_text(running.addr).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("redis_connected") && l.ends_with(" 1")),
        "redis_connected 1 in /metrics"
    );
    running.stop().await;
}
