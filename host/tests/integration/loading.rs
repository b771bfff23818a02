//! Loading gates, rejection messages, the artifact cache, rollback, quarantine, unload.

use optionhub::config::PluginConfig;
use optionhub::plugins::artifacts::CompileSource;
use optionhub::plugins::contract::ContractError;
use optionhub::plugins::{
    Activation, CallError, LoadError, PluginHost, PluginSource, RegistryError, World, golden,
};

use crate::common::{host, host_with, probe_v2, scalar, wasm};

#[test]
fn the_probe_loads_and_answers() {
    let host = host_with(&["probe"]);
    let plugin = host.registry().active("probe").expect("probe is active");
    assert_eq!(plugin.world(), World::CustomAnalytics);
    assert_eq!(plugin.info.version, "1.0.0");
    let answer = host
        .call_custom("probe", &golden::priced_chain(), &[])
        .expect("call succeeds");
    assert_eq!(scalar(&answer.value, "build"), Some(1.0));
    assert_eq!(
        scalar(&answer.value, "contracts"),
        Some(golden::CONTRACTS as f64)
    );
    assert_eq!(answer.plugin.hash, plugin.hash);
    assert_eq!(
        plugin.stats().snapshot().calls,
        1,
        "load-time calls are not counted"
    );
}

#[test]
fn junk_and_core_modules_are_refused_with_a_reason() {
    let host = host();
    assert_eq!(
        host.load_bytes(b"definitely not wasm", PluginSource::Bytes)
            .err(),
        Some(LoadError::NotWasm)
    );
    // The smallest valid core module: magic + version 1.
    let core = b"\0asm\x01\0\0\0";
    let err = host.load_bytes(core, PluginSource::Bytes).err();
    assert_eq!(err, Some(LoadError::CoreModule));
    assert!(
        err.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("wasm32-wasip2")
    );
    // A component header with garbage after it does not compile.
    let err = host
        .load_bytes(b"\0asm\x0d\0\x01\0garbage", PluginSource::Bytes)
        .err();
    assert!(matches!(err, Some(LoadError::Compile(_))), "{err:?}");
    assert_eq!(
        host.registry().load_failures().len(),
        3,
        "every refusal is recorded"
    );
}

#[test]
fn a_component_of_another_world_is_refused_and_the_active_plugins_keep_serving() {
    let host = host_with(&["probe"]);
    let err = host
        .load_bytes(&wasm("wrong-world"), PluginSource::Bytes)
        .err();
    match &err {
        Some(LoadError::Contract(ContractError::ForeignComponent { exports })) => {
            assert!(
                exports.contains("greet"),
                "names what it exports: {exports}"
            )
        }
        other => panic!("expected a foreign-component refusal, got {other:?}"),
    }
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("not an optionhub analytics plugin"),
        "{message}"
    );
    let answer = host
        .call_custom("probe", &golden::priced_chain(), &[])
        .expect("probe still serves");
    assert_eq!(scalar(&answer.value, "build"), Some(1.0));
}

#[test]
fn a_plugin_whose_self_test_output_is_malformed_is_refused() {
    let host = host_with(&["probe"]);
    let err = host
        .load_bytes(&wasm("bad-selftest"), PluginSource::Bytes)
        .err();
    match err {
        Some(LoadError::SelfTest(CallError::MalformedOutput { plugin, problem })) => {
            assert_eq!(plugin, "bad-selftest");
            assert!(
                problem.contains("rows") || problem.contains("NaN"),
                "{problem}"
            );
        }
        other => panic!("expected a self-test refusal, got {other:?}"),
    }
    assert!(host.registry().active("bad-selftest").is_none());
    assert_eq!(host.summaries().len(), 1);
}

#[test]
fn the_artifact_cache_is_written_then_used_and_survives_corruption() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().join("plugin-cache");
    let config = || {
        let mut c = PluginConfig::in_memory();
        c.cache_dir = Some(dir.clone());
        c
    };
    let first = PluginHost::new(config()).expect("engine");
    let report = first
        .load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("loads");
    assert_eq!(report.plugin.compile, CompileSource::CompiledAndCached);

    // A restart (a new host on the same directory) loads the precompiled artifact.
    let second = PluginHost::new(config()).expect("engine");
    let report = second
        .load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("loads");
    assert_eq!(report.plugin.compile, CompileSource::Cached);

    // A damaged artifact is discarded and recompiled, not trusted. The damage replaces
    // the file (write + rename) rather than truncating it: the earlier hosts still map the
    // old inode, and truncating a mapped file is a SIGBUS waiting to happen.
    drop((first, second));
    for entry in std::fs::read_dir(&dir).expect("cache dir") {
        let path = entry.expect("entry").path();
        let damaged = path.with_extension("damaged");
        std::fs::write(&damaged, b"corrupt").expect("write");
        std::fs::rename(&damaged, &path).expect("replace");
    }
    let third = PluginHost::new(config()).expect("engine");
    let report = third
        .load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("loads");
    assert_eq!(report.plugin.compile, CompileSource::CompiledAndCached);
    let answer = third
        .call_custom("probe", &golden::priced_chain(), &[])
        .expect("serves");
    assert_eq!(scalar(&answer.value, "build"), Some(1.0));
}

#[test]
fn rollback_reactivates_the_previous_version_and_reloading_the_same_bytes_is_a_no_op() {
    let host = host_with(&["probe"]);
    let report = host
        .load_bytes(&probe_v2(), PluginSource::Bytes)
        .expect("v2 loads");
    assert_eq!(
        report.activation,
        Activation::Replaced {
            previous: "1.0.0".into()
        }
    );
    let again = host
        .load_bytes(&probe_v2(), PluginSource::Bytes)
        .expect("same bytes");
    assert_eq!(again.activation, Activation::AlreadyActive);

    let call = || {
        host.call_custom("probe", &golden::priced_chain(), &[])
            .expect("serves")
    };
    assert_eq!(scalar(&call().value, "build"), Some(2.0));
    let back = host.rollback("probe").expect("rollback");
    assert_eq!(back.version, "1.0.0");
    assert_eq!(scalar(&call().value, "build"), Some(1.0));
    assert_eq!(
        host.rollback("probe").err(),
        Some(RegistryError::NothingToRollBackTo("probe".into()))
    );
    assert_eq!(
        host.rollback("nope").err(),
        Some(RegistryError::NotFound("nope".into()))
    );
}

#[test]
fn repeated_failures_quarantine_a_version_and_the_previous_one_serves() {
    let host = host_with(&["probe"]);
    host.load_bytes(&probe_v2(), PluginSource::Bytes)
        .expect("v2 loads");
    // A chain v2 fails on whatever the parameters: the version's fault, not a caller's.
    let mut trapping = golden::priced_chain();
    trapping.chain.underlying = "TRAP".into();
    let limit = host.config().quarantine_after;
    let quarantines_before = quarantines_of("probe");
    for attempt in 1..=limit {
        let err = host.call_custom("probe", &trapping, &[]).err();
        match err {
            Some(CallError::Trap { message, .. }) => {
                assert!(
                    message.contains("probe build 2 asked to trap by the chain"),
                    "attempt {attempt}: {message}"
                )
            }
            other => panic!("attempt {attempt}: expected a trap, got {other:?}"),
        }
    }
    let detail = host.detail("probe").expect("detail");
    assert_eq!(
        detail.active.as_ref().map(|a| a.version.as_str()),
        Some("1.0.0")
    );
    assert_eq!(detail.quarantined.len(), 1);
    assert_eq!(detail.quarantined[0].version, "2.0.0");
    // Tests running alongside may quarantine probes too: the count only has to move.
    assert!(
        quarantines_of("probe") > quarantines_before,
        "plugin_quarantines_total counts the quarantine"
    );
    let answer = host
        .call_custom("probe", &golden::priced_chain(), &[])
        .expect("v1 serves");
    assert_eq!(scalar(&answer.value, "build"), Some(1.0));
}

/// `plugin_quarantines_total` for `plugin` in the process's Prometheus text (0 before
/// its first quarantine). Rendering installs the recorder, so call it before counting.
fn quarantines_of(plugin: &str) -> u64 {
    let text = optionhub::telemetry::metrics::render().expect("the metrics recorder installs");
    let series = format!("plugin_quarantines_total{{plugin=\"{plugin}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| {
            count.trim().parse().expect("a counter is an integer")
        })
}

#[test]
fn a_lone_failing_version_keeps_serving_and_recovers() {
    let host = host_with(&["probe"]);
    let trap = [("trap".to_string(), "1".to_string())];
    for _ in 0..host.config().quarantine_after + 2 {
        assert!(
            host.call_custom("probe", &golden::priced_chain(), &trap)
                .is_err()
        );
    }
    assert_eq!(host.detail("probe").map(|d| d.state), Some("failing"));
    assert!(
        host.call_custom("probe", &golden::priced_chain(), &[])
            .is_ok()
    );
    assert_eq!(host.detail("probe").map(|d| d.state), Some("active"));
}

#[test]
fn unload_removes_the_plugin() {
    let host = host_with(&["probe"]);
    host.unload("probe").expect("unloads");
    let err = host
        .call_custom("probe", &golden::priced_chain(), &[])
        .err();
    assert_eq!(
        err,
        Some(CallError::NotFound {
            name: "probe".into()
        })
    );
    assert_eq!(
        host.unload("probe").err(),
        Some(RegistryError::NotFound("probe".into()))
    );
}
