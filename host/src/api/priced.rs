//! The input of chain analytics: a chain as it is now together with the latest Greeks
//! the `greeks-model` plugin computed for it, as the WIT `priced-chain` the `oi` and
//! `custom` worlds take (same row order in both halves), and the version of those inputs
//! that cache keys are built from.
//!
//! The chain half is built exactly as the Greeks worker builds its input
//! ([`live_greeks::snapshot`]); the Greeks half is filled row by row from the worker's
//! latest result by security id. A contract priced after that computation has no Greeks
//! yet and gets the zero row a plugin sees for an unpriced contract (status `no-price`),
//! so a plugin never receives mismatched columns.

use std::sync::Arc;

use optionhub_pricing::chain as plain;

use super::AppState;
use super::cache::InputVersion;
use crate::api::error::{AppError, ErrorCode};
use crate::market::{ChainId, ChainView};
use crate::plugins::World;
use crate::plugins::live_greeks::{self, ChainGreeks};
use crate::plugins::types;

/// The chain's current sequence number; 404 for a chain the market does not track.
pub fn chain_seq(state: &AppState, id: &ChainId) -> Result<u64, AppError> {
    state.market.chain_seq(id).ok_or_else(|| no_chain(id))
}

/// A copy of the chain now.
pub fn chain_view(state: &AppState, id: &ChainId) -> Result<ChainView, AppError> {
    state.market.chain_view(id).ok_or_else(|| no_chain(id))
}

fn no_chain(id: &ChainId) -> AppError {
    AppError::NotFound {
        code: ErrorCode::UnknownExpiry,
        message: format!("no live chain for {} {}", id.underlying, id.expiry),
    }
}

/// The chain's latest Greeks, or a 503 saying why there are none.
pub fn chain_greeks(state: &AppState, id: &ChainId) -> Result<Arc<ChainGreeks>, AppError> {
    state.greeks.get(id).ok_or_else(|| AppError::Unavailable {
        code: ErrorCode::GreeksUnavailable,
        message: live_greeks::missing_greeks(&state.plugins, id),
    })
}

/// The content hash of the plugin that serves `world` now, or the 503 a call would get.
pub fn world_plugin_hash(state: &AppState, world: World) -> Result<String, AppError> {
    state
        .plugins
        .registry()
        .active_for_world(world)
        .map(|p| p.hash.clone())
        .ok_or(AppError::Plugin(
            crate::plugins::CallError::NoPluginForWorld { world },
        ))
}

/// The version of a chain-plus-Greeks input, and of the plugin computing on it.
pub fn input_version(seq: u64, greeks: &ChainGreeks, plugin: Option<&str>) -> InputVersion {
    InputVersion {
        seq,
        greeks_seq: Some(greeks.seq),
        greeks_plugin: Some(greeks.plugin.hash.clone()),
        plugin: plugin.map(str::to_string),
    }
}

/// The version of the inputs as they are now, without copying the chain (for cache
/// lookups).
pub fn current_version(
    state: &AppState,
    id: &ChainId,
    plugin: Option<&str>,
) -> Result<InputVersion, AppError> {
    let seq = chain_seq(state, id)?;
    let greeks = chain_greeks(state, id)?;
    Ok(input_version(seq, &greeks, plugin))
}

/// The `priced-chain` for a chain view and its Greeks.
pub fn priced_chain(
    view: &ChainView,
    greeks: &ChainGreeks,
    rate: f64,
) -> Result<types::PricedChain, AppError> {
    let chain = live_greeks::snapshot(view, rate).ok_or_else(|| AppError::Unavailable {
        code: ErrorCode::ChainNotPriced,
        message: format!(
            "{} {} has no quoted contract or no spot yet; retry shortly",
            view.underlying, view.expiry
        ),
    })?;
    let rows = &chain.contracts.security_id;
    let mut columns = plain::GreeksColumns::with_capacity(rows.len());
    for id in rows {
        let found = u32::try_from(*id)
            .ok()
            .and_then(|id| greeks.contracts.get(&id));
        match found {
            Some(g) => {
                columns.price.push(g.price);
                columns.iv.push(g.iv);
                columns.delta.push(g.delta);
                columns.gamma.push(g.gamma);
                columns.theta.push(g.theta);
                columns.vega.push(g.vega);
                columns.rho.push(g.rho);
                columns.status.push(iv_status(g.iv_status));
            }
            None => {
                for column in [
                    &mut columns.price,
                    &mut columns.iv,
                    &mut columns.delta,
                    &mut columns.gamma,
                    &mut columns.theta,
                    &mut columns.vega,
                    &mut columns.rho,
                ] {
                    column.push(0.0);
                }
                columns.status.push(plain::IvStatus::NoPrice);
            }
        }
    }
    let result = plain::GreeksResult {
        model: greeks.model.clone(),
        forward: greeks.forward,
        forward_source: forward_source(greeks.forward_source),
        time_to_expiry: greeks.time_to_expiry_years,
        greeks: columns,
    };
    Ok(plain::PricedChain {
        chain,
        greeks: result,
    }
    .into())
}

/// Inverse of the names [`ChainGreeks`] shows.
fn iv_status(name: &str) -> plain::IvStatus {
    match name {
        "solved" => plain::IvStatus::Solved,
        "below_intrinsic" => plain::IvStatus::BelowIntrinsic,
        "above_bound" => plain::IvStatus::AboveBound,
        "expired" => plain::IvStatus::Expired,
        _ => plain::IvStatus::NoPrice,
    }
}

fn forward_source(name: &str) -> plain::ForwardSource {
    match name {
        "given" => plain::ForwardSource::Given,
        "put_call_parity" => plain::ForwardSource::PutCallParity,
        _ => plain::ForwardSource::Spot,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::instruments::{ExchangeSegment, ExpiryFlag};
    use crate::market::book::InstrumentBook;
    use crate::market::view::{ChainRowView, ContractView};
    use crate::plugins::PluginStamp;
    use crate::plugins::live_greeks::ContractGreeks;

    fn contract(id: u32, ltp: f64) -> Option<ContractView> {
        Some(ContractView {
            security_id: id,
            segment: ExchangeSegment::NseFno,
            book: InstrumentBook {
                ltp,
                oi: 100,
                ..InstrumentBook::default()
            },
        })
    }

    fn greeks_of(delta: f64) -> ContractGreeks {
        ContractGreeks {
            price: 1.0,
            iv: 0.2,
            delta,
            gamma: 0.001,
            theta: -1.0,
            vega: 2.0,
            rho: 0.1,
            iv_status: "solved",
        }
    }

    #[test]
    fn greeks_follow_the_snapshot_rows_by_security_id() {
        let view = ChainView {
            underlying: "NIFTY".into(),
            expiry: time::macros::date!(2026 - 11 - 24),
            expiry_flag: ExpiryFlag::Weekly,
            lot_size: 75,
            strike_step: 50.0,
            tick_size: 0.05,
            spot: 25_000.0,
            seq: 9,
            as_of_ns: 1,
            rows: vec![
                ChainRowView {
                    strike: 24_950.0,
                    call: contract(1, 80.0),
                    put: contract(2, 0.0), // unpriced: left out of the snapshot
                },
                ChainRowView {
                    strike: 25_000.0,
                    call: contract(3, 50.0),
                    put: contract(4, 45.0), // priced after the Greeks ran
                },
            ],
        };
        let greeks = ChainGreeks {
            seq: 7,
            computed_at_ns: 0,
            plugin: PluginStamp {
                name: "greeks-black76".into(),
                version: "1".into(),
                hash: "h".into(),
            },
            model: "black76".into(),
            forward: 25_010.0,
            forward_source: "put_call_parity",
            time_to_expiry_years: 0.01,
            contracts: HashMap::from([(3, greeks_of(0.5)), (1, greeks_of(0.6))]),
            last_error: None,
        };
        let priced = priced_chain(&view, &greeks, 0.065).expect("priced");
        assert_eq!(priced.chain.contracts.security_id, vec![1, 3, 4]);
        assert_eq!(priced.greeks.greeks.delta, vec![0.6, 0.5, 0.0]);
        assert_eq!(
            priced.greeks.greeks.status,
            vec![
                types::IvStatus::Solved,
                types::IvStatus::Solved,
                types::IvStatus::NoPrice
            ]
        );
        assert_eq!(priced.greeks.forward, 25_010.0);
        assert_eq!(
            priced.greeks.forward_source,
            types::ForwardSource::PutCallParity
        );
        assert_eq!(priced.chain.rate, 0.065);
        let version = input_version(view.seq, &greeks, Some("oi"));
        assert_eq!((version.seq, version.greeks_seq), (9, Some(7)));
    }
}
