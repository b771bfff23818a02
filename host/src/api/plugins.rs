//! `GET /api/v2/plugins`: the loaded analytics plugins, for frontends and operators.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use crate::plugins::PluginSummary;
use crate::plugins::registry::LoadFailure;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PluginList {
    /// Active plugins: name, world, version, WIT version, hash, call counters.
    #[schema(value_type = Vec<Object>)]
    pub plugins: Vec<PluginSummary>,
    /// Recent loads that were refused, with the reason.
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<LoadFailure>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/plugins", get(list))
}

/// The loaded analytics plugins.
#[utoipa::path(
    get,
    path = "/api/v2/plugins",
    tag = "plugins",
    responses(
        (status = 200, description = "Active plugins and refused loads", body = PluginList),
        (status = 401, description = "No valid token", body = crate::api::error::ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Json<PluginList> {
    Json(PluginList {
        plugins: state.plugins.summaries(),
        refused: state.plugins.registry().load_failures(),
    })
}
