//! Prometheus metrics: one process-wide recorder (the `metrics` facade), installed on
//! first use, rendered as Prometheus text by `GET /metrics`.
//!
//! Code anywhere records with `metrics::counter!` / `histogram!` / `gauge!`; values that
//! already live in atomics elsewhere (feed counters, cache counts) are copied in just
//! before rendering instead of being counted twice.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The process's recorder handle; installs the recorder on first call. `None` when some
/// other recorder was installed first (then `/metrics` says so).
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
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::error!(%error, "cannot install the metrics recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Prometheus text of everything recorded so far.
pub fn render() -> Option<String> {
    let handle = handle()?;
    handle.run_upkeep();
    Some(handle.render())
}
