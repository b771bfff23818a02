//! The server's side of the WebSocket API: the [`WsState`] its routes run over, taken
//! from [`AppState`] (axum's `FromRef`), and the REST answers its channels publish
//! ([`ChainViews`]), computed by the same functions and read through the same response
//! cache as the routes.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::api::AppState;
use crate::api::error::{AppError, ErrorCode};
use crate::api::fo::view;
use crate::api::market::live::{live_chain, live_from};
use crate::market::ChainId;
use crate::ws::{ChainViews, FoView, ViewFuture, WsState};

/// The REST answers, for the channels.
struct RestViews(AppState);

impl ChainViews for RestViews {
    fn live_chain(&self, id: &ChainId) -> Result<serde_json::Value, AppError> {
        let (chain, _) = live_chain(&self.0, id, live_from(&self.0))?;
        serde_json::to_value(chain).map_err(unencodable)
    }

    fn fo_view(&self, fo_view: FoView, id: ChainId) -> ViewFuture<'_> {
        Box::pin(async move {
            let answer = view::view(self.0.clone(), fo_view, id).await?;
            serde_json::from_slice(answer.body()).map_err(unencodable)
        })
    }
}

/// An answer that is not the JSON it should be: a bug, reported as the routes do.
fn unencodable(error: serde_json::Error) -> AppError {
    AppError::Unavailable {
        code: ErrorCode::EncodingFailed,
        message: format!("the answer could not be encoded: {error}"),
    }
}

impl FromRef<AppState> for WsState {
    fn from_ref(state: &AppState) -> Self {
        WsState {
            hub: state.ws.clone(),
            market: state.market.clone(),
            greeks: state.greeks.clone(),
            m2m: state.m2m.clone(),
            store: state.store.clone(),
            tokens: state.tokens.clone(),
            limits: state.limits.clone(),
            origins: state.settings.cors_origins.clone(),
            public_market_data: state.settings.public_market_data,
            views: Arc::new(RestViews(state.clone())),
        }
    }
}
