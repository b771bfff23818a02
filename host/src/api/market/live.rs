//! Market data over HTTP: the underlyings, their expiries and strikes, and live option
//! chains with quotes, OI, IV and Greeks per strike.
//!
//! Unknown underlyings and expiries are 404s that list the valid values, so a frontend
//! developer learns the vocabulary from the error; a malformed date is a 400. The live
//! chain is answered through the response cache, keyed by the chain's sequence number
//! and the Greeks computation it shows.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use utoipa::{IntoParams, ToSchema};

use crate::api::AppState;
use crate::api::cache::{CachedJson, InputVersion, KeyBuilder, to_json};
use crate::api::error::ErrorBody;
use crate::api::error::{AppError, ErrorCode};
use crate::api::extract::ApiQuery;
pub use crate::api::market::chain_source::{ChainSource, await_first_data};
use crate::api::params;
use crate::instruments::registry::{ExpiryInfo, UnderlyingInfo};
use crate::instruments::{ExchangeSegment, ExpiryFlag};
use crate::market::ChainId;
use crate::market::book::InstrumentBook;
use crate::market::view::ContractView;
use crate::plugins::live_greeks::{ChainGreeks, ContractGreeks};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/market/underlyings", get(underlyings))
        .route("/api/v2/options/expiries", get(expiries))
        .route("/api/v2/options/strikes", get(strikes))
        .route("/api/v2/options/live", get(live))
}

/// The market routes, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(underlyings, expiries, strikes, live),
    components(schemas(
        UnderlyingSummary,
        ExpiryLabel,
        ExpiriesResponse,
        StrikesResponse,
        LiveChain,
        LiveStrike,
        LiveContract,
        ChainSource,
        InstrumentBook,
        crate::market::book::BookLevel,
        ContractGreeks,
        ChainGreeks,
        crate::plugins::PluginStamp,
        ErrorBody
    ))
)]
pub struct MarketApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnderlyingQuery {
    /// Underlying name, any case (`NIFTY`, `banknifty`).
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// Underlying name, any case.
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[param(required = true, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub expiry: Option<String>,
}

/// An expiry with its label, e.g. "NIFTY 25 NOV (weekly, current)".
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiryLabel {
    pub date: Date,
    /// `weekly` or `monthly`.
    #[schema(value_type = String, example = "weekly")]
    pub kind: ExpiryFlag,
    /// `current`, `next` or `far` among the live expiries.
    #[schema(example = "current")]
    pub position: &'static str,
    pub label: String,
    pub lot_size: u32,
    pub strike_step: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnderlyingSummary {
    pub name: String,
    #[schema(value_type = String, example = "IDX_I")]
    pub segment: ExchangeSegment,
    pub security_id: u32,
    /// Last value; null until known.
    pub spot: Option<f64>,
    pub prev_close: Option<f64>,
    pub expiries: Vec<ExpiryLabel>,
}

/// The first live expiry date now, by the market's IST calendar: an expiry is live
/// until 15:30 IST on its day.
pub fn live_from(state: &AppState) -> Date {
    state.market.calendar().live_from()
}

/// Labels of the expiries on or after `live_from`, nearest first.
pub(in crate::api) fn labels(info: &UnderlyingInfo, live_from: Date) -> Vec<ExpiryLabel> {
    let format = format_description!("[day] [month repr:short]");
    info.expiries
        .iter()
        .filter(|e| e.expiry >= live_from)
        .enumerate()
        .map(|(i, e)| {
            let position = match i {
                0 => "current",
                1 => "next",
                _ => "far",
            };
            let kind = match e.flag {
                ExpiryFlag::Weekly => "weekly",
                ExpiryFlag::Monthly => "monthly",
            };
            let day = e.expiry.format(&format).unwrap_or_default().to_uppercase();
            ExpiryLabel {
                date: e.expiry,
                kind: e.flag,
                position,
                label: format!("{} {day} ({kind}, {position})", info.name),
                lot_size: e.lot_size,
                strike_step: e.strike_step,
            }
        })
        .collect()
}

/// The underlyings: index id, spot, previous close, live expiries with labels.
#[utoipa::path(
    get,
    path = "/api/v2/market/underlyings",
    tag = "market",
    responses((status = 200, description = "Every configured underlying", body = Vec<UnderlyingSummary>))
)]
pub async fn underlyings(State(state): State<AppState>) -> Json<Vec<UnderlyingSummary>> {
    let today = live_from(&state);
    let list = state
        .market
        .registry()
        .underlyings()
        .map(|info| {
            let book = state.market.underlying_book(&info.name).unwrap_or_default();
            UnderlyingSummary {
                name: info.name.clone(),
                segment: info.index.segment,
                security_id: info.index.security_id,
                spot: known(book.ltp),
                prev_close: known(book.prev_close),
                expiries: labels(info, today),
            }
        })
        .collect();
    Json(list)
}

fn known(value: f64) -> Option<f64> {
    (value > 0.0).then_some(value)
}

pub(crate) fn find_underlying<'a>(
    state: &'a AppState,
    name: Option<&str>,
) -> Result<&'a UnderlyingInfo, AppError> {
    let registry = state.market.registry();
    let valid = || {
        registry
            .underlyings()
            .map(|u| u.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err(AppError::BadRequest {
            code: ErrorCode::MissingUnderlying,
            message: format!(
                "query parameter `underlying` is required (one of: {})",
                valid()
            ),
        });
    };
    let upper = name.to_ascii_uppercase();
    registry
        .underlying(&upper)
        .ok_or_else(|| AppError::NotFound {
            code: ErrorCode::UnknownUnderlying,
            message: format!("unknown underlying {name:?}; valid: {}", valid()),
        })
}

/// The expiry `text` names (an expired one too: its chain is still readable); the
/// errors list the live ones, as of `live_from`.
pub(crate) fn find_expiry<'a>(
    info: &'a UnderlyingInfo,
    text: Option<&str>,
    live_from: Date,
) -> Result<&'a ExpiryInfo, AppError> {
    let valid = || {
        labels(info, live_from)
            .iter()
            .map(|l| l.date.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Err(AppError::BadRequest {
            code: ErrorCode::MissingExpiry,
            message: format!(
                "query parameter `expiry` is required (YYYY-MM-DD; one of: {})",
                valid()
            ),
        });
    };
    let format = format_description!("[year]-[month]-[day]");
    let date = Date::parse(text, &format).map_err(|_| AppError::BadRequest {
        code: ErrorCode::MalformedDate,
        message: format!("expiry {text:?} is not a date in YYYY-MM-DD form"),
    })?;
    info.expiries
        .iter()
        .find(|e| e.expiry == date)
        .ok_or_else(|| AppError::NotFound {
            code: ErrorCode::UnknownExpiry,
            message: format!("{} has no expiry {date}; valid: {}", info.name, valid()),
        })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiriesResponse {
    pub underlying: String,
    pub expiries: Vec<ExpiryLabel>,
}

/// An underlying's live expiries with labels, lot size and strike step.
#[utoipa::path(
    get,
    path = "/api/v2/options/expiries",
    tag = "market",
    params(UnderlyingQuery),
    responses(
        (status = 200, description = "Live expiries, nearest first", body = ExpiriesResponse),
        (status = 400, description = "Missing underlying", body = ErrorBody),
        (status = 404, description = "Unknown underlying (the message lists the valid ones)", body = ErrorBody),
    )
)]
pub async fn expiries(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UnderlyingQuery>,
) -> Result<Json<ExpiriesResponse>, AppError> {
    let info = find_underlying(&state, query.underlying.as_deref())?;
    Ok(Json(ExpiriesResponse {
        underlying: info.name.clone(),
        expiries: labels(info, live_from(&state)),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrikesResponse {
    pub underlying: String,
    pub expiry: Date,
    pub strike_step: f64,
    pub lot_size: u32,
    /// The strike nearest the spot, once the spot is known.
    pub atm_strike: Option<f64>,
    pub strikes: Vec<f64>,
}

/// An expiry's strike grid and the ATM strike.
#[utoipa::path(
    get,
    path = "/api/v2/options/strikes",
    tag = "market",
    params(ChainQuery),
    responses(
        (status = 200, description = "The strikes, ascending", body = StrikesResponse),
        (status = 400, description = "Missing parameter or malformed date", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry (the message lists the valid ones)", body = ErrorBody),
    )
)]
pub async fn strikes(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ChainQuery>,
) -> Result<Json<StrikesResponse>, AppError> {
    let info = find_underlying(&state, query.underlying.as_deref())?;
    let expiry = find_expiry(info, query.expiry.as_deref(), live_from(&state))?;
    let strikes: Vec<f64> = expiry.strikes.iter().map(|r| r.strike).collect();
    let atm_strike = state.market.spot(&info.name).and_then(|spot| {
        crate::market::subscriptions::nearest_strike_index(strikes.iter().copied(), spot)
            .and_then(|i| strikes.get(i).copied())
    });
    Ok(Json(StrikesResponse {
        underlying: info.name.clone(),
        expiry: expiry.expiry,
        strike_step: expiry.strike_step,
        lot_size: expiry.lot_size,
        atm_strike,
        strikes,
    }))
}

/// One side of a strike in the live chain.
#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct LiveContract {
    pub security_id: u32,
    #[serde(flatten)]
    pub book: InstrumentBook,
    /// OI minus previous day's OI.
    pub oi_change: i64,
    /// Model output; null until the Greeks plugin has priced this contract.
    pub greeks: Option<ContractGreeks>,
}

#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct LiveStrike {
    pub strike: f64,
    pub call: Option<LiveContract>,
    pub put: Option<LiveContract>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveChain {
    pub underlying: String,
    pub expiry: ExpiryLabel,
    pub spot: Option<f64>,
    pub forward: Option<f64>,
    pub atm_strike: Option<f64>,
    pub lot_size: u32,
    pub strike_step: f64,
    /// The chain's sequence number: increases on every change.
    pub seq: u64,
    /// Arrival time of the latest change (RFC 3339, UTC).
    pub as_of: Option<String>,
    /// The Greeks computation shown here: which plugin version, and at which chain seq.
    pub greeks: Option<ChainGreeks>,
    /// Where the prices come from: the live feed, or (a chain beyond the subscribed
    /// expiries, until the feed has it) Dhan's REST option chain; null before either.
    pub source: Option<ChainSource>,
    pub strikes: Vec<LiveStrike>,
}

/// What a live-chain answer was computed from.
fn live_version(seq: u64, greeks: Option<&ChainGreeks>) -> InputVersion {
    InputVersion {
        seq,
        greeks_seq: greeks.map(|g| g.seq),
        greeks_plugin: greeks.map(|g| g.plugin.hash.clone()),
        plugin: None,
    }
}

/// The live chain: per strike, call and put quotes, OI, IV and Greeks.
#[utoipa::path(
    get,
    path = "/api/v2/options/live",
    tag = "market",
    params(ChainQuery),
    responses(
        (status = 200, description = "The chain now, with the Greeks computation shown", body = LiveChain),
        (status = 400, description = "Missing parameter or malformed date", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry (the message lists the valid ones)", body = ErrorBody),
    )
)]
pub async fn live(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ChainQuery>,
) -> Result<CachedJson, AppError> {
    let id = params::chain_id(&state, query.underlying.as_deref(), query.expiry.as_deref())?;
    let today = live_from(&state);
    await_first_data(&state, &id).await;
    let keys = KeyBuilder::new("/api/v2/options/live")
        .param("underlying", &id.underlying)
        .param("expiry", id.expiry)
        .param("today", today);
    let seq = crate::api::priced::chain_seq(&state, &id)?;
    let lookup = keys.key(live_version(seq, state.greeks.get(&id).as_deref()));
    let cache = Arc::clone(&state.cache);
    cache
        .respond(lookup, || async move {
            let (chain, greeks) = live_chain(&state, &id, today)?;
            let key = keys.key(live_version(chain.seq, greeks.as_deref()));
            Ok((key, to_json(&chain)?))
        })
        .await
}

/// Builds the live chain now, with the Greeks computation it shows. The WebSocket API
/// publishes the same shape.
pub fn live_chain(
    state: &AppState,
    id: &ChainId,
    live_from: Date,
) -> Result<(LiveChain, Option<Arc<ChainGreeks>>), AppError> {
    let info = find_underlying(state, Some(&id.underlying))?;
    let expiry = find_expiry(info, Some(&id.expiry.to_string()), live_from)?;
    let view = crate::api::priced::chain_view(state, id)?;
    let greeks = state.greeks.get(id);
    let contract = |c: Option<ContractView>| {
        c.map(|c| LiveContract {
            security_id: c.security_id,
            oi_change: i64::try_from(c.book.oi).unwrap_or(i64::MAX)
                - i64::try_from(c.book.prev_oi).unwrap_or(i64::MAX),
            greeks: greeks
                .as_ref()
                .and_then(|g| g.contracts.get(&c.security_id).copied()),
            book: c.book,
        })
    };
    let spot = known(view.spot);
    let atm_strike = spot.and_then(|s| {
        crate::market::subscriptions::nearest_strike_index(view.rows.iter().map(|r| r.strike), s)
            .and_then(|i| view.rows.get(i).map(|r| r.strike))
    });
    // An expired chain (still readable until the process restarts) is labelled so.
    let label = labels(info, live_from)
        .into_iter()
        .find(|l| l.date == expiry.expiry);
    let expiry_label = label.unwrap_or_else(|| ExpiryLabel {
        date: expiry.expiry,
        kind: expiry.flag,
        position: "expired",
        label: format!("{} {} (expired)", info.name, expiry.expiry),
        lot_size: expiry.lot_size,
        strike_step: expiry.strike_step,
    });
    let as_of = (view.as_of_ns > 0)
        .then(|| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(view.as_of_ns)).ok())
        .flatten()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    let chain = LiveChain {
        underlying: view.underlying,
        expiry: expiry_label,
        spot,
        forward: greeks.as_ref().map(|g| g.forward),
        atm_strike,
        lot_size: view.lot_size,
        strike_step: view.strike_step,
        seq: view.seq,
        as_of,
        greeks: greeks.as_deref().cloned(),
        source: state
            .market
            .chain_sources(id)
            .and_then(|(feed, rest)| ChainSource::of(feed, rest)),
        strikes: view
            .rows
            .into_iter()
            .map(|row| LiveStrike {
                strike: row.strike,
                call: contract(row.call),
                put: contract(row.put),
            })
            .collect(),
    };
    Ok((chain, greeks))
}
