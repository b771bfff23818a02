//! `GET /health`: is the server up, and what is it running.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
    pub feed: FeedHealth,
    pub plugins: PluginsHealth,
    pub database: crate::store::StoreHealth,
    /// The response cache's hits (by layer), misses and size, and Redis's state.
    pub cache: super::cache::CacheStats,
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

pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
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
    let redis_ok = cache.redis.as_ref().is_none_or(|r| r.state == "connected");
    Json(Health {
        feed: FeedHealth {
            source: feed.source,
            connected: feed.connected,
            last_packet_age_ms: feed.last_packet_age_ms,
            chains: state.market.chain_ids().len(),
        },
        // Market data and analytics need neither the database nor Redis: degraded,
        // not down, when one of them is.
        status: if database.status == "ok" && redis_ok {
            "ok"
        } else {
            "degraded"
        },
        database,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        plugins: PluginsHealth {
            loaded: active.len(),
            failing,
            refused_loads: state.plugins.registry().load_failures().len(),
        },
        cache,
    })
}
