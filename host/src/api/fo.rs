//! The open-interest routes of one chain: the per-strike distribution around the money
//! (`/fo/strike-distribution`) and the biggest OI movers with their buildup class
//! (`/fo/oi-change`); the chain summary (`/fo/summary`) is in [`super::fo_summary`].
//! `/fo/oi-change?window=` measures the change against a stored snapshot instead of the
//! previous session (see [`super::history::OiReference`]).
//!
//! All three are computed by the active `oi-analytics` plugin on the priced chain (see
//! [`super::priced`]), off the async runtime, and answered through the response cache
//! keyed by the chain's sequence, the Greeks computation and the plugin's hash; the
//! plugin run and the cached answer are shared from here. These modules only shape the
//! plugin's columnar report into rows for clients.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::cache::{CachedJson, InputVersion, KeyBuilder, to_json};
use super::history::{OiReference, OiWindow};
use super::params::{self, ErrorResponse};
use super::priced::{
    chain_greeks, chain_view, current_version, input_version, priced_chain, world_plugin_hash,
};
use crate::error::AppError;
use crate::market::ChainId;
use crate::plugins::live_greeks::ChainGreeks;
use crate::plugins::{PluginStamp, World, oi};

/// Strikes each side of ATM when `strikes` is not given, and the most allowed.
const DEFAULT_STRIKES: u32 = 10;
const MAX_STRIKES: u32 = 200;
/// Gainers and losers when `limit` is not given, and the most allowed.
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 100;
/// |OI change| under this fraction of previous OI is no change, for buildup classes.
const OI_DEAD_BAND: f64 = 0.01;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fo/strike-distribution", get(strike_distribution))
        .route("/fo/oi-change", get(oi_change))
        .route("/fo/summary", get(super::fo_summary::summary))
}

/// The F&O open-interest routes, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(strike_distribution, oi_change, super::fo_summary::summary),
    components(schemas(
        StrikeDistributionResponse,
        StrikeRow,
        StrikeSide,
        OiChangeResponse,
        OiMover,
        Buildup,
        super::fo_summary::SummaryResponse,
        super::fo_summary::BuildupCounts,
        ErrorResponse
    ))
)]
pub struct FoApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistributionQuery {
    /// Underlying name, any case (`NIFTY`, `banknifty`).
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    pub expiry: Option<String>,
    /// Strikes each side of the ATM strike (0 to 200, default 10).
    #[param(value_type = Option<u32>)]
    pub strikes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OiChangeQuery {
    /// Underlying name, any case.
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    pub expiry: Option<String>,
    /// Gainers and losers to return, each (1 to 100, default 10).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Change over the last N minutes (`15m`, or `15`; 1 to 10080) or since the previous
    /// session (`day`), from chain history. Absent: against the previous session's OI
    /// and close as the feed reports them.
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

/// One run of the OI plugin and what it ran on.
pub(super) struct OiRun {
    pub(super) id: ChainId,
    pub(super) seq: u64,
    pub(super) spot: f64,
    pub(super) greeks: Arc<ChainGreeks>,
    pub(super) report: oi::OiReport,
    pub(super) plugin: PluginStamp,
    pub(super) contracts: usize,
}

impl OiRun {
    fn version(&self) -> InputVersion {
        input_version(self.seq, &self.greeks, Some(&self.plugin.hash))
    }
}

async fn run_oi(
    state: &AppState,
    id: &ChainId,
    top_n: u32,
    reference: Option<&OiReference>,
) -> Result<OiRun, AppError> {
    let mut view = chain_view(state, id)?;
    if let Some(reference) = reference {
        reference.rebase(&mut view);
    }
    let greeks = chain_greeks(state, id)?;
    let input = priced_chain(&view, &greeks, state.greeks.rate())?;
    let contracts = input.chain.contracts.security_id.len();
    let options = oi::OiOptions {
        top_n,
        sr_window: 0,
        oi_dead_band: OI_DEAD_BAND,
        price_dead_band: view.tick_size,
    };
    let stamped = state
        .plugins
        .blocking(move |host| host.call_oi(&input, options))
        .await??;
    Ok(OiRun {
        id: id.clone(),
        seq: view.seq,
        spot: view.spot,
        greeks,
        report: stamped.value,
        plugin: stamped.plugin,
        contracts,
    })
}

/// Resolves the chain, then answers from the cache or by running the OI plugin with
/// `top_n` and shaping its report with `shape`.
pub(super) async fn cached_oi<T: Serialize>(
    state: AppState,
    id: ChainId,
    keys: KeyBuilder,
    top_n: u32,
    shape: impl FnOnce(OiRun) -> T,
) -> Result<CachedJson, AppError> {
    cached_oi_against(state, id, keys, top_n, None, shape).await
}

/// [`cached_oi`], with the change measured against `reference` when given.
async fn cached_oi_against<T: Serialize>(
    state: AppState,
    id: ChainId,
    keys: KeyBuilder,
    top_n: u32,
    reference: Option<OiReference>,
    shape: impl FnOnce(OiRun) -> T,
) -> Result<CachedJson, AppError> {
    let plugin = world_plugin_hash(&state, World::OiAnalytics)?;
    let lookup = keys.key(current_version(&state, &id, Some(&plugin))?);
    let cache = Arc::clone(&state.cache);
    cache
        .respond(lookup, || async move {
            let run = run_oi(&state, &id, top_n, reference.as_ref()).await?;
            let key = keys.key(run.version());
            Ok((key, to_json(&shape(run))?))
        })
        .await
}

pub(super) fn chain_keys(route: &'static str, id: &ChainId) -> KeyBuilder {
    KeyBuilder::new(route)
        .param("underlying", &id.underlying)
        .param("expiry", id.expiry)
}

/// Per-strike call/put OI, OI change, volume, IV, delta and gamma around the money.
#[utoipa::path(
    get,
    path = "/fo/strike-distribution",
    tag = "fo",
    params(DistributionQuery),
    responses(
        (status = 200, description = "Strikes around ATM, ascending", body = StrikeDistributionResponse),
        (status = 400, description = "Missing or malformed parameter", body = ErrorResponse),
        (status = 404, description = "Unknown underlying or expiry (the message lists the valid ones)", body = ErrorResponse),
        (status = 503, description = "Greeks not computed yet, or no oi-analytics plugin loaded", body = ErrorResponse),
    )
)]
pub async fn strike_distribution(
    State(state): State<AppState>,
    query: Result<Query<DistributionQuery>, QueryRejection>,
) -> Result<CachedJson, AppError> {
    let q = params::query(query)?;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    let strikes = params::count(
        "strikes",
        q.strikes.as_deref(),
        DEFAULT_STRIKES,
        0,
        MAX_STRIKES,
    )?;
    let keys = chain_keys("/fo/strike-distribution", &id).param("strikes", strikes);
    cached_oi(state, id, keys, 0, move |run| distribution(run, strikes)).await
}

fn distribution(run: OiRun, each_side: u32) -> StrikeDistributionResponse {
    let d = &run.report.distribution;
    let atm = run.report.atm_strike;
    let centre = crate::market::subscriptions::nearest_strike_index(d.strike.iter().copied(), atm)
        .unwrap_or(0);
    let each_side = usize::try_from(each_side).unwrap_or(usize::MAX);
    let first = centre.saturating_sub(each_side);
    let last = centre
        .saturating_add(each_side)
        .min(d.strike.len().saturating_sub(1));
    let at = |column: &[f64], i: usize| column.get(i).copied().unwrap_or(0.0);
    let side = |i: usize, call: bool| {
        let pick = |c: &[u64], p: &[u64]| if call { c } else { p }.get(i).copied().unwrap_or(0);
        StrikeSide {
            oi: pick(&d.call_oi, &d.put_oi),
            oi_change: if call {
                &d.call_oi_change
            } else {
                &d.put_oi_change
            }
            .get(i)
            .copied()
            .unwrap_or(0),
            volume: pick(&d.call_volume, &d.put_volume),
            iv: at(if call { &d.call_iv } else { &d.put_iv }, i),
            delta: at(if call { &d.call_delta } else { &d.put_delta }, i),
            gamma: at(if call { &d.call_gamma } else { &d.put_gamma }, i),
        }
    };
    let rows = if d.strike.is_empty() {
        Vec::new()
    } else {
        (first..=last)
            .map(|i| StrikeRow {
                strike: at(&d.strike, i),
                call: side(i, true),
                put: side(i, false),
                pain: at(&d.pain, i),
            })
            .collect()
    };
    StrikeDistributionResponse {
        underlying: run.id.underlying,
        expiry: run.id.expiry,
        seq: run.seq,
        spot: run.spot,
        forward: run.greeks.forward,
        atm_strike: atm,
        strikes_each_side: u32::try_from(each_side).unwrap_or(u32::MAX),
        rows,
        plugin: run.plugin,
        greeks: (*run.greeks).clone(),
    }
}

/// The biggest OI gainers and losers of a chain, with their buildup class.
#[utoipa::path(
    get,
    path = "/fo/oi-change",
    tag = "fo",
    params(OiChangeQuery),
    responses(
        (status = 200, description = "Top gainers and losers by OI change", body = OiChangeResponse),
        (status = 400, description = "Missing or malformed parameter", body = ErrorResponse),
        (status = 404, description = "Unknown underlying or expiry, or no snapshot as old as `window`", body = ErrorResponse),
        (status = 503, description = "Greeks not computed yet, no oi-analytics plugin loaded, or (with `window`) the database is unavailable", body = ErrorResponse),
    )
)]
pub async fn oi_change(
    State(state): State<AppState>,
    query: Result<Query<OiChangeQuery>, QueryRejection>,
) -> Result<CachedJson, AppError> {
    let q = params::query(query)?;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    let limit = params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1, MAX_LIMIT)?;
    let window = OiWindow::parse(q.window.as_deref())?;
    let mut keys = chain_keys("/fo/oi-change", &id).param("limit", limit);
    let reference = match window {
        Some(window) => {
            let reference = OiReference::load(&state, &id, window).await?;
            // The snapshot's time is part of the key: the same window later compares
            // against a newer snapshot.
            keys = keys
                .param("window", window.label())
                .param("reference", reference.ts_ms);
            Some(reference)
        }
        None => None,
    };
    let reference_time = reference.as_ref().and_then(|r| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.ts_ms) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
    });
    let window = window.map(OiWindow::label);
    cached_oi_against(state, id, keys, limit, reference, move |run| {
        let mut response = movers_response(run, limit);
        response.window = window;
        response.reference_time = reference_time;
        response
    })
    .await
}

fn movers(m: &oi::OiMovers, limit: u32) -> Vec<OiMover> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    (0..m.security_id.len().min(limit))
        .filter_map(|i| {
            Some(OiMover {
                security_id: *m.security_id.get(i)?,
                strike: *m.strike.get(i)?,
                right: if *m.is_call.get(i)? { "call" } else { "put" },
                oi: *m.oi.get(i)?,
                oi_change: *m.oi_change.get(i)?,
                oi_change_pct: *m.oi_change_pct.get(i)?,
                price_change: *m.price_change.get(i)?,
                buildup: (*m.buildup.get(i)?).into(),
            })
        })
        .collect()
}

fn movers_response(run: OiRun, limit: u32) -> OiChangeResponse {
    OiChangeResponse {
        gainers: movers(&run.report.gainers, limit),
        losers: movers(&run.report.losers, limit),
        underlying: run.id.underlying,
        expiry: run.id.expiry,
        seq: run.seq,
        limit,
        window: None,
        reference_time: None,
        plugin: run.plugin,
        greeks: (*run.greeks).clone(),
    }
}
