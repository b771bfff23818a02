//! Prometheus metrics: one process-wide recorder (the `metrics` facade), installed on
//! first use, rendered as Prometheus text by `GET /metrics`.
//!
//! Code anywhere records with `metrics::counter!` / `histogram!` / `gauge!`; values that
//! already live in atomics elsewhere (feed counters, cache counts) are copied in just
//! before rendering instead of being counted twice.
//!
//! The recorder keeps every histogram sample in a buffer until upkeep folds it into the
//! buckets; with no Prometheus scraping `/metrics`, nothing else would ever empty that
//! buffer, and a server recording a few thousand samples a second would grow by tens of
//! megabytes an hour. So the recorder is installed together with an upkeep thread.

use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// How often the upkeep thread folds buffered histogram samples into their buckets:
/// the buffer holds at most this long's samples (about 8 bytes each).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Name of the upkeep thread (seen in `top -H` and `/proc/<pid>/task/*/comm`).
const UPKEEP_THREAD: &str = "metrics-upkeep";

/// The process's recorder handle; installs the recorder (and its upkeep thread) on first
/// call. `None` when some other recorder was installed first (then `/metrics` says so).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Suffix("_latency_seconds".into()),
                        LATENCY_BUCKETS,
                    )
                });
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => {
                    super::catalog::describe_all();
                    spawn_upkeep(handle.clone());
                    Some(handle)
                }
                Err(error) => {
                    tracing::error!(%error, "cannot install the metrics recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Runs upkeep every [`UPKEEP_EVERY`] for the life of the process. A plain thread, not a
/// task: the recorder may be installed before (or without) a Tokio runtime.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = thread::Builder::new()
        .name(UPKEEP_THREAD.into())
        .spawn(move || {
            loop {
                thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        // Metrics still work; only unscraped histogram samples accumulate.
        tracing::error!(%error, "cannot start the metrics upkeep thread");
    }
}

/// Prometheus text of everything recorded so far.
pub fn render() -> Option<String> {
    let handle = handle()?;
    handle.run_upkeep();
    Some(handle.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of this process's threads, from procfs.
    fn thread_names() -> Vec<String> {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .collect()
    }

    #[test]
    fn installing_the_recorder_starts_its_upkeep_thread() {
        assert!(
            handle().is_some(),
            "no other recorder is installed in unit tests"
        );
        // The new thread names itself once it starts running, a moment after `spawn`
        // returns, so a single look at procfs can come too early.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut names = thread_names();
        while !names.iter().any(|name| name == UPKEEP_THREAD)
            && std::time::Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(10));
            names = thread_names();
        }
        assert!(
            names.iter().any(|name| name == UPKEEP_THREAD),
            "threads: {names:?}"
        );
    }
}
