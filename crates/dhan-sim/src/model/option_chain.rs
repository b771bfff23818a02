//! The option-chain view of the simulated market, for the server's answer to Dhan's
//! `POST /v2/optionchain` (dhanhq.md §4.1): per strike, each side's quote with the
//! model's implied volatility and Greeks at this instant. Greeks are computed here, on
//! request, rather than on every step: a chain is asked for every few seconds, quotes
//! change many times a second.

use time::Date;

use super::{Book, SimMarket, SimQuote};
use crate::smile::smile_vol;
use instruments::InstrumentKey;

/// Greeks of one option in display units (delta per point of the forward, gamma per
/// point, theta per calendar day, vega per volatility point), as
/// `optionhub_pricing::black76` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SimGreeks {
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
}

/// One side of one strike: the contract, its quote (with `iv` the model's volatility
/// now, as a decimal) and its Greeks.
pub(super) type SimChainSide = (InstrumentKey, SimQuote, SimGreeks);

/// One strike of a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct SimChainRow {
    pub strike: f64,
    pub call: SimChainSide,
    pub put: SimChainSide,
}

/// One expiry's chain, lowest strike first.
#[derive(Debug, Clone, PartialEq)]
pub struct SimChain {
    /// The index level now (unrounded).
    pub spot: f64,
    pub strikes: Vec<SimChainRow>,
}

impl SimMarket {
    /// The chain of one listed expiry of `underlying`; `None` if either is not listed.
    pub fn option_chain(&self, underlying: &str, expiry: Date) -> Option<SimChain> {
        let (index, state) = self.underlying(underlying)?;
        let book = self
            .books
            .iter()
            .find(|b| b.underlying == index && b.expiry == expiry)?;
        let strikes = book
            .rows
            .iter()
            .filter_map(|row| {
                Some(SimChainRow {
                    strike: row.strike,
                    call: self.chain_side(book, state.atm_vol, row.strike, row.call, true)?,
                    put: self.chain_side(book, state.atm_vol, row.strike, row.put, false)?,
                })
            })
            .collect();
        Some(SimChain {
            spot: state.spot,
            strikes,
        })
    }

    fn chain_side(
        &self,
        book: &Book,
        atm_vol: f64,
        strike: f64,
        position: usize,
        is_call: bool,
    ) -> Option<SimChainSide> {
        let key = self.universe.instruments.get(position)?.key;
        let mut quote = *self.quotes.get(position)?;
        let vol = smile_vol(atm_vol, strike, book.market.forward(), book.market.years());
        let (_, greeks) = book.market.price_and_greeks(strike, vol, is_call);
        quote.iv = vol;
        let greeks = SimGreeks {
            delta: greeks.delta,
            gamma: greeks.gamma,
            theta: greeks.theta,
            vega: greeks.vega,
        };
        Some((key, quote, greeks))
    }
}
