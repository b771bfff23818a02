//! Hot swap under load: while threads call a plugin continuously, a new version is
//! activated (by API and by renaming a file into the watched directory). No call may
//! fail, every answer must come from exactly one version (its content and its stamp
//! agree), and once a thread has seen the new version it never sees the old one again.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use optionhub::config::PluginConfig;
use optionhub::plugins::artifacts::content_hash;
use optionhub::plugins::{PluginHost, PluginSource, golden, watcher};

use crate::common::{probe_v2, scalar, wasm};

/// Per-thread record of which build answered each call, in order.
fn call_continuously(
    host: &Arc<PluginHost>,
    stop: &Arc<AtomicBool>,
    threads: usize,
) -> Vec<thread::JoinHandle<Vec<f64>>> {
    let (hash_v1, hash_v2) = (content_hash(&wasm("probe")), content_hash(&probe_v2()));
    (0..threads)
        .map(|_| {
            let (host, stop, hash_v1, hash_v2) = (
                Arc::clone(host),
                Arc::clone(stop),
                hash_v1.clone(),
                hash_v2.clone(),
            );
            thread::spawn(move || {
                let chain = golden::priced_chain();
                let mut builds = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let answer = host
                        .call_custom("probe", &chain, &[])
                        .unwrap_or_else(|e| panic!("call failed during swap: {e}"));
                    let build = scalar(&answer.value, "build").expect("build scalar");
                    let expected_hash = if build == 1.0 { &hash_v1 } else { &hash_v2 };
                    assert_eq!(
                        &answer.plugin.hash, expected_hash,
                        "answer and stamp disagree"
                    );
                    builds.push(build);
                }
                builds
            })
        })
        .collect()
}

fn check_histories(handles: Vec<thread::JoinHandle<Vec<f64>>>) {
    let mut saw_new = false;
    for handle in handles {
        let builds = handle.join().expect("caller thread");
        assert!(!builds.is_empty());
        let first_new = builds
            .iter()
            .position(|b| *b == 2.0)
            .unwrap_or(builds.len());
        assert!(
            builds[first_new..].iter().all(|b| *b == 2.0),
            "a thread went back to the old version"
        );
        assert!(builds[..first_new].iter().all(|b| *b == 1.0));
        saw_new |= first_new < builds.len();
    }
    assert!(saw_new, "no thread saw the new version");
}

#[test]
fn swapping_by_api_under_load_loses_no_call() {
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    host.load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("v1 loads");
    let stop = Arc::new(AtomicBool::new(false));
    let handles = call_continuously(&host, &stop, 3);
    thread::sleep(Duration::from_millis(150));
    host.load_bytes(&probe_v2(), PluginSource::Bytes)
        .expect("v2 loads");
    thread::sleep(Duration::from_millis(150));
    stop.store(true, Ordering::Relaxed);
    check_histories(handles);
}

fn install(dir: &Path, name: &str, bytes: &[u8]) {
    // The documented procedure: write under a temporary name, then rename into place.
    let temporary = dir.join(format!(".{name}.partial"));
    std::fs::write(&temporary, bytes).expect("write");
    std::fs::rename(&temporary, dir.join(name)).expect("rename");
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

#[test]
fn a_file_renamed_into_the_watched_directory_replaces_the_version_under_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    let _watcher = watcher::watch(Arc::clone(&host), dir.path()).expect("watch");

    install(dir.path(), "probe.wasm", &wasm("probe"));
    wait_for("v1", Duration::from_secs(20), || {
        host.registry().active("probe").is_some()
    });

    let stop = Arc::new(AtomicBool::new(false));
    let handles = call_continuously(&host, &stop, 2);
    thread::sleep(Duration::from_millis(100));
    install(dir.path(), "probe.wasm", &probe_v2());
    let v2 = content_hash(&probe_v2());
    wait_for("v2", Duration::from_secs(20), || {
        host.registry()
            .active("probe")
            .is_some_and(|p| p.hash == v2)
    });
    thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    check_histories(handles);
}

#[test]
fn a_file_written_in_place_is_not_loaded_half_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    let _watcher = watcher::watch(Arc::clone(&host), dir.path()).expect("watch");
    // A plain write (no rename) of a truncated component: never picked up.
    let bytes = wasm("probe");
    std::fs::write(dir.path().join("partial.wasm"), &bytes[..bytes.len() / 2]).expect("write");
    thread::sleep(Duration::from_millis(400));
    assert!(
        host.registry().load_failures().is_empty(),
        "a half-written file was loaded"
    );
    assert!(host.summaries().is_empty());
    // Renaming a complete file in still works.
    install(dir.path(), "probe.wasm", &bytes);
    wait_for("probe", Duration::from_secs(20), || {
        host.registry().active("probe").is_some()
    });
}
