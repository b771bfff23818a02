//! `GET /health`: is the server up, and what is it running.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;

#[derive(Debug, serde::Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
    pub plugins: PluginsHealth,
    /// The response cache's hits, misses and size.
    pub cache: super::cache::CacheStats,
}

#[derive(Debug, serde::Serialize)]
pub struct PluginsHealth {
    pub loaded: usize,
    pub failing: usize,
    pub refused_loads: usize,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    let active = state.plugins.registry().active_plugins();
    let failing = active
        .iter()
        .filter(|p| p.stats().consecutive_failures() > 0)
        .count();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        plugins: PluginsHealth {
            loaded: active.len(),
            failing,
            refused_loads: state.plugins.registry().load_failures().len(),
        },
        cache: state.cache.stats(),
    })
}
