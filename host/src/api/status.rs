//! `GET /status`: what the feed is doing: connection states, the subscription plan,
//! instruments tracked, packets by type, decode errors, the age of the last packet, and
//! how the REST side is faring.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use crate::feed::status::FeedStatusSnapshot;
use crate::instruments::scrip_master::ScripMasterStatus;
use crate::market::seed::RestStatus;
use crate::market::subscriptions::PlanSummary;

pub fn routes() -> Router<AppState> {
    Router::new().route("/status", get(status))
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub feed: FeedStatusSnapshot,
    pub subscriptions: PlanSummary,
    pub rest: RestStatus,
    pub scrip_master: ScripMasterStatus,
    pub instruments_tracked: usize,
    pub chains: usize,
}

async fn status(State(state): State<AppState>) -> Json<Status> {
    Json(Status {
        feed: state.market.status().snapshot(),
        subscriptions: state.plan.read().clone(),
        rest: state.rest.lock().clone(),
        scrip_master: state.scrip_master.lock().clone(),
        instruments_tracked: state.market.registry().len(),
        chains: state.market.chain_ids().len(),
    })
}
