//! Every metric the server records, with its kind and what it means: the `# HELP` and
//! `# TYPE` lines of `/metrics`, registered when the recorder is installed, so an
//! operator reading the scrape (or `promtool check metrics`) knows what each series is.
//!
//! A metric recorded anywhere in the code without an entry here fails this module's
//! test, which reads the sources.

use metrics::{describe_counter, describe_gauge, describe_histogram};

/// What a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

use Kind::{Counter, Gauge, Histogram};

/// Name, kind and help text of every metric.
const CATALOG: &[(&str, Kind, &str)] = &[
    (
        "http_requests_total",
        Counter,
        "HTTP answers, by method, route template and status",
    ),
    (
        "http_request_duration_seconds",
        Histogram,
        "Time to answer an HTTP request, by method, route template and status",
    ),
    (
        "http_request_timeouts_total",
        Counter,
        "HTTP requests answered 503 at their deadline",
    ),
    (
        "http_unread_bodies_abandoned_total",
        Counter,
        "Connections closed because an early answer left a large request body unread",
    ),
    (
        "http_compressions_total",
        Counter,
        "Compressed forms built for cached answers (at most one per entry and coding)",
    ),
    (
        "cache_hits_total",
        Counter,
        "Answers served from the answer cache (memory or Redis)",
    ),
    (
        "cache_misses_total",
        Counter,
        "Answers computed because the cache held none",
    ),
    (
        "redis_connected",
        Gauge,
        "1 while the Redis cache layer is reachable",
    ),
    (
        "redis_errors_total",
        Counter,
        "Failed Redis cache operations",
    ),
    ("db_pool_size", Gauge, "Open database connections"),
    ("db_pool_available", Gauge, "Idle database connections"),
    (
        "feed_connected",
        Gauge,
        "1 while at least one feed connection is up",
    ),
    (
        "feed_stalled",
        Gauge,
        "1 while the market is open and the feed has been silent too long",
    ),
    (
        "market_open",
        Gauge,
        "1 during the exchange session (IST calendar and holiday list)",
    ),
    (
        "feed_frames_total",
        Counter,
        "Binary frames received from the feed",
    ),
    (
        "feed_packets_total",
        Counter,
        "Packets decoded from the feed, by packet type",
    ),
    (
        "feed_decode_errors_total",
        Counter,
        "Feed packets that could not be decoded",
    ),
    (
        "feed_unknown_instruments_total",
        Counter,
        "Feed packets for instruments not in the registry",
    ),
    (
        "history_rows_written_total",
        Counter,
        "Chain-history rows written to the database",
    ),
    (
        "history_rows_queued",
        Gauge,
        "Chain-history rows waiting to be written",
    ),
    (
        "history_rows_dropped_total",
        Counter,
        "Chain-history rows dropped because the queue was full",
    ),
    (
        "history_write_failures_total",
        Counter,
        "Failed chain-history batch writes",
    ),
    (
        "plugins_loaded",
        Gauge,
        "Plugin versions loaded and serving",
    ),
    (
        "plugin_calls_total",
        Counter,
        "Plugin calls, by plugin and version",
    ),
    (
        "plugin_errors_total",
        Counter,
        "Failed plugin calls, by plugin, version and outcome",
    ),
    (
        "plugin_call_duration_seconds",
        Histogram,
        "Time a plugin call took, by plugin and version",
    ),
    (
        "plugin_quarantines_total",
        Counter,
        "Plugin versions quarantined after repeated failures, by plugin",
    ),
    ("ws_connections", Gauge, "Open WebSocket connections"),
    (
        "ws_channels_active",
        Gauge,
        "Channels with at least one subscriber",
    ),
    (
        "ws_messages_sent_total",
        Counter,
        "WebSocket messages sent to clients",
    ),
    (
        "ws_messages_dropped_total",
        Counter,
        "WebSocket updates replaced by a newer one before a slow client read them",
    ),
    (
        "ws_publish_duration_seconds",
        Histogram,
        "Time to build and hand out one publication",
    ),
    (
        "ws_deflate_compressions_total",
        Counter,
        "Publications deflated for permessage-deflate clients (once each)",
    ),
    (
        "ws_slow_disconnects_total",
        Counter,
        "WebSocket clients disconnected for reading too slowly",
    ),
    (
        "ws_flood_disconnects_total",
        Counter,
        "WebSocket clients disconnected for sending too many messages",
    ),
    (
        "ws_heartbeat_disconnects_total",
        Counter,
        "WebSocket clients disconnected for missing heartbeats",
    ),
    (
        "ws_revoked_disconnects_total",
        Counter,
        "WebSocket sessions closed because their token expired or their user lost access",
    ),
];

/// Registers every metric's help text with the installed recorder.
pub(super) fn describe_all() {
    for &(name, kind, help) in CATALOG {
        match kind {
            Counter => describe_counter!(name, help),
            Gauge => describe_gauge!(name, help),
            Histogram => describe_histogram!(name, help),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    /// `(name, kind)` of every `counter!`/`gauge!`/`histogram!` call in `dir`'s sources.
    fn recorded(dir: &Path, out: &mut BTreeMap<String, Kind>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                recorded(&path, out);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for (macro_name, kind) in [
                ("counter!(", Counter),
                ("gauge!(", Gauge),
                ("histogram!(", Histogram),
            ] {
                for (at, _) in text.match_indices(macro_name) {
                    let rest = text[at + macro_name.len()..].trim_start();
                    let Some(quoted) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let name: String = quoted
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && quoted[name.len()..].starts_with('"') {
                        out.insert(name, kind);
                    }
                }
            }
        }
    }

    #[test]
    fn every_recorded_metric_is_described_with_its_kind() {
        let mut seen = BTreeMap::new();
        // The host's sources and every layer crate's: each records into this catalog.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        recorded(&manifest.join("src"), &mut seen);
        recorded(&manifest.join("../crates"), &mut seen);
        assert!(seen.len() > 20, "the scan found the metrics: {seen:?}");
        let described: BTreeMap<String, Kind> = CATALOG
            .iter()
            .map(|&(name, kind, _)| (name.to_string(), kind))
            .collect();
        assert_eq!(seen, described, "recorded (left) vs described (right)");
    }
}
