//! The HTTP API. Each submodule owns a group of routes; [`router`] assembles them over
//! the shared [`AppState`].

use std::sync::Arc;
use std::time::Instant;

use axum::Router;

use parking_lot::{Mutex, RwLock};

use crate::instruments::scrip_master::ScripMasterStatus;
use crate::market::MarketState;
use crate::market::seed::RestStatus;
use crate::market::subscriptions::PlanSummary;
use crate::pipeline::MarketPipeline;
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::LiveGreeks;

pub mod analytics;
pub mod cache;
pub mod depth;
pub mod fo;
pub mod fo_summary;
pub mod health;
pub mod market;
#[cfg(test)]
mod openapi_check;
pub mod params;
pub mod plugins;
pub mod priced;
pub mod status;
pub mod strategies;
pub mod strategy_legs;
pub mod strategy_request;

/// What every handler can reach. Cheap to clone: `Arc`s only.
#[derive(Clone, Debug)]
pub struct AppState {
    pub plugins: Arc<PluginHost>,
    pub market: Arc<MarketState>,
    pub greeks: Arc<LiveGreeks>,
    pub plan: Arc<RwLock<PlanSummary>>,
    pub rest: Arc<Mutex<RestStatus>>,
    pub scrip_master: Arc<Mutex<ScripMasterStatus>>,
    pub started: Instant,
    /// Serialized answers of the computed routes.
    pub cache: Arc<cache::ResponseCache>,
}

impl AppState {
    pub fn new(plugins: Arc<PluginHost>, pipeline: &MarketPipeline) -> Self {
        Self {
            plugins,
            market: pipeline.market.clone(),
            greeks: pipeline.greeks.clone(),
            plan: pipeline.plan.clone(),
            rest: pipeline.rest.clone(),
            scrip_master: pipeline.scrip_master.clone(),
            started: Instant::now(),
            cache: Arc::new(cache::ResponseCache::default()),
        }
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(plugins::routes())
        .merge(market::routes())
        .merge(status::routes())
        .merge(fo::routes())
        .merge(depth::routes())
        .merge(analytics::routes())
        .merge(strategies::routes())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
