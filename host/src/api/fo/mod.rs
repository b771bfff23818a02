//! The open-interest routes of one chain: the per-strike distribution around the money
//! (`/fo/strike-distribution`) and the biggest OI movers with their buildup class
//! (`/fo/oi-change`); the chain summary (`/fo/summary`) is in [`super::fo::summary`].
//! `/fo/oi-change?window=` measures the change against a stored snapshot instead of the
//! previous session (see [`super::market::history::OiReference`]).
//!
//! All three are built by [`super::fo::view`] (shared with the `/ws/fo/stream` channels):
//! this module owns their parameters, answer types and documentation.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

pub mod summary;
pub mod view;

use self::view::{DEFAULT_LIMIT, DEFAULT_STRIKES, MAX_LIMIT, MAX_STRIKES, OiChangeRequest};
use super::AppState;
use super::cache::CachedJson;
use super::error::ErrorBody;
use super::extract::ApiQuery;
use super::market::history::{OiReference, OiWindow};
use super::params;
use crate::api::error::AppError;
use crate::plugins::live_greeks::ChainGreeks;
use crate::plugins::{PluginStamp, oi};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fo/strike-distribution", get(strike_distribution))
        .route("/fo/oi-change", get(oi_change))
        .route("/fo/summary", get(summary::summary))
}

/// The F&O open-interest routes, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(strike_distribution, oi_change, summary::summary),
    components(schemas(
        StrikeDistributionResponse,
        StrikeRow,
        StrikeSide,
        OiChangeResponse,
        OiMover,
        Buildup,
        super::fo::summary::SummaryResponse,
        super::fo::summary::BuildupCounts,
        ErrorBody
    ))
)]
pub struct FoApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistributionQuery {
    /// Underlying name, any case (`NIFTY`, `banknifty`).
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[param(required = true, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub expiry: Option<String>,
    /// Strikes each side of the ATM strike (0 to 200, default 10).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 200)]
    pub strikes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OiChangeQuery {
    /// Underlying name, any case.
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[param(required = true, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub expiry: Option<String>,
    /// Gainers and losers to return, each (1 to 100, default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Change over the last N minutes (`15m`, or `15`; 1 to 10080) or since the previous
    /// session (`day`), from chain history. Absent: against the previous session's OI
    /// and close as the feed reports them.
    #[param(pattern = r"^([1-9][0-9]{0,3}|100[0-7][0-9]|10080)m?$|^day$")]
    pub window: Option<String>,
}

/// One side of a strike.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrikeSide {
    pub oi: u64,
    /// OI minus the previous session's OI.
    pub oi_change: i64,
    pub volume: u64,
    /// Implied volatility, decimal; 0 when not solved.
    pub iv: f64,
    pub delta: f64,
    pub gamma: f64,
    /// Per calendar day, rupees per unit of underlying.
    pub theta: f64,
    /// Per volatility point, rupees per unit of underlying.
    pub vega: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrikeRow {
    pub strike: f64,
    pub call: StrikeSide,
    pub put: StrikeSide,
    /// Total payout to option holders if the index settles here, rupees (max pain input).
    pub pain: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrikeDistributionResponse {
    pub underlying: String,
    pub expiry: Date,
    /// The chain's sequence number this was computed at.
    pub seq: u64,
    pub spot: f64,
    /// The forward the Greeks used.
    pub forward: f64,
    /// Listed strike nearest the forward.
    pub atm_strike: f64,
    pub strikes_each_side: u32,
    /// Ascending by strike, ATM in the middle when the chain has enough strikes.
    pub rows: Vec<StrikeRow>,
    /// The `oi-analytics` version that computed this.
    pub plugin: PluginStamp,
    /// The Greeks computation used.
    pub greeks: ChainGreeks,
}

/// OI buildup class between the previous session and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Buildup {
    /// Price up, OI up.
    LongBuildup,
    /// Price down, OI up.
    ShortBuildup,
    /// Price up, OI down.
    ShortCovering,
    /// Price down, OI down.
    LongUnwinding,
    /// Change inside the dead band, or no reference.
    Neutral,
}

impl From<oi::Buildup> for Buildup {
    fn from(b: oi::Buildup) -> Self {
        match b {
            oi::Buildup::LongBuildup => Self::LongBuildup,
            oi::Buildup::ShortBuildup => Self::ShortBuildup,
            oi::Buildup::ShortCovering => Self::ShortCovering,
            oi::Buildup::LongUnwinding => Self::LongUnwinding,
            oi::Buildup::Neutral => Self::Neutral,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OiMover {
    pub security_id: u64,
    pub strike: f64,
    /// `call` or `put`.
    #[schema(example = "call")]
    pub right: &'static str,
    pub oi: u64,
    pub oi_change: i64,
    /// OI change as a percentage of the previous OI; 0 when that was 0.
    pub oi_change_pct: f64,
    /// Last price minus previous close; 0 when either is not quoted.
    pub price_change: f64,
    pub buildup: Buildup,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OiChangeResponse {
    pub underlying: String,
    pub expiry: Date,
    pub seq: u64,
    pub limit: u32,
    /// The `window` asked for, normalised (`15m`, `day`); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// When the snapshot compared against was taken (RFC 3339); absent without a window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_time: Option<String>,
    /// Largest OI increase first.
    pub gainers: Vec<OiMover>,
    /// Largest OI decrease first.
    pub losers: Vec<OiMover>,
    pub plugin: PluginStamp,
    pub greeks: ChainGreeks,
}

/// Per-strike call/put OI, OI change, volume, IV, delta, gamma, theta and vega around
/// the money.
#[utoipa::path(
    get,
    path = "/fo/strike-distribution",
    tag = "fo",
    params(DistributionQuery),
    responses(
        (status = 200, description = "Strikes around ATM, ascending", body = StrikeDistributionResponse),
        (status = 400, description = "Missing or malformed parameter", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry (the message lists the valid ones)", body = ErrorBody),
        (status = 503, description = "Greeks not computed yet, or no oi-analytics plugin loaded", body = ErrorBody),
    )
)]
pub async fn strike_distribution(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DistributionQuery>,
) -> Result<CachedJson, AppError> {
    let q = query;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    let strikes = params::count(
        "strikes",
        q.strikes.as_deref(),
        DEFAULT_STRIKES,
        0,
        MAX_STRIKES,
    )?;
    view::strike_distribution(state, id, strikes).await
}

/// The biggest OI gainers and losers of a chain, with their buildup class.
#[utoipa::path(
    get,
    path = "/fo/oi-change",
    tag = "fo",
    params(OiChangeQuery),
    responses(
        (status = 200, description = "Top gainers and losers by OI change", body = OiChangeResponse),
        (status = 400, description = "Missing or malformed parameter", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry, or no snapshot as old as `window`", body = ErrorBody),
        (status = 503, description = "Greeks not computed yet, no oi-analytics plugin loaded, or (with `window`) the database is unavailable", body = ErrorBody),
    )
)]
pub async fn oi_change(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OiChangeQuery>,
) -> Result<CachedJson, AppError> {
    let q = query;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    let limit = params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1, MAX_LIMIT)?;
    let window = OiWindow::parse(q.window.as_deref())?;
    let reference = match window {
        Some(window) => Some((
            OiReference::load(&state, &id, window).await?,
            window.label(),
        )),
        None => None,
    };
    view::oi_change(state, id, OiChangeRequest { limit, reference }).await
}
