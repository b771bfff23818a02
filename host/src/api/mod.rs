//! The HTTP API. Each submodule owns a group of routes; [`router`] assembles them over
//! the shared [`AppState`].

use std::sync::Arc;
use std::time::Instant;

use axum::Router;

use crate::plugins::PluginHost;

pub mod health;
pub mod plugins;

/// What every handler can reach. Cheap to clone: `Arc`s only.
#[derive(Clone, Debug)]
pub struct AppState {
    pub plugins: Arc<PluginHost>,
    pub started: Instant,
}

impl AppState {
    pub fn new(plugins: Arc<PluginHost>) -> Self {
        Self {
            plugins,
            started: Instant::now(),
        }
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(plugins::routes())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
