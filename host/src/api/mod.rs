//! The HTTP API. Each submodule owns a group of routes; [`router`] assembles them over
//! the shared [`AppState`] behind the access gate of the role each group needs:
//!
//! - open to anyone: `/health`, `/metrics` (unless it has its own address), the docs,
//!   `/auth/login` (with its own strict rate limit);
//! - viewer: market data, analytics, `/status`; the WebSocket routes (`/ws/…`) check the
//!   viewer role themselves, before upgrading, as browsers cannot send the header;
//!   with `--public-market-data`, market data, analytics and `/ws/live` need no token;
//! - trader: strategies (evaluation, saved strategies and their M2M) and accounts;
//! - admin: plugin administration and its audit; every admin action, refused ones
//!   included, is logged and kept ([`audit`]).
//!
//! Every group but the open one spends from the caller's rate-limit budget. Every
//! answer, error or not, is counted in `/metrics`; every error has the JSON shape of
//! [`crate::api::error::AppError`], unknown routes included.
//!
//! Around every route, outermost first: the caller's address is resolved (believing
//! `X-Forwarded-For` from trusted proxies only, [`client_address`]); a body left unread
//! by an early answer is drained or the connection marked for closing
//! ([`unread_body`]); the request gets a span, error answers are logged in it
//! ([`error_log`]), panics become 500s, answers are counted, and the request has a
//! deadline ([`deadline`]); the answer is compressed
//! for clients that accept it and cached answers get their entity tag and `304`s
//! ([`representation`]). Outermost of all, [`cors`] answers preflights.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{Router, middleware};
use parking_lot::{Mutex, RwLock};

use crate::api::error::{AppError, ErrorCode};
use crate::auth::{Role, TokenService};
use crate::history::ChainHistory;
use crate::instruments::scrip_master::ScripMasterStatus;
use crate::market::MarketState;
use crate::market::seed::RestStatus;
use crate::market::subscriptions::PlanSummary;
use crate::pipeline::MarketPipeline;
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::LiveGreeks;
use crate::portfolio::{CredentialSealer, M2mHub};
use crate::store::Store;
use crate::ws::Hub;

// Resources, grouped as their routes are.
pub mod accounts;
pub mod admin;
pub mod analytics;
pub mod auth;
pub mod fo;
pub mod market;
pub mod ops;
pub mod plugins;
pub mod strategies;

// What every resource shares: errors, extractors, access, limits, caching, the edge.
pub mod access;
pub mod cache;
mod channel_views;
pub mod contract;
pub mod cors;
pub mod deadline;
pub mod error_log;
pub mod extract;
pub mod params;
pub mod priced;
pub mod representation;
pub mod unread_body;

#[cfg(test)]
mod tests;

pub use edge::{client_address, error, rate_limit};
pub use rate_limit::RateLimits;

/// What every handler can reach. Cheap to clone: `Arc`s only.
#[derive(Clone, Debug)]
pub struct AppState {
    pub plugins: Arc<PluginHost>,
    pub market: Arc<MarketState>,
    pub greeks: Arc<LiveGreeks>,
    pub plan: Arc<RwLock<PlanSummary>>,
    pub rest: Arc<Mutex<RestStatus>>,
    pub scrip_master: Arc<Mutex<ScripMasterStatus>>,
    pub tokens: Arc<TokenService>,
    pub limits: Arc<RateLimits>,
    pub store: Store,
    /// Chain history: the snapshot recorder and its counters.
    pub history: Arc<ChainHistory>,
    pub settings: Arc<ApiSettings>,
    /// The WebSocket API's channels and settings.
    pub ws: Arc<Hub>,
    pub started: Instant,
    /// Serialized answers of the computed routes.
    pub cache: Arc<cache::ResponseCache>,
    /// The latest M2M of each saved strategy (the `strategy:{id}` channel's source).
    pub m2m: Arc<M2mHub>,
    /// Seals broker credentials; `None` when no key is configured (production).
    pub sealer: Option<Arc<CredentialSealer>>,
}

impl AppState {
    /// The live market strategies are valued in.
    pub fn live_market(&self) -> ::strategy::LiveMarket {
        ::strategy::LiveMarket {
            market: self.market.clone(),
            greeks: self.greeks.clone(),
            plugins: self.plugins.clone(),
        }
    }
}

/// Knobs of the API itself.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Whether `/metrics` is on the public address (false when it has its own).
    pub public_metrics: bool,
    /// Per-user caps on saved strategies and accounts.
    pub quotas: crate::config::Quotas,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::config::TrustedProxies,
    /// How long a request, and a plugin upload, may take before a 503.
    pub deadlines: deadline::Deadlines,
    /// Other origins whose pages may call the API and open its WebSockets.
    pub cors_origins: Arc<crate::config::CorsOrigins>,
    /// Whether answers are compressed for clients that accept it.
    pub compression: bool,
    /// Market data answers without a token (see [`access::public_gate`]).
    pub public_market_data: bool,
}

impl ApiSettings {
    /// The API's knobs from the server's configuration, the users' quotas and whether
    /// market data is public.
    pub fn new(
        server: &crate::config::ServerConfig,
        quotas: crate::config::Quotas,
        public_market_data: bool,
    ) -> Self {
        Self {
            max_body_bytes: server.max_body_bytes,
            public_metrics: server.metrics_listen.is_none(),
            quotas,
            trusted_proxies: server.trusted_proxies.clone(),
            deadlines: deadline::Deadlines {
                request: server.request_timeout,
                upload: server.upload_timeout,
            },
            cors_origins: Arc::new(server.cors_origins.clone()),
            compression: server.compression,
            public_market_data,
        }
    }
}

/// The services the API needs beyond the market pipeline and plugins.
#[derive(Debug, Clone)]
pub struct ApiServices {
    pub tokens: Arc<TokenService>,
    /// The response cache (with its Redis layer, when configured).
    pub cache: Arc<cache::ResponseCache>,
    pub limits: Arc<RateLimits>,
    pub store: Store,
    pub history: Arc<ChainHistory>,
    pub settings: Arc<ApiSettings>,
    pub ws: crate::config::WsConfig,
    pub m2m: Arc<M2mHub>,
    pub sealer: Option<Arc<CredentialSealer>>,
}

impl AppState {
    pub fn new(plugins: Arc<PluginHost>, pipeline: &MarketPipeline, services: ApiServices) -> Self {
        Self {
            plugins,
            market: pipeline.market.clone(),
            greeks: pipeline.greeks.clone(),
            plan: pipeline.plan.clone(),
            rest: pipeline.rest.clone(),
            scrip_master: pipeline.scrip_master.clone(),
            tokens: services.tokens,
            limits: services.limits,
            store: services.store,
            history: services.history,
            settings: services.settings,
            ws: Arc::new(Hub::new(services.ws)),
            started: Instant::now(),
            cache: services.cache,
            m2m: services.m2m,
            sealer: services.sealer,
        }
    }
}

/// A route group behind the gate for `role`.
fn gated(state: &AppState, role: Role, routes: Router<AppState>) -> Router<AppState> {
    routes.route_layer(middleware::from_fn_with_state(
        (state.clone(), role),
        access::gate,
    ))
}

/// The whole HTTP API: the route groups behind their gates, then the layers every
/// answer passes through.
pub fn router(state: AppState) -> Router {
    let routes = resources(&state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    edge_layers(representation_layers(routes, &state), &state).with_state(state)
}

/// Every resource's routes, each group behind the gate of the role it needs.
fn resources(state: &AppState) -> Router<AppState> {
    let mut open = Router::new()
        .merge(ops::health::routes())
        .merge(ops::docs::routes());
    if state.settings.public_metrics {
        open = open.merge(ops::metrics::routes());
    }
    let login = auth::routes().route_layer(middleware::from_fn_with_state(
        state.clone(),
        access::login_gate,
    ));
    let market_data = Router::new()
        .merge(market::live::routes())
        .merge(fo::routes())
        .merge(market::history::routes())
        .merge(market::depth::routes())
        .merge(analytics::routes());
    let market_data = if state.settings.public_market_data {
        market_data.route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::public_gate,
        ))
    } else {
        gated(state, Role::Viewer, market_data)
    };
    let viewer = Router::new()
        .merge(ops::status::routes())
        .merge(plugins::routes());
    let trader = strategies::evaluate::routes()
        .merge(strategies::saved::routes())
        .merge(accounts::routes());
    // The audit goes outside the gate, to see what the gate refuses too.
    let admin = gated(state, Role::Admin, admin::plugins::routes()).route_layer(
        middleware::from_fn_with_state(state.clone(), admin::audit::record),
    );
    Router::new()
        .merge(open)
        .merge(login)
        .merge(crate::ws::routes::<AppState>())
        .merge(market_data)
        .merge(gated(state, Role::Viewer, viewer))
        .merge(gated(state, Role::Trader, trader))
        .merge(admin)
}

/// The body limit, and how answers are represented: cached answers get their entity
/// tag, `304`s and their stored compressed forms; the rest are compressed per request.
fn representation_layers(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    let routes = routes
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            representation::Negotiation {
                compression: state.settings.compression,
                built: state.cache.compressions(),
            },
            representation::negotiate,
        ));
    if state.settings.compression {
        routes.layer(representation::compression_layer())
    } else {
        routes
    }
}

/// What every request passes through first (outermost last): the client's address,
/// CORS preflights, unread bodies, the request's span, error logging, panics, metrics
/// and the deadline.
fn edge_layers(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes
        .layer(middleware::from_fn_with_state(
            Arc::new(state.settings.deadlines),
            deadline::enforce,
        ))
        .layer(middleware::from_fn(ops::metrics::track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        // Outside the panic catcher, so a panic's 500 is logged too; inside the span.
        .layer(middleware::from_fn(error_log::log))
        // The span names the path, never the query: a WebSocket token may ride in it.
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(unread_body::drain))
        // Preflights are answered before anything else sees them (no token, no budget).
        .layer(cors::layer(state.settings.cors_origins.clone()))
        .layer(middleware::from_fn_with_state(
            Arc::new(state.settings.trusted_proxies.clone()),
            client_address::resolve_client,
        ))
}

/// A request's span: method, path (never the query) and the client's address.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let client = request
        .extensions()
        .get::<client_address::ClientAddress>()
        .map(|address| address.0);
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        client = ?client,
    )
}

/// The metrics endpoint on its own, for `--metrics-listen`.
pub fn metrics_router(state: AppState) -> Router {
    ops::metrics::routes().with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> AppError {
    AppError::NotFound {
        code: ErrorCode::NoSuchRoute,
        message: format!("no route {}; see /docs for the API", uri.path()),
    }
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> AppError {
    AppError::Rejected {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: ErrorCode::MethodNotAllowed,
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}

/// A handler panicked: a bug. Answer in the usual shape; the detail goes to the log.
fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let detail = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    AppError::Internal(format!("handler panicked: {detail}")).into_response()
}
