//! The plugin sandbox under abuse: plugins that try to wait inside host calls (where the
//! CPU deadline cannot reach) are stopped at once, and seventy of them at a time leave
//! Greeks and `/fo/summary` serving; call slots are waited for only so long; results too
//! big for the host are refused while being copied; plugin-supplied text is cut before
//! it reaches errors; one caller's input cannot quarantine a version for everyone; the
//! artifact cache is private and authenticated; the directory loader refuses oversized
//! files from their size.

use std::time::{Duration, Instant};

use optionhub::auth::Role;
use optionhub::config::PluginConfig;
use optionhub::plugins::engine::EPOCH_TICK;
use optionhub::plugins::error::MAX_ERROR_TEXT;
use optionhub::plugins::{CallError, PluginHost, PluginSource, golden};

use crate::common::{host_with, overreach_long_name, probe_v2, wasm, wasm_path};
use crate::portfolio::{Client, atm_contracts, start};

fn mode(name: &str) -> Vec<(String, String)> {
    vec![("mode".to_string(), name.to_string())]
}

fn call(host: &PluginHost, params: &[(String, String)]) -> Result<(), CallError> {
    host.call_custom("overreach", &golden::priced_chain(), params)
        .map(drop)
}

#[test]
fn plugins_that_wait_on_a_clock_are_stopped_at_once_with_a_clear_error() {
    let host = host_with(&["overreach"]);
    let bound = host.limits().deadline + EPOCH_TICK;
    for name in ["sleep", "block", "sleep-until", "poll"] {
        let started = Instant::now();
        let error = call(&host, &mode(name)).err();
        let took = started.elapsed();
        assert!(took < bound, "{name}: took {took:?}, bound {bound:?}");
        match &error {
            Some(error @ CallError::Blocked { .. }) => {
                assert_eq!(error.code(), "plugin_blocked");
                assert!(
                    error.to_string().contains("plugins may not block"),
                    "{name}: {error}"
                );
            }
            other => panic!("{name}: expected a blocked call, got {other:?}"),
        }
        assert!(call(&host, &[]).is_ok(), "{name}: the plugin still serves");
    }
}

#[test]
fn plugins_that_busy_poll_ready_pollables_are_stopped_at_the_deadline() {
    let host = host_with(&["overreach"]);
    let deadline = host.limits().deadline;
    for name in ["spin-ready", "zero-sleep"] {
        let started = Instant::now();
        let error = call(&host, &mode(name)).err();
        let took = started.elapsed();
        assert!(
            matches!(error, Some(CallError::Timeout { .. })),
            "{name}: {error:?}"
        );
        // Deadline plus one tick, and room for the thread to be scheduled on a machine
        // the other tests keep busy.
        assert!(
            took < deadline + EPOCH_TICK + Duration::from_millis(400),
            "{name}: took {took:?}"
        );
    }
}

#[test]
fn a_call_that_finds_every_slot_busy_gives_up_with_a_clear_error() {
    let mut config = PluginConfig::in_memory();
    config.call_slots = 1;
    config.slot_wait = Duration::from_millis(50);
    // The spinning call holds the one slot for a second, far longer than the wait.
    config.limits.deadline = Duration::from_secs(1);
    let host = PluginHost::new(config).expect("engine");
    host.load_bytes(&wasm("hostile"), PluginSource::Bytes)
        .expect("loads");
    let spinning = std::thread::spawn({
        let host = host.clone();
        move || {
            host.call_custom("hostile", &golden::priced_chain(), &mode("loop"))
                .err()
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let error = host
        .call_custom("hostile", &golden::priced_chain(), &[])
        .err();
    match &error {
        Some(error @ CallError::Busy { slots: 1, .. }) => {
            assert_eq!(error.code(), "plugins_busy");
            assert!(error.to_string().contains("busy"), "{error}");
        }
        other => panic!("expected plugins_busy, got {other:?}"),
    }
    let spun = spinning.join().expect("the spinning call ends");
    assert!(matches!(spun, Some(CallError::Timeout { .. })), "{spun:?}");
    let stats = host
        .registry()
        .active("hostile")
        .map(|p| p.stats().snapshot())
        .expect("active");
    assert_eq!(stats.calls, 1, "a call that never ran is not counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seventy_blocking_calls_leave_greeks_and_the_summary_serving() {
    let data = tempfile::tempdir().expect("tempdir");
    let plugins = data.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    std::fs::copy(wasm_path("overreach"), plugins.join("overreach.wasm")).expect("copy");
    let running = start(data.path()).await;
    let client = Client::new(&running, "abuser", Role::Trader);
    atm_contracts(&client).await;
    let expiry = first_expiry(&client).await;
    let greeks_calls = || {
        running
            .state
            .plugins
            .registry()
            .active("greeks-black76")
            .map_or(0, |p| p.stats().snapshot().calls)
    };
    let before = greeks_calls();

    let started = Instant::now();
    let calls: Vec<_> = (0..70)
        .map(|_| {
            let path =
                format!("/api/v2/analytics/overreach?underlying=NIFTY&expiry={expiry}&mode=sleep");
            let client = Client::new(&running, "abuser", Role::Trader);
            tokio::spawn(async move { client.get(&path).await })
        })
        .collect();
    let (status, _) = client
        .get(&format!("/fo/summary?underlying=NIFTY&expiry={expiry}"))
        .await;
    assert_eq!(status, 200, "the summary answers while the calls are made");
    for answer in calls {
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .expect("every blocking call is answered promptly")
            .expect("task");
        assert_eq!(body["error"]["code"], "plugin_blocked", "{status} {body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let wait_from = Instant::now();
    while greeks_calls() <= before {
        assert!(
            wait_from.elapsed() < Duration::from_secs(10),
            "Greeks stopped being recomputed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = client
        .get(&format!("/fo/summary?underlying=NIFTY&expiry={expiry}"))
        .await;
    assert_eq!(status, 200);
}

async fn first_expiry(client: &Client) -> String {
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (_, expiries) = client
        .get("/api/v2/options/expiries?underlying=NIFTY")
        .await;
    expiries["expiries"]
        .as_array()
        .and_then(|list| {
            list.iter()
                .filter_map(|e| e["date"].as_str())
                .find(|d| *d != today)
                .map(str::to_string)
        })
        .expect("a future expiry")
}

#[test]
fn a_result_too_big_for_the_host_is_refused_while_it_is_copied() {
    // A deadline no busy machine reaches while the plugin builds its answer: the result
    // cap, not the clock, must be what stops the call.
    let mut config = PluginConfig::in_memory();
    config.limits.deadline = Duration::from_secs(5);
    let host = PluginHost::new(config).expect("engine");
    host.load_bytes(&wasm("overreach"), PluginSource::Bytes)
        .expect("loads");
    let error = call(&host, &mode("many-series")).err();
    match &error {
        Some(error @ CallError::ResultOverCap { cap, .. }) => {
            assert_eq!(*cap, host.limits().max_result_bytes);
            assert_eq!(error.code(), "plugin_result_too_large");
        }
        other => panic!("expected the result cap while copying, got {other:?}"),
    }
    assert!(call(&host, &[]).is_ok(), "the plugin still serves");
}

#[test]
fn plugin_text_is_cut_before_it_reaches_errors_logs_and_the_listing() {
    let host = host_with(&["overreach"]);
    let bound = 2 * MAX_ERROR_TEXT;
    for name in ["long-error", "long-column"] {
        let error = call(&host, &mode(name)).expect_err("refused");
        let text = error.to_string();
        assert!(text.len() < bound, "{name}: {} bytes", text.len());
    }
    let detail = host.detail("overreach").expect("detail");
    for entry in &detail.recent_log {
        assert!(entry.text.len() < bound, "{} bytes kept", entry.text.len());
    }

    let error = host
        .load_bytes(&overreach_long_name(), PluginSource::Bytes)
        .expect_err("a 1 MiB name is refused");
    assert_eq!(error.code(), "plugin_info_failed");
    assert!(
        error.to_string().len() < bound,
        "{} bytes",
        error.to_string().len()
    );
    for failure in host.registry().load_failures() {
        assert!(failure.error.len() < bound, "{} bytes", failure.error.len());
    }
}

#[test]
fn one_callers_input_cannot_quarantine_a_version() {
    let host = host_with(&["probe"]);
    host.load_bytes(&probe_v2(), PluginSource::Bytes)
        .expect("v2 loads");
    let trap = [("trap".to_string(), "1".to_string())];
    for _ in 0..host.config().quarantine_after * 3 {
        let error = host
            .call_custom("probe", &golden::priced_chain(), &trap)
            .err();
        assert!(matches!(error, Some(CallError::Trap { .. })), "{error:?}");
    }
    let detail = host.detail("probe").expect("detail");
    assert!(detail.quarantined.is_empty(), "v2 was quarantined");
    assert_eq!(
        detail.active.as_ref().map(|a| a.version.as_str()),
        Some("2.0.0")
    );
}

#[test]
fn the_artifact_cache_is_created_private_and_refused_when_not() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().join("plugin-cache");
    let config = || {
        let mut c = PluginConfig::in_memory();
        c.cache_dir = Some(dir.clone());
        c
    };
    drop(PluginHost::new(config()).expect("starts"));
    let mode = std::fs::metadata(&dir)
        .expect("created")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "mode {mode:o}");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let refused = PluginHost::new(config()).err().map(|e| format!("{e:#}"));
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("writable")),
        "{refused:?}"
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o720)).expect("chmod");
    assert!(PluginHost::new(config()).is_err(), "group-writable refused");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");

    let key = data.path().join("plugin-cache.key");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "key mode {mode:o}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = PluginHost::new(config()).err().map(|e| format!("{e:#}"));
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("readable")),
        "{refused:?}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    let elsewhere = data.path().join("elsewhere");
    std::fs::rename(&dir, &elsewhere).expect("move");
    std::os::unix::fs::symlink(&elsewhere, &dir).expect("symlink");
    let refused = PluginHost::new(config()).err().map(|e| format!("{e:#}"));
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("symbolic link")),
        "{refused:?}"
    );
}

#[test]
fn a_planted_artifact_is_recompiled_not_executed() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().join("plugin-cache");
    let config = || {
        let mut c = PluginConfig::in_memory();
        c.cache_dir = Some(dir.clone());
        c
    };
    let first = PluginHost::new(config()).expect("starts");
    let probe = first
        .load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("probe loads");
    let hostile = first
        .load_bytes(&wasm("hostile"), PluginSource::Bytes)
        .expect("hostile loads");
    drop(first);
    let artifact_of = |hash: &str| {
        std::fs::read_dir(&dir)
            .expect("cache")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(hash) && n.ends_with(".cwasm"))
            })
            .expect("artifact")
    };
    // A genuine artifact (the probe's machine code) planted under the hostile plugin's
    // name, through a rename as a careful attacker would.
    let target = artifact_of(&hostile.plugin.hash);
    let planted = dir.join("planted.tmp");
    std::fs::copy(artifact_of(&probe.plugin.hash), &planted).expect("copy");
    std::fs::rename(&planted, &target).expect("plant");

    let second = PluginHost::new(config()).expect("starts");
    let report = second
        .load_bytes(&wasm("hostile"), PluginSource::Bytes)
        .expect("hostile loads");
    assert_eq!(
        report.plugin.name, "hostile",
        "the planted code did not run"
    );
    assert_eq!(
        report.plugin.compile,
        optionhub::plugins::artifacts::CompileSource::CompiledAndCached
    );
}

#[test]
fn the_directory_loader_refuses_an_oversized_file_from_its_size() {
    let data = tempfile::tempdir().expect("tempdir");
    let path = data.path().join("huge.wasm");
    let file = std::fs::File::create(&path).expect("create");
    // Sparse: 64 MiB by its size, nothing on disk.
    file.set_len(64 << 20).expect("set_len");
    let host = host_with(&[]);
    let error = host.load_file(&path).expect_err("refused");
    assert_eq!(error.code(), "plugin_too_large", "{error}");
}
