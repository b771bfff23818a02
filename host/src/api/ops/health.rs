//! `GET /health`: is the server up, and what is it running; `GET /health/live` and
//! `GET /health/ready` for orchestrators.
//!
//! `/health` answers 200 whenever the process can answer at all, with a `status` of
//! `ok` or `degraded`; beside its own objects it carries the flat fields the monitors
//! of the analytics backend teams migrate from read (`cache_stats`, `database_status`,
//! `redis`, `uptime`), so those monitors keep working unchanged.
//!
//! Liveness and readiness are separate questions: a process whose database is down is
//! alive (restarting it would not help) but not ready (a load balancer should send its
//! traffic elsewhere). Ready means the database answers, the feed is connected and a
//! `greeks-model` plugin is loaded: without the last, every analytics route is a 503.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::api::AppState;
use crate::plugins::World;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database or Redis is unavailable.
    #[schema(value_type = String, pattern = "^(ok|degraded)$")]
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
    /// Seconds since start (the same as `uptime_seconds`, under the name monitors read).
    pub uptime: u64,
    pub feed: FeedHealth,
    pub plugins: PluginsHealth,
    pub database: crate::store::StoreHealth,
    /// The database in one word: `healthy` or `unhealthy`.
    #[schema(value_type = String, pattern = "^(healthy|unhealthy)$")]
    pub database_status: &'static str,
    /// Redis in one word: `healthy`, `unhealthy`, or `disabled` when not configured.
    #[schema(value_type = String, pattern = "^(healthy|unhealthy|disabled)$")]
    pub redis: &'static str,
    /// The response cache's hits (by layer), misses and size, and Redis's state.
    pub cache: crate::api::cache::CacheStats,
    /// The response cache's counters under the names monitors read.
    pub cache_stats: CacheCounters,
}

/// The feed in one line; `/status` has the detail.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FeedHealth {
    /// `dhan`, `simulator` or `replay`.
    #[schema(value_type = String)]
    pub source: crate::feed::status::FeedSource,
    pub connected: bool,
    /// Milliseconds since the last packet; null before the first.
    pub last_packet_age_ms: Option<i64>,
    pub chains: usize,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PluginsHealth {
    pub loaded: usize,
    pub failing: usize,
    pub refused_loads: usize,
}

/// Cache counters: L1 is the in-process memory cache, L2 is Redis.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CacheCounters {
    pub l1_hits: u64,
    pub l2_hits: u64,
    pub total_misses: u64,
    /// hits / (hits + misses); 0 before the first lookup.
    pub hit_rate: f64,
}

impl From<&crate::api::cache::CacheStats> for CacheCounters {
    fn from(stats: &crate::api::cache::CacheStats) -> Self {
        Self {
            l1_hits: stats.memory_hits,
            l2_hits: stats.hits.saturating_sub(stats.memory_hits),
            total_misses: stats.misses,
            hit_rate: stats.hit_rate,
        }
    }
}

/// `/health/live`: the process answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Liveness {
    /// Always `alive`.
    #[schema(value_type = String, pattern = "^alive$")]
    pub status: &'static str,
    pub uptime: u64,
}

/// `/health/ready`: whether the server can do its work, and what is missing if not.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub ready: bool,
    /// The parts that are not ready (`database`, `feed`, `greeks`); empty when ready.
    pub not_ready: Vec<&'static str>,
    pub checks: ReadinessChecks,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReadinessChecks {
    /// The database answers a query.
    pub database: bool,
    /// The market-data feed is connected.
    pub feed: bool,
    /// A `greeks-model` plugin is loaded.
    pub greeks: bool,
}

impl ReadinessChecks {
    fn not_ready(&self) -> Vec<&'static str> {
        [
            ("database", self.database),
            ("feed", self.feed),
            ("greeks", self.greeks),
        ]
        .into_iter()
        .filter_map(|(name, ok)| (!ok).then_some(name))
        .collect()
    }
}

/// The health routes, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(health, live, ready),
    components(schemas(
        Health,
        FeedHealth,
        PluginsHealth,
        CacheCounters,
        Liveness,
        Readiness,
        ReadinessChecks
    ))
)]
pub struct HealthApi;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

fn word(healthy: bool) -> &'static str {
    if healthy { "healthy" } else { "unhealthy" }
}

/// Is the server up, and what is it running.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The server is up", body = Health)),
    security(())
)]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let active = state.plugins.registry().active_plugins();
    let failing = active
        .iter()
        .filter(|p| p.stats().consecutive_failures() > 0)
        .count();
    let database = state.store.health().await;
    let feed = state.market.status().snapshot();
    let cache = state.cache.stats();
    let redis_ok = cache.redis.as_ref().map(|r| r.state == "connected");
    let database_ok = database.status == "ok";
    let uptime = state.started.elapsed().as_secs();
    Json(Health {
        feed: FeedHealth {
            source: feed.source,
            connected: feed.connected,
            last_packet_age_ms: feed.last_packet_age_ms,
            chains: state.market.chain_ids().len(),
        },
        // Market data and analytics need neither the database nor Redis: degraded,
        // not down, when one of them is.
        status: if database_ok && redis_ok.unwrap_or(true) {
            "ok"
        } else {
            "degraded"
        },
        database,
        database_status: word(database_ok),
        redis: redis_ok.map_or("disabled", word),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: uptime,
        uptime,
        plugins: PluginsHealth {
            loaded: active.len(),
            failing,
            refused_loads: state.plugins.registry().load_failures().len(),
        },
        cache_stats: CacheCounters::from(&cache),
        cache,
    })
}

/// The process is up (for liveness probes: answers whenever it can answer at all).
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Liveness)),
    security(())
)]
pub async fn live(State(state): State<AppState>) -> Json<Liveness> {
    Json(Liveness {
        status: "alive",
        uptime: state.started.elapsed().as_secs(),
    })
}

/// Whether the server can serve its traffic: database, feed and Greeks plugin.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready: `not_ready` names what is missing", body = Readiness),
    ),
    security(())
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let checks = ReadinessChecks {
        database: state.store.health().await.status == "ok",
        feed: state.market.status().is_connected(),
        greeks: state
            .plugins
            .registry()
            .active_for_world(World::GreeksModel)
            .is_some(),
    };
    let not_ready = checks.not_ready();
    let status = if not_ready.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        ready: not_ready.is_empty(),
        not_ready,
        checks,
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ready_names_each_missing_part() {
        let all = ReadinessChecks {
            database: true,
            feed: true,
            greeks: true,
        };
        assert!(all.not_ready().is_empty());
        let two = ReadinessChecks {
            database: false,
            feed: true,
            greeks: false,
        };
        assert_eq!(two.not_ready(), vec!["database", "greeks"]);
    }

    #[test]
    fn cache_counters_split_hits_by_layer() {
        let stats = crate::api::cache::CacheStats {
            hits: 10,
            misses: 5,
            hit_rate: 10.0 / 15.0,
            memory_hits: 7,
            redis: None,
            entries: 0,
            weighted_bytes: 0,
            compressions: 0,
        };
        let counters = CacheCounters::from(&stats);
        assert_eq!(
            (counters.l1_hits, counters.l2_hits, counters.total_misses),
            (7, 3, 5)
        );
        assert!((counters.hit_rate - stats.hit_rate).abs() < f64::EPSILON);
    }
}
