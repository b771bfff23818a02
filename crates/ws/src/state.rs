//! What the WebSocket API needs of the server, and nothing more: [`WsState`]. The
//! server builds it from its own state (axum's `FromRef`), so this crate never names
//! the REST API.
//!
//! The chain and F&O channels publish exactly what their REST routes answer. Those
//! answers are computed (and cached) by the REST API, so they come in through
//! [`ChainViews`], which the server implements over its routes: one computation, one
//! response cache, two ways to read it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use analytics::LiveGreeks;
use auth::TokenService;
use edge::{AppError, CorsOrigins, RateLimits};
use market::{ChainId, MarketState};
use store::Store;
use strategy::M2mHub;

use crate::hub::Hub;

/// The views a `/ws/fo/stream` channel can stream, each the REST answer of its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FoView {
    /// `summary:` — `/fo/summary`.
    Summary,
    /// `strikes:` — `/fo/strike-distribution` (default strikes each side).
    Strikes,
    /// `oi-change:` — `/fo/oi-change` (default limit, against the previous session).
    OiChange,
}

impl FoView {
    pub const ALL: [FoView; 3] = [FoView::Summary, FoView::Strikes, FoView::OiChange];

    /// The channel-name prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            FoView::Summary => "summary",
            FoView::Strikes => "strikes",
            FoView::OiChange => "oi-change",
        }
    }

    /// The view named by a channel prefix, any case.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|view| view.prefix().eq_ignore_ascii_case(prefix))
    }
}

/// A JSON answer being computed.
pub type ViewFuture<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, AppError>> + Send + 'a>>;

/// The REST answers the channels publish, as JSON.
pub trait ChainViews: Send + Sync + 'static {
    /// The live chain `id` now, as `GET /api/v2/options/live` answers it.
    fn live_chain(&self, id: &ChainId) -> Result<serde_json::Value, AppError>;

    /// `view` of `id` now, as its route answers it with default parameters.
    fn fo_view(&self, view: FoView, id: ChainId) -> ViewFuture<'_>;
}

/// The state of the WebSocket routes.
#[derive(Clone)]
pub struct WsState {
    /// The channels and their publishers, and the API's settings.
    pub hub: Arc<Hub>,
    pub market: Arc<MarketState>,
    pub greeks: Arc<LiveGreeks>,
    /// The latest M2M of each saved strategy (the `strategy:{id}` channel's source).
    pub m2m: Arc<M2mHub>,
    /// Users, read to end sessions whose access was revoked.
    pub store: Store,
    pub tokens: Arc<TokenService>,
    /// Request budgets: each upgrade spends from its caller's.
    pub limits: Arc<RateLimits>,
    /// Other origins whose pages may open the WebSockets.
    pub origins: Arc<CorsOrigins>,
    /// Market data without a token (`/ws/live` only), on the address's free budget.
    pub public_market_data: bool,
    pub views: Arc<dyn ChainViews>,
}

impl std::fmt::Debug for WsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsState")
            .field("hub", &self.hub)
            .field("origins", &self.origins)
            .field("public_market_data", &self.public_market_data)
            .finish_non_exhaustive()
    }
}
