//! `GET /fo/depth?security_id=`: market-depth analysis of one option contract from its
//! five-level book (imbalance, spread, size-weighted mid, best bid and ask, the levels).
//!
//! Only contracts the feed follows in Full mode (the strikes nearest the money) have
//! depth; any other contract is answered with `no_depth`, naming why and which
//! contracts of the chain do have depth now, rather than with zeros that look like an
//! empty book. The arithmetic is [`crate::market::depth`]; this module finds the book and
//! caches the answer per chain sequence.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::AppState;
use crate::api::cache::{CachedJson, InputVersion, KeyBuilder, to_json};
use crate::api::error::ErrorBody;
use crate::api::error::{AppError, ErrorCode};
use crate::api::extract::ApiQuery;
use crate::api::params;
use crate::api::priced::{chain_seq, chain_view};
use crate::instruments::{Instrument, InstrumentKind, OptionRight};
use crate::market::book::BookLevel;
use crate::market::depth::{DepthAnalysis, analyze};
use crate::market::{ChainId, ChainView};

/// How many contracts with depth a `no_depth` answer suggests.
const SUGGESTIONS: usize = 6;

pub fn routes() -> Router<AppState> {
    Router::new().route("/fo/depth", get(depth))
}

/// The market-depth route, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(depth),
    components(schemas(DepthResponse, DepthAnalysis, BookLevel, ErrorBody))
)]
pub struct DepthApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepthQuery {
    /// The option contract's security id (from `/api/v2/options/live`).
    #[param(value_type = u32, required = true, minimum = 1)]
    pub security_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepthResponse {
    pub security_id: u32,
    /// Dhan's trading symbol.
    pub symbol: String,
    pub underlying: String,
    pub expiry: Date,
    pub strike: f64,
    /// `call` or `put`.
    #[schema(example = "call")]
    pub right: &'static str,
    /// The chain's sequence number the book was read at.
    pub seq: u64,
    /// Last traded price; null until a trade is seen.
    pub ltp: Option<f64>,
    #[serde(flatten)]
    pub analysis: DepthAnalysis,
    /// The five levels as received, best first.
    pub levels: Vec<BookLevel>,
}

/// Where an option's book is: its chain, strike row and side.
struct Located {
    chain: ChainId,
    strike_row: usize,
    right: OptionRight,
}

fn locate(state: &AppState, instrument: &Instrument) -> Result<Located, AppError> {
    let registry = state.market.registry();
    let InstrumentKind::Option { expiry, right, .. } = instrument.kind else {
        return Err(AppError::NotFound {
            code: ErrorCode::NoDepth,
            message: format!(
                "{} ({}) is not an option: only option contracts have depth here \
                 (futures books are not tracked)",
                instrument.key.security_id, instrument.symbol
            ),
        });
    };
    let location = registry.locate(&instrument.key);
    let underlying = location.and_then(|l| registry.underlyings().nth(l.underlying));
    match (location, underlying) {
        (Some(location), Some(info)) => Ok(Located {
            chain: ChainId {
                underlying: info.name.clone(),
                expiry,
            },
            strike_row: location.strike,
            right,
        }),
        _ => Err(AppError::NotFound {
            code: ErrorCode::NoDepth,
            message: format!(
                "{} ({}) is not placed in a tracked chain (a duplicate listing), so it has no book",
                instrument.key.security_id, instrument.symbol
            ),
        }),
    }
}

/// Contracts of the chain that have depth now, for the `no_depth` message.
fn with_depth(view: &ChainView) -> Vec<String> {
    view.rows
        .iter()
        .flat_map(|row| [&row.call, &row.put])
        .flatten()
        .filter(|c| c.book.depth.is_some())
        .take(SUGGESTIONS)
        .map(|c| c.security_id.to_string())
        .collect()
}

/// Market-depth analysis of one option contract.
#[utoipa::path(
    get,
    path = "/fo/depth",
    tag = "fo",
    params(DepthQuery),
    responses(
        (status = 200, description = "Depth analysis and levels", body = DepthResponse),
        (status = 400, description = "Missing or malformed security id", body = ErrorBody),
        (status = 404, description = "Unknown security id (`unknown_security_id`), or a contract without 5-level depth (`no_depth`: not subscribed in Full mode)", body = ErrorBody),
    )
)]
pub async fn depth(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DepthQuery>,
) -> Result<CachedJson, AppError> {
    let q = query;
    let id = params::security_id(q.security_id.as_deref())?;
    let instrument = state
        .market
        .registry()
        .derivative(id)
        .cloned()
        .ok_or_else(|| AppError::NotFound {
            code: ErrorCode::UnknownSecurityId,
            message: format!(
                "no F&O contract has security id {id} (ids are listed by /api/v2/options/live)"
            ),
        })?;
    let located = locate(&state, &instrument)?;
    let keys = KeyBuilder::new("/fo/depth").param("security_id", id);
    let version = |seq| InputVersion {
        seq,
        ..InputVersion::default()
    };
    let lookup = keys.key(version(chain_seq(&state, &located.chain)?));
    let cache = Arc::clone(&state.cache);
    cache
        .respond(lookup, || async move {
            let view = chain_view(&state, &located.chain)?;
            let row = view.rows.get(located.strike_row);
            let contract = row.and_then(|r| match located.right {
                OptionRight::Call => r.call.as_ref(),
                OptionRight::Put => r.put.as_ref(),
            });
            let Some((row, contract)) = row.zip(contract) else {
                return Err(AppError::NotFound {
                    code: ErrorCode::NoDepth,
                    message: format!("{id} ({}) has no book in its chain", instrument.symbol),
                });
            };
            let Some(levels) = contract.book.depth else {
                return Err(AppError::NotFound {
                    code: ErrorCode::NoDepth,
                    message: format!(
                        "{id} ({}) has no 5-level depth: only contracts near the money are \
                         subscribed in Full mode; contracts of this chain with depth now: [{}]",
                        instrument.symbol,
                        with_depth(&view).join(", ")
                    ),
                });
            };
            let response = DepthResponse {
                security_id: id,
                symbol: instrument.symbol.clone(),
                underlying: view.underlying.clone(),
                expiry: view.expiry,
                strike: row.strike,
                right: match located.right {
                    OptionRight::Call => "call",
                    OptionRight::Put => "put",
                },
                seq: view.seq,
                ltp: (contract.book.ltp > 0.0).then_some(contract.book.ltp),
                analysis: analyze(&levels),
                levels: levels.to_vec(),
            };
            Ok((keys.key(version(view.seq)), to_json(&response)?))
        })
        .await
}
