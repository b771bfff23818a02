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

use analytics::{ChainGreeks, LiveGreeks};
use instruments::registry::{InstrumentRegistry, UnderlyingInfo};
use instruments::{Instrument, InstrumentKind, OptionRight};
use market::{ChainId, ChainView, MarketState};
use plugin_host::PluginHost;
use plugin_host::strategy::LegKind;

use crate::refusal::{Reason, Refusal};
use crate::request::LegRequest;

/// The live market strategies are valued in: its chains, their Greeks, and the plugins
/// that compute Greeks and valuations.
#[derive(Debug, Clone)]
pub struct LiveMarket {
    pub market: Arc<MarketState>,
    pub greeks: Arc<LiveGreeks>,
    pub plugins: Arc<PluginHost>,
}

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

/// Chain views and Greeks, each read once however many legs use the chain (and, for the
/// M2M worker, however many strategies: see [`resolve_with`]).
#[derive(Debug, Default)]
pub struct Chains {
    seen: HashMap<ChainId, (ChainView, Arc<ChainGreeks>)>,
}

impl Chains {
    fn get(
        &mut self,
        live: &LiveMarket,
        id: &ChainId,
    ) -> Result<&(ChainView, Arc<ChainGreeks>), Refusal> {
        if !self.seen.contains_key(id) {
            let view = live.market.chain_view(id).ok_or_else(|| {
                Refusal::new(
                    Reason::UnknownChain,
                    format!("no live chain for {} {}", id.underlying, id.expiry),
                )
            })?;
            let greeks = live.greeks.get(id).ok_or_else(|| {
                Refusal::new(
                    Reason::GreeksUnavailable,
                    analytics::missing_greeks(&live.plugins, id),
                )
            })?;
            self.seen.insert(id.clone(), (view, greeks));
        }
        self.seen.get(id).ok_or_else(|| {
            Refusal::new(
                Reason::ChainUnavailable,
                format!("{} {} could not be read", id.underlying, id.expiry),
            )
        })
    }

    /// "Now" for the legs valued over these chains: the latest as-of time among them
    /// (the wall clock when none has one), in ms.
    fn as_of_ms(&self) -> i64 {
        let as_of_ns = self
            .seen
            .values()
            .map(|(view, _)| view.as_of_ns)
            .max()
            .filter(|ns| *ns > 0)
            .unwrap_or_else(dhan::event::now_ns);
        as_of_ns / 1_000_000
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
pub fn resolve(live: &LiveMarket, legs: &[LegRequest]) -> Result<MarketInputs, Refusal> {
    resolve_with(live, legs, &mut Chains::default())
}

/// [`resolve`], reading chains through `chains` so many strategies valued together read
/// each chain once (and share one "now": the latest as-of time of the chains read).
pub fn resolve_with(
    live: &LiveMarket,
    legs: &[LegRequest],
    chains: &mut Chains,
) -> Result<MarketInputs, Refusal> {
    let registry = live.market.registry();
    let mut underlying: Option<String> = None;
    // Times to expiry are filled once "now" is known.
    let mut resolved = Vec::with_capacity(legs.len());
    for (i, leg) in legs.iter().enumerate() {
        let contract = LegContract::find(registry, i, leg.security_id)?;
        match &underlying {
            None => underlying = Some(contract.info.name.clone()),
            Some(first) if *first != contract.info.name => {
                return Err(contract.refusal(
                    Reason::MixedUnderlyings,
                    &format!(
                        "is on {}, but legs[0] is on {first}; all legs must be on one underlying",
                        contract.info.name
                    ),
                ));
            }
            Some(_) => {}
        }
        let chain = ChainId {
            underlying: contract.info.name.clone(),
            expiry: contract.expiry,
        };
        let (view, greeks) = chains.get(live, &chain)?;
        let (market_price, iv) = contract.price(registry, view, greeks)?;
        resolved.push(MarketLeg {
            request: leg.clone(),
            symbol: contract.instrument.symbol.clone(),
            kind: contract.kind,
            strike: contract.strike,
            expiry: contract.expiry,
            lot_size: contract.instrument.lot_size,
            market_price,
            forward: greeks.forward,
            iv,
            time_to_expiry: 0.0,
        });
    }
    let underlying = underlying.ok_or_else(|| {
        Refusal::new(
            Reason::NoLegs,
            "`legs` is empty: a strategy needs at least one leg",
        )
    })?;
    let spot = live.market.spot(&underlying).ok_or_else(|| {
        Refusal::new(
            Reason::NoSpot,
            format!("the {underlying} index value is not known yet; retry shortly"),
        )
    })?;
    let as_of_ms = chains.as_of_ms();
    for leg in &mut resolved {
        leg.time_to_expiry = years_until(leg.expiry, as_of_ms);
    }
    Ok(MarketInputs {
        underlying,
        spot,
        rate: live.greeks.rate(),
        as_of_ms,
        legs: resolved,
    })
}

/// What the registry says of one leg's contract.
struct LegContract<'r> {
    /// The leg's position in the request, for messages.
    index: usize,
    id: u32,
    instrument: &'r Instrument,
    info: &'r UnderlyingInfo,
    kind: LegKind,
    /// `None` for futures.
    strike: Option<f64>,
    expiry: Date,
}

impl<'r> LegContract<'r> {
    /// Legs[`index`]'s contract: an option or a future of a tracked underlying, and a
    /// future only where an option chain of its expiry gives it a forward.
    fn find(registry: &'r InstrumentRegistry, index: usize, id: u32) -> Result<Self, Refusal> {
        let instrument = registry.derivative(id).ok_or_else(|| {
            Refusal::new(
                Reason::UnknownContract,
                format!("legs[{index}]: no F&O contract has security id {id}"),
            )
        })?;
        let info = registry.underlying(&instrument.underlying).ok_or_else(|| {
            Refusal::new(
                Reason::UnusableContract,
                format!(
                    "legs[{index}]: security id {id} ({}) is not on a tracked underlying",
                    instrument.symbol
                ),
            )
        })?;
        let (kind, strike, expiry) = match instrument.kind {
            InstrumentKind::Option {
                expiry,
                strike,
                right,
                ..
            } => {
                let kind = match right {
                    OptionRight::Call => LegKind::Call,
                    OptionRight::Put => LegKind::Put,
                };
                (kind, Some(strike), expiry)
            }
            InstrumentKind::Future { expiry } => (LegKind::Future, None, expiry),
            InstrumentKind::Index => {
                return Err(Refusal::new(
                    Reason::UnusableContract,
                    format!("legs[{index}]: security id {id} is an index, not a contract"),
                ));
            }
        };
        let contract = Self {
            index,
            id,
            instrument,
            info,
            kind,
            strike,
            expiry,
        };
        if kind == LegKind::Future && !info.expiries.iter().any(|e| e.expiry == expiry) {
            return Err(contract.refusal(
                Reason::NoMarketPrice,
                &format!(
                    "is a future, priced at the forward of the option chain of its expiry,                      and {} has no options expiring {expiry}",
                    info.name
                ),
            ));
        }
        Ok(contract)
    }

    /// The contract's mark and implied volatility now (a future's mark is its chain's
    /// forward, and it has no IV).
    fn price(
        &self,
        registry: &InstrumentRegistry,
        view: &ChainView,
        greeks: &ChainGreeks,
    ) -> Result<(f64, Option<f64>), Refusal> {
        if self.kind == LegKind::Future {
            return Ok((greeks.forward, None));
        }
        let book = registry
            .locate(&self.instrument.key)
            .and_then(|at| view.rows.get(at.strike))
            .and_then(|row| match self.kind {
                LegKind::Call => row.call.as_ref(),
                _ => row.put.as_ref(),
            })
            .map(|c| c.book);
        let price = book
            .and_then(|b| mark(b.bid, b.ask, b.ltp))
            .ok_or_else(|| self.refusal(Reason::NoMarketPrice, "has no quote or trade yet"))?;
        let iv = greeks
            .contracts
            .get(&self.id)
            .map(|g| g.iv)
            .ok_or_else(|| {
                self.refusal(Reason::NoIv, "has not been priced by the Greeks model yet")
            })?;
        Ok((price, Some(iv)))
    }

    /// A refusal naming the leg, its security id and symbol, then `why`.
    fn refusal(&self, reason: Reason, why: &str) -> Refusal {
        Refusal::new(
            reason,
            format!(
                "legs[{}]: security id {} ({}) {why}",
                self.index, self.id, self.instrument.symbol
            ),
        )
    }
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
