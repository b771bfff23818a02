//! `GET /fo/summary`: one chain's open-interest summary: put-call ratios (OI and
//! volume), max pain, the ATM strike and its IV, OI support and resistance, totals and
//! how many contracts fall in each buildup class.
//!
//! The numbers are the active `oi-analytics` plugin's report, with the ATM IV (the
//! mean of the solved ATM call and put IVs) and the per-class counts, built by
//! [`crate::api::fo::view`] (shared with the `summary:` channel of `/ws/fo/stream`); this
//! module owns the answer's type and documentation.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::AppState;
use crate::api::cache::CachedJson;
use crate::api::error::AppError;
use crate::api::error::ErrorBody;
use crate::api::extract::ApiQuery;
use crate::api::fo::view;
use crate::api::params;
use crate::plugins::PluginStamp;
use crate::plugins::live_greeks::ChainGreeks;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Underlying name, any case.
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[param(required = true, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub expiry: Option<String>,
}

/// How many contracts of the chain fall in each buildup class.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BuildupCounts {
    pub long_buildup: u32,
    pub short_buildup: u32,
    pub short_covering: u32,
    pub long_unwinding: u32,
    pub neutral: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryResponse {
    pub underlying: String,
    pub expiry: Date,
    pub seq: u64,
    pub spot: f64,
    pub forward: f64,
    pub atm_strike: f64,
    /// Mean of the ATM call and put IVs that are solved (decimal); null when neither is.
    pub atm_iv: Option<f64>,
    pub atm_call_iv: Option<f64>,
    pub atm_put_iv: Option<f64>,
    /// Put OI / call OI; null when call OI is 0.
    pub pcr_oi: Option<f64>,
    /// Put volume / call volume; null when call volume is 0.
    pub pcr_volume: Option<f64>,
    /// Strike minimising the holders' total payout.
    pub max_pain: Option<f64>,
    /// Strike of the largest put OI.
    pub support: Option<f64>,
    /// Strike of the largest call OI.
    pub resistance: Option<f64>,
    pub total_call_oi: u64,
    pub total_put_oi: u64,
    pub total_call_oi_change: i64,
    pub total_put_oi_change: i64,
    pub total_call_volume: u64,
    pub total_put_volume: u64,
    /// Contracts analysed (those with a price or a quote).
    pub contracts: usize,
    pub buildup: BuildupCounts,
    pub plugin: PluginStamp,
    pub greeks: ChainGreeks,
}

/// PCR, max pain, ATM strike and IV, OI support and resistance, and totals of a chain.
#[utoipa::path(
    get,
    path = "/fo/summary",
    tag = "fo",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The chain's OI summary", body = SummaryResponse),
        (status = 400, description = "Missing or malformed parameter", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry", body = ErrorBody),
        (status = 503, description = "Greeks not computed yet, or no oi-analytics plugin loaded", body = ErrorBody),
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SummaryQuery>,
) -> Result<CachedJson, AppError> {
    let q = query;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    view::summary(state, id).await
}
