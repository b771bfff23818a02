//! Hostile plugins: each misbehaviour is stopped with a typed error, and the host keeps
//! serving afterwards (the same plugin, called normally, answers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use optionhub::config::PluginConfig;
use optionhub::plugins::{CallError, PluginHost, PluginSource, golden};

use crate::common::{host_with, scalar, wasm};

fn mode(name: &str) -> [(String, String); 1] {
    [("mode".to_string(), name.to_string())]
}

/// Calls the hostile plugin in `mode`, then checks a normal call still works.
fn run(
    host: &PluginHost,
    mode_name: &str,
) -> Result<optionhub::plugins::custom::AnalyticsResult, CallError> {
    let result = host
        .call_custom("hostile", &golden::priced_chain(), &mode(mode_name))
        .map(|s| s.value);
    let after = host
        .call_custom("hostile", &golden::priced_chain(), &[])
        .expect("the host keeps serving");
    assert_eq!(
        scalar(&after.value, "contracts"),
        Some(golden::CONTRACTS as f64)
    );
    result
}

#[test]
fn an_infinite_loop_is_stopped_by_the_deadline() {
    let host = host_with(&["hostile"]);
    let started = Instant::now();
    let err = run(&host, "loop").err();
    assert!(matches!(err, Some(CallError::Timeout { .. })), "{err:?}");
    let deadline = host.limits().deadline;
    // The deadline is 100 ms in 10 ms ticks; allow for scheduling on a loaded machine.
    assert!(
        started.elapsed() < deadline + Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("deadline")
    );
}

/// A host with the hostile plugin and a 10 s deadline, for tests of the other limits:
/// filling 64 MiB (or printing 20 MiB) takes tens of milliseconds when the machine is
/// idle, but the deadline is wall-clock, so under a loaded test run the default 100 ms
/// would sometimes stop the call before the limit under test is reached.
fn unhurried_host() -> Arc<PluginHost> {
    let mut config = PluginConfig::in_memory();
    config.limits.deadline = Duration::from_secs(10);
    let host = PluginHost::new(config).expect("engine");
    host.load_bytes(&wasm("hostile"), PluginSource::Bytes)
        .expect("loads");
    host
}

#[test]
fn a_memory_hog_is_stopped_at_the_cap() {
    let host = unhurried_host();
    let err = run(&host, "hog").err();
    match err {
        Some(CallError::MemoryLimit { cap_bytes, .. }) => assert_eq!(cap_bytes, 64 << 20),
        other => panic!("expected the memory cap, got {other:?}"),
    }
}

#[test]
fn a_panic_becomes_a_typed_trap_carrying_the_panic_message() {
    let host = host_with(&["hostile"]);
    match run(&host, "trap").err() {
        Some(CallError::Trap { plugin, message }) => {
            assert_eq!(plugin, "hostile");
            assert!(message.contains("panicked on purpose"), "{message}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn files_clock_and_environment_are_out_of_reach() {
    let host = host_with(&["hostile"]);
    let files = run(&host, "read-file").expect("answers");
    assert_eq!(
        scalar(&files, "file_bytes"),
        Some(-1.0),
        "no file could be read"
    );
    let clock = run(&host, "read-clock").expect("answers");
    assert_eq!(
        scalar(&clock, "clock_secs"),
        Some(0.0),
        "the clock is frozen at the epoch"
    );
    let env = run(&host, "read-env").expect("answers");
    assert_eq!(scalar(&env, "env_vars"), Some(0.0), "no environment");
}

#[test]
fn huge_output_is_refused() {
    let host = unhurried_host();
    let err = run(&host, "huge-output").err();
    assert!(
        matches!(
            err,
            Some(CallError::MemoryLimit { .. } | CallError::ResultTooLarge { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn output_within_memory_but_over_the_result_cap_is_refused() {
    let host = unhurried_host();
    // 3 million f64 = 24 MB: fits in the 64 MiB memory cap, not in the 16 MiB result cap,
    // so it is refused while being copied out of the guest.
    let params = [
        ("mode".to_string(), "huge-output".to_string()),
        ("len".to_string(), "3000000".to_string()),
    ];
    let err = host
        .call_custom("hostile", &golden::priced_chain(), &params)
        .err();
    match err {
        Some(CallError::ResultOverCap { cap, .. }) => assert_eq!(cap, 16 << 20),
        other => panic!("expected the result cap, got {other:?}"),
    }
}

#[test]
fn the_result_size_cap_applies_to_well_behaved_answers_too() {
    let mut config = PluginConfig::in_memory();
    config.limits.max_result_bytes = 16;
    let host = PluginHost::new(config).expect("engine");
    host.load_bytes(&wasm("probe"), PluginSource::Bytes)
        .expect("self-test has its own limits");
    let err = host
        .call_custom("probe", &golden::priced_chain(), &[])
        .err();
    assert!(
        matches!(err, Some(CallError::ResultTooLarge { cap: 16, .. })),
        "{err:?}"
    );
}

#[test]
fn chatty_output_is_captured_up_to_the_cap_without_failing_the_call() {
    let host = unhurried_host();
    run(&host, "print").expect("printing is not an error");
    let log = host.detail("hostile").expect("detail").recent_log;
    let last = log
        .iter()
        .rev()
        .find(|e| e.text.contains("dropped"))
        .expect("output was captured");
    let cap = host.limits().max_log_bytes;
    assert!(
        last.text.len() < cap + 100,
        "kept {} bytes, cap {cap}",
        last.text.len()
    );
}

#[test]
fn nan_in_an_answer_is_malformed_output() {
    let host = host_with(&["hostile"]);
    let err = run(&host, "nan").err();
    assert!(
        matches!(err, Some(CallError::MalformedOutput { .. })),
        "{err:?}"
    );
}

#[test]
fn failures_are_counted_by_kind() {
    let host = host_with(&["hostile"]);
    let _ = run(&host, "trap");
    let _ = run(&host, "loop");
    let stats = host
        .registry()
        .active("hostile")
        .expect("active")
        .stats()
        .snapshot();
    assert_eq!((stats.traps, stats.timeouts), (1, 1));
    assert_eq!(stats.calls, 4, "two hostile calls and two normal ones");
    assert_eq!(stats.consecutive_failures, 0, "the last call succeeded");
}

#[test]
fn nothing_survives_from_one_call_to_the_next() {
    // One slot forces every call into the same recycled memory; 0 allocates afresh.
    for call_slots in [1, 0, 64] {
        let mut config = PluginConfig::in_memory();
        config.call_slots = call_slots;
        let host = PluginHost::new(config).expect("engine");
        host.load_bytes(&wasm("probe"), PluginSource::Bytes)
            .expect("probe loads");
        let calls_seen = |host: &PluginHost| {
            host.call_custom("probe", &golden::priced_chain(), &[])
                .map(|answer| scalar(&answer.value, "calls_seen"))
        };
        for _ in 0..3 {
            assert_eq!(calls_seen(&host), Ok(Some(1.0)), "{call_slots} slots");
        }
        // A call that dies halfway leaves nothing behind either.
        let trap = [("trap".to_string(), String::new())];
        assert!(
            host.call_custom("probe", &golden::priced_chain(), &trap)
                .is_err()
        );
        assert_eq!(calls_seen(&host), Ok(Some(1.0)), "{call_slots} slots");
    }
}
