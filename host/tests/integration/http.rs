//! The real server on 127.0.0.1:0 with a plugin directory, exercised with a real HTTP
//! client: health, the plugin list, and a plugin dropped in while it runs.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{TestApp, wasm_path};

const BUNDLED: [&str; 4] = [
    "greeks-black76",
    "oi-analytics",
    "strategy-valuation",
    "gamma-exposure",
];

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["plugins"]
        .as_array()
        .expect("plugins array")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_and_the_bundled_plugins_and_hot_loads_a_new_one() {
    let data = tempfile::tempdir().expect("tempdir");
    let plugin_dir = data.path().join("plugins");
    let running = TestApp::builder()
        .plugins(&BUNDLED)
        .data_dir(data.path())
        .start()
        .await;

    let (status, health) = running.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["plugins"]["loaded"], 4);
    assert_eq!(health["database"]["status"], "ok");
    assert_eq!(health["database"]["backend"], "sqlite");
    assert_eq!(health["feed"]["source"], "simulator");

    let (status, list) = running.get_json("/api/v2/plugins").await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&list),
        [
            "gamma-exposure",
            "greeks-black76",
            "oi-analytics",
            "strategy-valuation"
        ]
    );
    let greeks = list["plugins"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "greeks-black76"))
        .cloned();
    let greeks = greeks.expect("greeks listed");
    assert_eq!(greeks["world"], "greeks-model");
    assert_eq!(greeks["hash"].as_str().map(str::len), Some(64));
    assert!(
        greeks["loaded_at"].is_string()
            && greeks["calls"].is_number()
            && greeks["errors"].is_number()
    );

    // The artifact cache was filled on start.
    let cached = std::fs::read_dir(data.path().join("plugin-cache"))
        .expect("cache dir")
        .count();
    assert_eq!(cached, 4);

    // Drop a new plugin in while serving: temporary name, then rename.
    let temporary = plugin_dir.join("probe.tmp");
    std::fs::copy(wasm_path("probe"), &temporary).expect("copy");
    std::fs::rename(&temporary, plugin_dir.join("probe.wasm")).expect("rename");
    let started = Instant::now();
    loop {
        let (_, list) = running.get_json("/api/v2/plugins").await;
        if names(&list).contains(&"probe".to_string()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "probe never appeared"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let response = crate::common::authed_get(running.url("/no/such/route"))
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 404);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_plugin_is_reported_and_does_not_stop_the_server() {
    let data = tempfile::tempdir().expect("tempdir");
    let plugin_dir = data.path().join("plugins");
    std::fs::create_dir_all(&plugin_dir).expect("mkdir");
    std::fs::write(plugin_dir.join("junk.wasm"), b"not wasm").expect("write");
    let running = TestApp::builder()
        .plugins(&["wrong-world"])
        .data_dir(data.path())
        .start()
        .await;
    let (status, list) = running.get_json("/api/v2/plugins").await;
    assert_eq!(status, 200);
    assert!(names(&list).is_empty());
    let refused = list["refused"].as_array().expect("refused array");
    assert_eq!(refused.len(), 2);
    let codes: Vec<&str> = refused.iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(
        codes.contains(&"plugin_not_wasm") && codes.contains(&"plugin_contract_mismatch"),
        "{codes:?}"
    );
    running.stop().await;
}
