//! The F&O open-interest views of one chain, built once for every way they are served:
//! the REST routes (`/fo/strike-distribution`, `/fo/oi-change`, `/fo/summary`) and the
//! `/ws/fo/stream` channels (`strikes:`, `oi-change:`, `summary:`). Both go through
//! the functions here, so a channel's data has exactly the shape and field names of
//! the REST answer, and with default parameters they share one cache entry.
//!
//! Each view runs the active `oi-analytics` plugin on the priced chain (see
//! [`crate::api::priced`]) off the async runtime, through the response cache keyed by the
//! chain's sequence, the Greeks computation and the plugin's hash, then shapes the
//! plugin's columnar report into rows for clients. Theta and vega per strike come
//! from the Greeks the plugin was given, picked the way the plugin picks IV, delta and
//! gamma (the first contract on each strike and side).

use std::sync::Arc;

use serde::Serialize;

use crate::api::AppState;
use crate::api::cache::{CachedJson, InputVersion, KeyBuilder, to_json};
use crate::api::error::AppError;
use crate::api::fo::summary::{BuildupCounts, SummaryResponse};
use crate::api::fo::{
    Buildup, OiChangeResponse, OiMover, StrikeDistributionResponse, StrikeRow, StrikeSide,
};
use crate::api::market::history::OiReference;
use crate::api::priced::{
    chain_greeks, chain_view, current_version, input_version, priced_chain, world_plugin_hash,
};
use crate::market::ChainId;
use crate::plugins::live_greeks::ChainGreeks;
use crate::plugins::{PluginStamp, World, oi, types};
pub use crate::ws::FoView;

/// Strikes each side of ATM when `strikes` is not given, and the most allowed.
pub const DEFAULT_STRIKES: u32 = 10;
pub const MAX_STRIKES: u32 = 200;
/// Gainers and losers when `limit` is not given, and the most allowed.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 100;
/// |OI change| under this fraction of previous OI is no change, for buildup classes.
const OI_DEAD_BAND: f64 = 0.01;

/// Theta and vega of one contract of the plugin's input, with where it sits.
#[derive(Debug, Clone, Copy)]
struct ContractDecay {
    strike: f64,
    is_call: bool,
    theta: f64,
    vega: f64,
}

/// One run of the OI plugin and what it ran on.
pub(in crate::api) struct OiRun {
    pub(in crate::api) id: ChainId,
    pub(in crate::api) seq: u64,
    pub(in crate::api) spot: f64,
    pub(in crate::api) greeks: Arc<ChainGreeks>,
    pub(in crate::api) report: oi::OiReport,
    pub(in crate::api) plugin: PluginStamp,
    pub(in crate::api) contracts: usize,
    /// The input's theta and vega, in input order.
    decay: Vec<ContractDecay>,
}

impl OiRun {
    fn version(&self) -> InputVersion {
        input_version(self.seq, &self.greeks, Some(&self.plugin.hash))
    }
}

fn decay_of(input: &types::PricedChain) -> Vec<ContractDecay> {
    let contracts = &input.chain.contracts;
    let greeks = &input.greeks.greeks;
    (0..contracts.strike.len())
        .filter_map(|i| {
            Some(ContractDecay {
                strike: *contracts.strike.get(i)?,
                is_call: *contracts.is_call.get(i)?,
                theta: finite_or_zero(*greeks.theta.get(i)?),
                vega: finite_or_zero(*greeks.vega.get(i)?),
            })
        })
        .collect()
}

fn finite_or_zero(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
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
    let decay = decay_of(&input);
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
        decay,
    })
}

/// Resolves the chain, then answers from the cache or by running the OI plugin with
/// `top_n` (measuring the change against `reference` when given) and shaping its
/// report with `shape`.
async fn cached_oi<T: Serialize>(
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

fn chain_keys(route: &'static str, id: &ChainId) -> KeyBuilder {
    KeyBuilder::new(route)
        .param("underlying", &id.underlying)
        .param("expiry", id.expiry)
}

/// `/fo/strike-distribution`: `each_side` strikes each side of ATM.
pub async fn strike_distribution(
    state: AppState,
    id: ChainId,
    each_side: u32,
) -> Result<CachedJson, AppError> {
    let keys = chain_keys("/fo/strike-distribution", &id).param("strikes", each_side);
    cached_oi(state, id, keys, 0, None, move |run| {
        distribution(run, each_side)
    })
    .await
}

/// What `/fo/oi-change` asks beyond the chain.
#[derive(Debug)]
pub struct OiChangeRequest {
    pub limit: u32,
    /// The stored snapshot to compare against, with its normalised window label.
    pub reference: Option<(OiReference, String)>,
}

/// `/fo/oi-change`: the `limit` biggest gainers and losers.
pub async fn oi_change(
    state: AppState,
    id: ChainId,
    request: OiChangeRequest,
) -> Result<CachedJson, AppError> {
    let limit = request.limit;
    let mut keys = chain_keys("/fo/oi-change", &id).param("limit", limit);
    let (reference, window) = match request.reference {
        Some((reference, window)) => {
            // The snapshot's time is part of the key: the same window later compares
            // against a newer snapshot.
            keys = keys
                .param("window", &window)
                .param("reference", reference.ts_ms);
            (Some(reference), Some(window))
        }
        None => (None, None),
    };
    let reference_time = reference.as_ref().and_then(|r| rfc3339_ms(r.ts_ms));
    cached_oi(state, id, keys, limit, reference, move |run| {
        let mut response = movers_response(run, limit);
        response.window = window;
        response.reference_time = reference_time;
        response
    })
    .await
}

fn rfc3339_ms(ts_ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ms) * 1_000_000)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// `/fo/summary`.
pub async fn summary(state: AppState, id: ChainId) -> Result<CachedJson, AppError> {
    let keys = chain_keys("/fo/summary", &id);
    cached_oi(state, id, keys, 0, None, summarise).await
}

/// The view as its REST route answers it with default parameters.
pub async fn view(state: AppState, view: FoView, id: ChainId) -> Result<CachedJson, AppError> {
    match view {
        FoView::Summary => summary(state, id).await,
        FoView::Strikes => strike_distribution(state, id, DEFAULT_STRIKES).await,
        FoView::OiChange => {
            let request = OiChangeRequest {
                limit: DEFAULT_LIMIT,
                reference: None,
            };
            oi_change(state, id, request).await
        }
    }
}

/// Theta and vega per distribution row, for calls and puts: the first contract of
/// each strike and side, placed on the nearest strike of the distribution as the
/// plugin places it.
fn decay_columns(strikes: &[f64], decay: &[ContractDecay]) -> Vec<[Option<(f64, f64)>; 2]> {
    let mut columns = vec![[None, None]; strikes.len()];
    for contract in decay {
        let Some(k) = crate::market::subscriptions::nearest_strike_index(
            strikes.iter().copied(),
            contract.strike,
        ) else {
            continue;
        };
        if let Some(slot) = columns
            .get_mut(k)
            .and_then(|row| row.get_mut(usize::from(!contract.is_call)))
            && slot.is_none()
        {
            *slot = Some((contract.theta, contract.vega));
        }
    }
    columns
}

fn distribution(run: OiRun, each_side: u32) -> StrikeDistributionResponse {
    let d = &run.report.distribution;
    let atm = run.report.atm_strike;
    let decay = decay_columns(&d.strike, &run.decay);
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
        let (theta, vega) = decay
            .get(i)
            .and_then(|row| row[usize::from(!call)])
            .unwrap_or((0.0, 0.0));
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
            theta,
            vega,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(strike: f64, is_call: bool, theta: f64) -> ContractDecay {
        ContractDecay {
            strike,
            is_call,
            theta,
            vega: -theta * 2.0,
        }
    }

    #[test]
    fn decay_takes_the_first_contract_of_each_strike_and_side() {
        let strikes = [100.0, 105.0, 110.0];
        let decay = [
            contract(105.0, true, -1.0),
            contract(105.0, true, -9.0), // a second row on the same side: ignored
            contract(105.0, false, -2.0),
            contract(110.000_000_1, false, -3.0), // placed on the nearest strike
        ];
        let columns = decay_columns(&strikes, &decay);
        assert_eq!(columns[0], [None, None]);
        assert_eq!(columns[1], [Some((-1.0, 2.0)), Some((-2.0, 4.0))]);
        assert_eq!(columns[2], [None, Some((-3.0, 6.0))]);
        assert!(decay_columns(&[], &decay).is_empty());
    }

    #[test]
    fn views_are_named_by_their_prefix() {
        for view in FoView::ALL {
            assert_eq!(FoView::from_prefix(view.prefix()), Some(view));
        }
        assert_eq!(FoView::from_prefix("OI-Change"), Some(FoView::OiChange));
        assert_eq!(FoView::from_prefix("chain"), None);
    }

    #[test]
    fn non_finite_greeks_become_zero_like_the_plugins() {
        assert_eq!(finite_or_zero(f64::NAN), 0.0);
        assert_eq!(finite_or_zero(f64::NEG_INFINITY), 0.0);
        assert_eq!(finite_or_zero(-1.5), -1.5);
    }
}
