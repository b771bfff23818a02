//! The golden inputs every plugin is self-tested on before it may serve.
//!
//! The chain is `optionhub_pricing::sample::sample_chain` with 42 contracts (21 strikes
//! around the forward, a skewed smile, Black-76 quotes, OI skewed out of the money and
//! moved against the previous session), its Greeks are those of the smile that priced it,
//! and the strategy is an iron condor on it with a small what-if grid. Everything is
//! deterministic, so a self-test that fails, fails the same way every time. The self-test
//! checks the *shape* of an answer (lengths, finite numbers), not its values: a quant's
//! model may legitimately disagree with ours.

use optionhub_pricing::black76;
use optionhub_pricing::chain as plain;
use optionhub_pricing::sample::{self, SAMPLE_RATE, SAMPLE_SPOT};

use super::bindings::{oi, strategy, types};

/// Contracts in the golden chain.
pub const CONTRACTS: usize = 42;

fn plain_chain() -> plain::ChainSnapshot {
    sample::sample_chain(CONTRACTS)
}

/// The golden chain.
pub fn chain() -> types::ChainSnapshot {
    plain_chain().into()
}

/// The golden chain with the Greeks of the smile it was priced from.
pub fn priced_chain() -> types::PricedChain {
    let chain = plain_chain();
    let (forward, years) = (sample::sample_forward(), sample::sample_years());
    let mut greeks = plain::GreeksColumns::with_capacity(chain.contracts.len());
    for (strike, is_call) in chain.contracts.strike.iter().zip(&chain.contracts.is_call) {
        let inputs = black76::Inputs {
            forward,
            strike: *strike,
            years,
            vol: sample::sample_vol(*strike),
            rate: SAMPLE_RATE,
            is_call: *is_call,
        };
        let g = black76::greeks(&inputs);
        greeks.price.push(black76::price(&inputs));
        greeks.iv.push(inputs.vol);
        greeks.delta.push(g.delta);
        greeks.gamma.push(g.gamma);
        greeks.theta.push(g.theta);
        greeks.vega.push(g.vega);
        greeks.rho.push(g.rho);
        greeks.status.push(plain::IvStatus::Solved);
    }
    let greeks = plain::GreeksResult {
        model: "black76".into(),
        forward,
        forward_source: plain::ForwardSource::PutCallParity,
        time_to_expiry: years,
        greeks,
    };
    plain::PricedChain { chain, greeks }.into()
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

/// An iron condor on the golden chain (short puts and calls 4 strikes from the centre,
/// wings 8 strikes out), with a small what-if grid.
pub fn strategy_request() -> strategy::ValuationRequest {
    let chain = plain_chain();
    let c = &chain.contracts;
    let strikes = optionhub_pricing::forward::distinct_strikes(&c.strike);
    let centre = strikes.len() / 2;
    let (forward, years) = (sample::sample_forward(), sample::sample_years());
    // (strike index, is_call, is_buy)
    let legs = [
        (centre - 4, false, false),
        (centre - 8, false, true),
        (centre + 4, true, false),
        (centre + 8, true, true),
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
    for (index, is_call, is_buy) in legs {
        let strike = strikes[index];
        let Some(row) = (0..c.len()).find(|&i| c.strike[i] == strike && c.is_call[i] == is_call)
        else {
            continue;
        };
        l.security_id.push(c.security_id[row]);
        l.kind.push(if is_call {
            strategy::LegKind::Call
        } else {
            strategy::LegKind::Put
        });
        l.strike.push(strike);
        l.is_buy.push(is_buy);
        l.lots.push(1);
        l.lot_size.push(chain.lot_size);
        l.entry_price.push(c.last_price[row]);
        l.market_price.push(0.5 * (c.bid[row] + c.ask[row]));
        l.forward.push(forward);
        l.iv.push(sample::sample_vol(strike));
        l.time_to_expiry.push(years);
    }
    strategy::ValuationRequest {
        legs: l,
        spot: SAMPLE_SPOT,
        rate: SAMPLE_RATE,
        range_pct: 5.0,
        points: 101,
        target_years: years / 2.0,
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
    fn golden_inputs_line_up() {
        let priced = priced_chain();
        assert_eq!(priced.chain.contracts.strike.len(), CONTRACTS);
        assert_eq!(priced.greeks.greeks.delta.len(), CONTRACTS);
        assert!(
            priced
                .greeks
                .greeks
                .delta
                .iter()
                .all(|d| d.is_finite() && d.abs() <= 1.0)
        );
        let request = strategy_request();
        assert_eq!(
            request.legs.security_id.len(),
            4,
            "all four condor legs found in the chain"
        );
        let strikes = &request.legs.strike;
        assert!(strikes[1] < strikes[0] && strikes[0] < strikes[2] && strikes[2] < strikes[3]);
    }

    #[test]
    fn golden_chain_moves_oi_both_ways() {
        // The OI self-test should see gainers and losers.
        let c = chain().contracts;
        assert!(
            c.oi.iter()
                .zip(&c.previous_oi)
                .any(|(now, before)| now > before)
        );
        assert!(
            c.oi.iter()
                .zip(&c.previous_oi)
                .any(|(now, before)| now < before)
        );
    }
}
