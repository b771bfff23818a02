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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// Connections, packets by type, decode errors, last packet age.
    #[schema(value_type = Object)]
    pub feed: FeedStatusSnapshot,
    /// What is subscribed in which mode, per underlying.
    #[schema(value_type = Object)]
    pub subscriptions: PlanSummary,
    /// Option-chain REST refreshes.
    #[schema(value_type = Object)]
    pub rest: RestStatus,
    /// Where the instrument list came from, and how fresh it is.
    #[schema(value_type = Object)]
    pub scrip_master: ScripMasterStatus,
    pub instruments_tracked: usize,
    pub chains: usize,
    /// Chain history: rows written, queued and dropped, and the simulator backfill.
    #[schema(value_type = Object)]
    pub history: crate::history::HistoryStats,
}

/// What the feed is doing.
#[utoipa::path(
    get,
    path = "/status",
    tag = "operations",
    responses(
        (status = 200, description = "Feed detail", body = Status),
        (status = 401, description = "No valid token", body = crate::error::ErrorResponse),
    )
)]
pub async fn status(State(state): State<AppState>) -> Json<Status> {
    Json(Status {
        feed: state.market.status().snapshot(),
        subscriptions: state.plan.read().clone(),
        rest: state.rest.lock().clone(),
        scrip_master: state.scrip_master.lock().clone(),
        instruments_tracked: state.market.registry().len(),
        chains: state.market.chain_ids().len(),
        history: state.history.stats(),
    })
}
