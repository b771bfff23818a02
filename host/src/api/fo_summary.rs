//! `GET /fo/summary`: one chain's open-interest summary: put-call ratios (OI and
//! volume), max pain, the ATM strike and its IV, OI support and resistance, totals and
//! how many contracts fall in each buildup class.
//!
//! The numbers are the active `oi-analytics` plugin's report (run and cached through
//! [`super::fo`]); this module adds the ATM IV (the mean of the solved ATM call and put
//! IVs) and the per-class counts, and shapes the answer.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::cache::CachedJson;
use super::fo::{Buildup, OiRun, cached_oi, chain_keys};
use super::params::{self, ErrorResponse};
use crate::error::AppError;
use crate::plugins::PluginStamp;
use crate::plugins::live_greeks::ChainGreeks;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Underlying name, any case.
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
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
        (status = 400, description = "Missing or malformed parameter", body = ErrorResponse),
        (status = 404, description = "Unknown underlying or expiry", body = ErrorResponse),
        (status = 503, description = "Greeks not computed yet, or no oi-analytics plugin loaded", body = ErrorResponse),
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    query: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<CachedJson, AppError> {
    let q = params::query(query)?;
    let id = params::chain_id(&state, q.underlying.as_deref(), q.expiry.as_deref())?;
    let keys = chain_keys("/fo/summary", &id);
    cached_oi(state, id, keys, 0, summarise).await
}

fn summarise(run: OiRun) -> SummaryResponse {
    let r = &run.report;
    let d = &r.distribution;
    let atm = d.strike.iter().position(|s| *s == r.atm_strike);
    let solved = |column: &[f64]| {
        atm.and_then(|i| column.get(i).copied())
            .filter(|iv| iv.is_finite() && *iv > 0.0)
    };
    let (call_iv, put_iv) = (solved(&d.call_iv), solved(&d.put_iv));
    let atm_iv = match (call_iv, put_iv) {
        (Some(c), Some(p)) => Some(0.5 * (c + p)),
        (one, other) => one.or(other),
    };
    let mut buildup = BuildupCounts::default();
    for class in &r.buildup {
        let slot = match Buildup::from(*class) {
            Buildup::LongBuildup => &mut buildup.long_buildup,
            Buildup::ShortBuildup => &mut buildup.short_buildup,
            Buildup::ShortCovering => &mut buildup.short_covering,
            Buildup::LongUnwinding => &mut buildup.long_unwinding,
            Buildup::Neutral => &mut buildup.neutral,
        };
        *slot = slot.saturating_add(1);
    }
    SummaryResponse {
        underlying: run.id.underlying.clone(),
        expiry: run.id.expiry,
        seq: run.seq,
        spot: run.spot,
        forward: run.greeks.forward,
        atm_strike: r.atm_strike,
        atm_iv,
        atm_call_iv: call_iv,
        atm_put_iv: put_iv,
        pcr_oi: r.pcr_oi,
        pcr_volume: r.pcr_volume,
        max_pain: r.max_pain,
        support: r.support,
        resistance: r.resistance,
        total_call_oi: r.total_call_oi,
        total_put_oi: r.total_put_oi,
        total_call_oi_change: d
            .call_oi_change
            .iter()
            .copied()
            .fold(0, i64::saturating_add),
        total_put_oi_change: d.put_oi_change.iter().copied().fold(0, i64::saturating_add),
        total_call_volume: r.total_call_volume,
        total_put_volume: r.total_put_volume,
        contracts: run.contracts,
        buildup,
        plugin: run.plugin.clone(),
        greeks: (*run.greeks).clone(),
    }
}
