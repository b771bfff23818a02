//! The golden inputs every plugin is self-tested on before it may serve.
//!
//! A NIFTY-like chain (21 strikes around 25,000, both sides, a volatility smile, Black-76
//! prices with a spread, skewed OI in contracts, volume) with its Greeks, an iron condor on it, and a
//! what-if grid. The inputs are deterministic, so a self-test that fails, fails the same
//! way every time. The self-test checks the *shape* of the answer (lengths, finite
//! numbers), not its values: a quant's model may legitimately disagree with ours.

use optionhub_pricing::black76;

use super::bindings::{oi, strategy, types};

/// As of 2026-11-20 10:00 IST (04:30 UTC); expiry Tuesday 2026-11-24.
const AS_OF_MS: i64 = 1_795_149_000_000;
const EXPIRY: types::Date = types::Date {
    year: 2026,
    month: 11,
    day: 24,
};
/// Calendar time from `AS_OF_MS` to 15:30 IST on `EXPIRY`, in years.
const YEARS: f64 = (4.0 * 86_400.0 + 5.5 * 3_600.0) / (365.0 * 86_400.0);
const FORWARD: f64 = 25_040.0;
const SPOT: f64 = 25_000.0;
const RATE: f64 = 0.065;
const LOT_SIZE: u32 = 65;

fn smile(strike: f64) -> f64 {
    let moneyness = (strike / FORWARD).ln();
    0.12 + 2.0 * moneyness * moneyness - 0.1 * moneyness
}

fn inputs(strike: f64, is_call: bool) -> black76::Inputs {
    black76::Inputs {
        forward: FORWARD,
        strike,
        years: YEARS,
        vol: smile(strike),
        rate: RATE,
        is_call,
    }
}

/// Rounds to the exchange tick of 0.05.
fn tick(price: f64) -> f64 {
    (price * 20.0).round() / 20.0
}

/// The golden chain: 21 strikes from 24,500 to 25,500, call and put at each.
pub fn chain() -> types::ChainSnapshot {
    let mut c = types::ContractColumns {
        security_id: vec![],
        strike: vec![],
        is_call: vec![],
        last_price: vec![],
        bid: vec![],
        ask: vec![],
        volume: vec![],
        oi: vec![],
        previous_oi: vec![],
        previous_close: vec![],
        previous_volume: vec![],
    };
    for step in 0..21u32 {
        let strike = 24_500.0 + 50.0 * f64::from(step);
        for is_call in [true, false] {
            let row = u64::from(step) * 2 + u64::from(!is_call);
            let fair = black76::price(&inputs(strike, is_call));
            let half_spread = (fair * 0.005).max(0.05);
            // OI in contracts, heavier out of the money (put writers below the forward,
            // call writers above), so OI analytics and gamma exposure see a real skew.
            let distance = ((strike - FORWARD) / 50.0).abs();
            let out_of_the_money = (strike > FORWARD) == is_call;
            let weight = if out_of_the_money { 1.5 } else { 0.6 };
            let oi = (40_000.0 * weight / (1.0 + distance)).round() as u64;
            c.security_id.push(40_000 + row);
            c.strike.push(strike);
            c.is_call.push(is_call);
            c.last_price.push(tick(fair).max(0.05));
            c.bid.push(tick(fair - half_spread).max(0.05));
            c.ask.push(tick(fair + half_spread).max(0.10));
            c.volume.push(oi / 3);
            c.oi.push(oi);
            // Alternate OI and price changes so every buildup class appears.
            c.previous_oi.push(if row % 2 == 0 {
                oi * 9 / 10
            } else {
                oi * 11 / 10
            });
            c.previous_close.push(
                tick(if row % 4 < 2 {
                    fair * 0.97
                } else {
                    fair * 1.03
                })
                .max(0.05),
            );
            c.previous_volume.push(oi / 4);
        }
    }
    types::ChainSnapshot {
        underlying: "NIFTY".into(),
        spot: SPOT,
        forward: None,
        expiry: EXPIRY,
        as_of_ms: AS_OF_MS,
        lot_size: LOT_SIZE,
        rate: RATE,
        contracts: c,
    }
}

/// The golden chain with the Greeks of the smile it was priced from.
pub fn priced_chain() -> types::PricedChain {
    let chain = chain();
    let n = chain.contracts.strike.len();
    let mut g = types::GreeksColumns {
        price: Vec::with_capacity(n),
        iv: Vec::with_capacity(n),
        delta: Vec::with_capacity(n),
        gamma: Vec::with_capacity(n),
        theta: Vec::with_capacity(n),
        vega: Vec::with_capacity(n),
        rho: Vec::with_capacity(n),
        status: Vec::with_capacity(n),
    };
    for (strike, is_call) in chain.contracts.strike.iter().zip(&chain.contracts.is_call) {
        let i = inputs(*strike, *is_call);
        let greeks = black76::greeks(&i);
        g.price.push(black76::price(&i));
        g.iv.push(i.vol);
        g.delta.push(greeks.delta);
        g.gamma.push(greeks.gamma);
        g.theta.push(greeks.theta);
        g.vega.push(greeks.vega);
        g.rho.push(greeks.rho);
        g.status.push(types::IvStatus::Solved);
    }
    let greeks = types::GreeksResult {
        model: "black76".into(),
        forward: FORWARD,
        forward_source: types::ForwardSource::PutCallParity,
        time_to_expiry: YEARS,
        greeks: g,
    };
    types::PricedChain { chain, greeks }
}

/// OI options for the self-test.
pub fn oi_options() -> oi::OiOptions {
    oi::OiOptions {
        top_n: 5,
        sr_window: 10,
        oi_dead_band: 0.01,
        price_dead_band: 0.05,
    }
}

/// An iron condor on the golden chain, with a small what-if grid.
pub fn strategy_request() -> strategy::ValuationRequest {
    let chain = chain();
    let c = &chain.contracts;
    // (strike, is_call, is_buy)
    let legs = [
        (24_800.0, false, false),
        (24_600.0, false, true),
        (25_300.0, true, false),
        (25_500.0, true, true),
    ];
    let mut l = strategy::LegColumns {
        security_id: vec![],
        kind: vec![],
        strike: vec![],
        is_buy: vec![],
        lots: vec![],
        lot_size: vec![],
        entry_price: vec![],
        market_price: vec![],
        forward: vec![],
        iv: vec![],
        time_to_expiry: vec![],
    };
    for (strike, is_call, is_buy) in legs {
        let row = (0..c.strike.len())
            .find(|&i| c.strike[i] == strike && c.is_call[i] == is_call)
            .unwrap_or(0);
        l.security_id.push(c.security_id[row]);
        l.kind.push(if is_call {
            strategy::LegKind::Call
        } else {
            strategy::LegKind::Put
        });
        l.strike.push(strike);
        l.is_buy.push(is_buy);
        l.lots.push(1);
        l.lot_size.push(LOT_SIZE);
        l.entry_price.push(c.last_price[row]);
        l.market_price.push(0.5 * (c.bid[row] + c.ask[row]));
        l.forward.push(FORWARD);
        l.iv.push(smile(strike));
        l.time_to_expiry.push(YEARS);
    }
    strategy::ValuationRequest {
        legs: l,
        spot: SPOT,
        rate: RATE,
        range_pct: 5.0,
        points: 101,
        target_years: YEARS / 2.0,
        pop_volatility: None,
        scenarios: strategy::ScenarioColumns {
            spot_shift_pct: vec![-2.0, 0.0, 2.0],
            iv_shift_points: vec![2.0, 0.0, -2.0],
            days_forward: vec![0.0, 1.0, 2.0],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_chain_is_consistent() {
        let chain = chain();
        let c = &chain.contracts;
        assert_eq!(c.strike.len(), 42);
        for column in [
            c.last_price.len(),
            c.bid.len(),
            c.ask.len(),
            c.oi.len(),
            c.previous_close.len(),
        ] {
            assert_eq!(column, 42);
        }
        assert!(c.bid.iter().zip(&c.ask).all(|(b, a)| b > &0.0 && a >= b));
        // Put-call parity holds at the forward's strike to within the spread.
        let (call, put) = (c.last_price[22], c.last_price[23]);
        assert_eq!(c.strike[22], 25_050.0);
        let parity = (call - put) * (RATE * YEARS).exp() + 25_050.0;
        assert!((parity - FORWARD).abs() < 1.0, "parity forward {parity}");
    }

    #[test]
    fn time_constant_matches_the_dates() {
        // 2026-11-24 10:00 UTC (15:30 IST) is 1795514400 s after the epoch.
        let expiry_ms = 1_795_514_400_000_i64;
        let years = (expiry_ms - AS_OF_MS) as f64 / 1e3 / (365.0 * 86_400.0);
        assert!((years - YEARS).abs() < 1e-12);
    }
}
