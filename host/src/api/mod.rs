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

pub mod health;
pub mod market;
pub mod plugins;
pub mod status;

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
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
