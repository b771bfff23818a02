//! `GET /api/v2/plugins`: the loaded analytics plugins, for frontends and operators.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use crate::plugins::PluginSummary;
use crate::plugins::registry::LoadFailure;

#[derive(Debug, serde::Serialize)]
pub struct PluginList {
    pub plugins: Vec<PluginSummary>,
    /// Recent loads that were refused, with the reason.
    pub refused: Vec<LoadFailure>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/plugins", get(list))
}

async fn list(State(state): State<AppState>) -> Json<PluginList> {
    Json(PluginList {
        plugins: state.plugins.summaries(),
        refused: state.plugins.registry().load_failures(),
    })
}
