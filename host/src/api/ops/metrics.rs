//! `GET /metrics` (Prometheus text) and the middleware that counts and times every HTTP
//! request by method, route template and status.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::api::AppState;
use crate::telemetry::metrics as recorder;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Counts and times one request. The route label is the matched template
/// (`/admin/plugins/{name}`), never the raw path, so labels stay few.
pub async fn track(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")),
    security(())
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    copy_counters(&state);
    match recorder::render() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response(),
    }
}

/// Values kept in atomics elsewhere, copied into the recorder just before rendering.
fn copy_counters(state: &AppState) {
    let feed = state.market.status().snapshot();
    metrics::counter!("feed_frames_total").absolute(feed.frames);
    for (kind, count) in &feed.packets {
        metrics::counter!("feed_packets_total", "kind" => *kind).absolute(*count);
    }
    for (kind, count) in &feed.decode_errors {
        metrics::counter!("feed_decode_errors_total", "kind" => kind.to_string()).absolute(*count);
    }
    metrics::counter!("feed_unknown_instruments_total").absolute(feed.unknown_instruments);
    metrics::gauge!("feed_connected").set(if feed.connected { 1.0 } else { 0.0 });
    // The session and the feed's silence judged by it, as `/status` reports them, so an
    // alert on a stalled feed need not know exchange hours or holidays.
    let market =
        crate::api::ops::status::MarketStatus::new(state.market.calendar().session(), &feed);
    metrics::gauge!("market_open").set(if market.session.open { 1.0 } else { 0.0 });
    metrics::gauge!("feed_stalled").set(if market.feed_stalled { 1.0 } else { 0.0 });
    let history = state.history.stats().queue;
    metrics::counter!("history_rows_written_total").absolute(history.written);
    metrics::gauge!("history_rows_queued").set(history.queued as f64);
    metrics::counter!("history_rows_dropped_total").absolute(history.dropped);
    metrics::counter!("history_write_failures_total").absolute(history.write_failures);
    let active = state.plugins.registry().active_plugins();
    metrics::gauge!("plugins_loaded").set(active.len() as f64);
    let pool = state.store.pool();
    metrics::gauge!("db_pool_size").set(f64::from(pool.size()));
    metrics::gauge!("db_pool_available").set(pool.num_idle() as f64);
}
