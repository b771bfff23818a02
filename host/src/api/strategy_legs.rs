//! The market inputs of a strategy's legs: for each leg, what the contract is (from the
//! registry) and what the live market says about it now: its mark (bid/ask mid, else
//! last price), the forward of its expiry and its implied volatility (from the latest
//! Greeks), and its time to expiry (15:30 IST on the expiry date, from the chain's as-of
//! time).
//!
//! Futures are valued at the forward the Greeks model derived for the option chain of
//! the same expiry: the market holds no futures books, and that forward is the fair
//! price Black-76 values the options against. Every refusal names the leg and its
//! security id: a contract that does not exist, one with no price yet, legs on different
//! underlyings.

use std::collections::HashMap;
use std::sync::Arc;

use optionhub_pricing::chain::Date as PlainDate;
use optionhub_pricing::expiry::{TimeToExpiry, time_to_expiry};
use time::Date;

use super::AppState;
use super::params;
use super::priced::{chain_greeks, chain_view};
use super::strategy_request::LegRequest;
use crate::error::AppError;
use crate::instruments::{InstrumentKind, OptionRight};
use crate::market::{ChainId, ChainView};
use crate::plugins::live_greeks::ChainGreeks;
use crate::plugins::strategy::LegKind;

/// One leg with everything the valuation needs.
#[derive(Debug, Clone)]
pub struct MarketLeg {
    pub request: LegRequest,
    pub symbol: String,
    pub kind: LegKind,
    /// `None` for futures.
    pub strike: Option<f64>,
    pub expiry: Date,
    pub lot_size: u32,
    pub market_price: f64,
    pub forward: f64,
    /// `None` for futures.
    pub iv: Option<f64>,
    /// Years to expiry from [`MarketInputs::as_of_ms`].
    pub time_to_expiry: f64,
}

/// The legs and the market they are valued in.
#[derive(Debug, Clone)]
pub struct MarketInputs {
    pub underlying: String,
    pub spot: f64,
    pub rate: f64,
    /// "Now" for every time to expiry: the latest as-of time of the chains used.
    pub as_of_ms: i64,
    pub legs: Vec<MarketLeg>,
}

impl MarketInputs {
    /// The nearest expiry among the legs.
    pub fn nearest_expiry(&self) -> Option<Date> {
        self.legs.iter().map(|l| l.expiry).min()
    }
}

fn unprocessable(code: &'static str, message: String) -> AppError {
    AppError::Unprocessable { code, message }
}

/// Chain views and Greeks, each read once however many legs use the chain (and, for the
/// M2M worker, however many strategies: see [`resolve_with`]).
#[derive(Debug, Default)]
pub struct Chains {
    seen: HashMap<ChainId, (ChainView, Arc<ChainGreeks>)>,
}

impl Chains {
    fn get(
        &mut self,
        state: &AppState,
        id: &ChainId,
    ) -> Result<&(ChainView, Arc<ChainGreeks>), AppError> {
        if !self.seen.contains_key(id) {
            let view = chain_view(state, id)?;
            let greeks = chain_greeks(state, id)?;
            self.seen.insert(id.clone(), (view, greeks));
        }
        self.seen.get(id).ok_or_else(|| AppError::Unavailable {
            code: "chain_unavailable",
            message: format!("{} {} could not be read", id.underlying, id.expiry),
        })
    }
}

/// The mark of a book: the mid of a sane bid/ask, else the last price.
fn mark(bid: f64, ask: f64, last: f64) -> Option<f64> {
    if bid > 0.0 && ask > 0.0 && ask >= bid {
        Some(0.5 * (bid + ask))
    } else {
        (last > 0.0).then_some(last)
    }
}

/// Looks every leg up in the registry and the live market.
pub fn resolve(state: &AppState, legs: &[LegRequest]) -> Result<MarketInputs, AppError> {
    resolve_with(state, legs, &mut Chains::default())
}

/// [`resolve`], reading chains through `chains` so many strategies valued together read
/// each chain once (and share one "now": the latest as-of time of the chains read).
pub fn resolve_with(
    state: &AppState,
    legs: &[LegRequest],
    chains: &mut Chains,
) -> Result<MarketInputs, AppError> {
    let registry = state.market.registry();
    let mut underlying: Option<String> = None;
    let mut resolved = Vec::with_capacity(legs.len());
    // (leg index, expiry) of each leg; times to expiry are filled once "now" is known.
    for (i, leg) in legs.iter().enumerate() {
        let id = leg.security_id;
        // An id naming nothing is a 404, like any reference to what does not exist.
        let instrument = params::derivative(registry, id).ok_or_else(|| AppError::NotFound {
            code: "unknown_contract",
            message: format!("legs[{i}]: no F&O contract has security id {id}"),
        })?;
        let info = registry.underlying(&instrument.underlying).ok_or_else(|| {
            unprocessable(
                "unknown_contract",
                format!(
                    "legs[{i}]: security id {id} ({}) is not on a tracked underlying",
                    instrument.symbol
                ),
            )
        })?;
        match &underlying {
            None => underlying = Some(info.name.clone()),
            Some(first) if *first != info.name => {
                return Err(unprocessable(
                    "mixed_underlyings",
                    format!(
                        "legs[{i}]: security id {id} ({}) is on {}, but legs[0] is on {first}; \
                         all legs must be on one underlying",
                        instrument.symbol, info.name
                    ),
                ));
            }
            Some(_) => {}
        }
        let (kind, strike, expiry) = match instrument.kind {
            InstrumentKind::Option {
                expiry,
                strike,
                right,
                ..
            } => (
                match right {
                    OptionRight::Call => LegKind::Call,
                    OptionRight::Put => LegKind::Put,
                },
                Some(strike),
                expiry,
            ),
            InstrumentKind::Future { expiry } => (LegKind::Future, None, expiry),
            InstrumentKind::Index => {
                return Err(unprocessable(
                    "unknown_contract",
                    format!("legs[{i}]: security id {id} is an index, not a contract"),
                ));
            }
        };
        let chain = ChainId {
            underlying: info.name.clone(),
            expiry,
        };
        if kind == LegKind::Future && !info.expiries.iter().any(|e| e.expiry == expiry) {
            return Err(unprocessable(
                "no_market_price",
                format!(
                    "legs[{i}]: future {id} ({}) is priced at the forward of the option chain of \
                     its expiry, and {} has no options expiring {expiry}",
                    instrument.symbol, info.name
                ),
            ));
        }
        let (view, greeks) = chains.get(state, &chain)?;
        let (market_price, iv) = if kind == LegKind::Future {
            (greeks.forward, None)
        } else {
            let book = registry
                .locate(&instrument.key)
                .and_then(|at| view.rows.get(at.strike))
                .and_then(|row| match kind {
                    LegKind::Call => row.call.as_ref(),
                    _ => row.put.as_ref(),
                })
                .map(|c| c.book);
            let price = book
                .and_then(|b| mark(b.bid, b.ask, b.ltp))
                .ok_or_else(|| {
                    unprocessable(
                        "no_market_price",
                        format!(
                            "legs[{i}]: security id {id} ({}) has no quote or trade yet",
                            instrument.symbol
                        ),
                    )
                })?;
            let iv = greeks.contracts.get(&id).map(|g| g.iv).ok_or_else(|| {
                unprocessable(
                    "no_iv",
                    format!(
                        "legs[{i}]: the Greeks model has not priced security id {id} ({}) yet",
                        instrument.symbol
                    ),
                )
            })?;
            (price, Some(iv))
        };
        resolved.push(MarketLeg {
            request: leg.clone(),
            symbol: instrument.symbol.clone(),
            kind,
            strike,
            expiry,
            lot_size: instrument.lot_size,
            market_price,
            forward: greeks.forward,
            iv,
            time_to_expiry: 0.0,
        });
    }
    let underlying = underlying.ok_or_else(|| AppError::Unprocessable {
        code: "no_legs",
        message: "`legs` is empty: a strategy needs at least one leg".into(),
    })?;
    let spot = state
        .market
        .spot(&underlying)
        .ok_or_else(|| AppError::Unavailable {
            code: "no_spot",
            message: format!("the {underlying} index value is not known yet; retry shortly"),
        })?;
    let as_of_ns = chains
        .seen
        .values()
        .map(|(view, _)| view.as_of_ns)
        .max()
        .filter(|ns| *ns > 0)
        .unwrap_or_else(crate::feed::event::now_ns);
    let as_of_ms = as_of_ns / 1_000_000;
    for leg in &mut resolved {
        leg.time_to_expiry = years_until(leg.expiry, as_of_ms);
    }
    Ok(MarketInputs {
        underlying,
        spot,
        rate: state.greeks.rate(),
        as_of_ms,
        legs: resolved,
    })
}

/// Years from `as_of_ms` to 15:30 IST on `date`; 0 once that has passed.
pub fn years_until(date: Date, as_of_ms: i64) -> f64 {
    let plain = PlainDate {
        year: u16::try_from(date.year()).unwrap_or(0),
        month: u8::from(date.month()),
        day: date.day(),
    };
    match time_to_expiry(plain, as_of_ms) {
        Some(TimeToExpiry::Live { years }) => years,
        Some(TimeToExpiry::Expired) | None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_the_mid_else_the_last_price() {
        assert_eq!(mark(100.0, 101.0, 99.0), Some(100.5));
        assert_eq!(mark(0.0, 101.0, 99.0), Some(99.0), "one-sided quote");
        assert_eq!(mark(102.0, 101.0, 99.0), Some(99.0), "crossed quote");
        assert_eq!(mark(0.0, 0.0, 0.0), None);
    }

    #[test]
    fn time_runs_to_half_past_three_ist_on_expiry_day() {
        let expiry = time::macros::date!(2026 - 11 - 24);
        // 2026-11-24 10:00 UTC = 15:30 IST.
        let expiry_ms = time::macros::datetime!(2026-11-24 10:00 UTC).unix_timestamp() * 1000;
        let day_before = expiry_ms - 86_400_000;
        assert!((years_until(expiry, day_before) - 1.0 / 365.0).abs() < 1e-12);
        assert_eq!(years_until(expiry, expiry_ms), 0.0);
        assert_eq!(years_until(expiry, expiry_ms + 1), 0.0);
    }
}
