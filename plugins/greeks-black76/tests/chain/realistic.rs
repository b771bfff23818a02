//! Whole chains: a 300-contract NIFTY-like chain quoted at Black-76 prices on a smile
//! must give back the smile and the forward, and the public sample chain must be what
//! its docs say.

use greeks_black76::{compute, sample_chain, sample_forward, sample_vol, sample_years};
use optionhub_pricing::black76::{self, Inputs};
use optionhub_pricing::chain::{ChainSnapshot, ForwardSource, GreeksResult, IvStatus, PluginError};

use crate::common::{CLOSE_MS, Quote, SECONDS_PER_YEAR, assert_all_finite, chain, informative};

const R: f64 = 0.068;
const TRUE_FORWARD: f64 = 25_137.6;
/// 4 days and 3 hours before the close.
const AS_OF_MS: i64 = CLOSE_MS - (4 * 24 + 3) * 3_600_000;

/// This file's own smile (independent of the sample chain's): steeper put wing.
fn smile(strike: f64) -> f64 {
    let m = (strike / TRUE_FORWARD).ln();
    0.13 - 0.5 * m + 4.0 * m * m
}

/// 150 strikes × call and put, puts listed first from the top strike down, then calls
/// from the bottom up, with a 0.1 % half-spread around the model price.
fn smile_chain(years: f64) -> ChainSnapshot {
    let strikes: Vec<f64> = (0..150).map(|i| 21_400.0 + 50.0 * f64::from(i)).collect();
    let mut quotes = Vec::new();
    for (is_call, order) in [
        (false, strikes.iter().rev().collect::<Vec<_>>()),
        (true, strikes.iter().collect()),
    ] {
        for &strike in order {
            let mid = black76::price(&Inputs {
                forward: TRUE_FORWARD,
                strike,
                years,
                vol: smile(strike),
                rate: R,
                is_call,
            });
            let half = 0.001 * mid;
            quotes.push(Quote {
                strike,
                is_call,
                bid: mid - half,
                ask: mid + half,
                last: mid * 1.01,
            });
        }
    }
    chain(None, 25_050.0, R, AS_OF_MS, &quotes)
}

/// Checks every row of `result` against the smile that priced `chain`.
#[track_caller]
fn assert_smile_recovered(
    chain: &ChainSnapshot,
    result: &GreeksResult,
    forward: f64,
    years: f64,
    vol: impl Fn(f64) -> f64,
) {
    let c = &chain.contracts;
    let g = &result.greeks;
    for row in 0..c.len() {
        let i = Inputs {
            forward,
            strike: c.strike[row],
            years,
            vol: vol(c.strike[row]),
            rate: chain.rate,
            is_call: c.is_call[row],
        };
        let quote = c.reference_price(row).unwrap_or(0.0);
        if informative(&i) {
            assert_eq!(g.status[row], IvStatus::Solved, "row {row} {i:?}");
            let rel = (g.iv[row] - i.vol).abs() / i.vol;
            assert!(
                rel <= 1e-9,
                "row {row} K {}: iv {} vs smile {} (rel {rel:e})",
                i.strike,
                g.iv[row],
                i.vol
            );
            assert!(
                (g.price[row] - quote).abs() <= 1e-9 * quote.max(1.0),
                "row {row}: price {} vs quote {quote}",
                g.price[row]
            );
        } else {
            // Deep in the money with the time value lost in rounding: either solved to a
            // volatility that reprices the quote, or reported at intrinsic.
            match g.status[row] {
                IvStatus::Solved => assert!(
                    (g.price[row] - quote).abs() <= 64.0 * f64::EPSILON * quote,
                    "row {row}"
                ),
                IvStatus::BelowIntrinsic => {
                    let intrinsic = (-chain.rate * years).exp()
                        * black76::intrinsic(i.is_call, forward, i.strike);
                    assert!(
                        quote - intrinsic <= 64.0 * f64::EPSILON * quote,
                        "row {row}: quote {quote}, D·intrinsic {intrinsic}"
                    );
                }
                other => panic!("row {row} {i:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_smile_chain_gives_back_its_smile_and_forward() -> Result<(), PluginError> {
    let years = (CLOSE_MS - AS_OF_MS) as f64 / 1000.0 / SECONDS_PER_YEAR;
    let chain = smile_chain(years);
    let result = compute(&chain)?;
    assert_all_finite(&result, 300);
    assert_eq!(result.forward_source, ForwardSource::PutCallParity);
    assert!(
        (result.forward - TRUE_FORWARD).abs() < 1e-6,
        "forward {}",
        result.forward
    );
    assert_eq!(result.time_to_expiry, years);
    assert_smile_recovered(&chain, &result, TRUE_FORWARD, years, smile);
    // The out-of-the-money side is always informative here: the smile is really tested.
    let solved = result
        .greeks
        .status
        .iter()
        .filter(|s| **s == IvStatus::Solved)
        .count();
    assert!(solved >= 150, "only {solved} rows solved");
    Ok(())
}

#[test]
fn the_sample_chain_is_deterministic_and_well_formed() {
    let chain = sample_chain(300);
    assert_eq!(chain, sample_chain(300));
    assert_eq!(chain.contracts.len(), 300);
    assert!(chain.contracts.check_lengths().is_ok());
    assert_eq!(chain.forward, None);
    let strikes = &chain.contracts.strike;
    assert!(strikes.iter().all(|k| k % 50.0 == 0.0 && *k > 0.0));
    let forward = sample_forward();
    assert!(
        strikes[0] < forward && forward < strikes[299] && (24_000.0..26_000.0).contains(&forward)
    );
    for row in 0..300 {
        assert!(
            chain.contracts.bid[row] > 0.0 && chain.contracts.ask[row] > chain.contracts.bid[row],
            "row {row}"
        );
        assert!(
            chain.contracts.oi[row] > 0 && chain.contracts.oi[row].is_multiple_of(75),
            "row {row}"
        );
    }
    // Odd counts add one call at the top; zero is empty.
    let odd = sample_chain(7);
    assert_eq!(
        odd.contracts.is_call,
        [true, false, true, false, true, false, true]
    );
    assert!(sample_chain(0).contracts.is_empty());
}

#[test]
fn the_sample_chain_gives_back_its_smile_and_forward() -> Result<(), PluginError> {
    let chain = sample_chain(300);
    let result = compute(&chain)?;
    assert_all_finite(&result, 300);
    assert_eq!(result.forward_source, ForwardSource::PutCallParity);
    assert!(
        (result.forward - sample_forward()).abs() < 1e-6,
        "forward {}",
        result.forward
    );
    assert_smile_recovered(
        &chain,
        &result,
        sample_forward(),
        sample_years(),
        sample_vol,
    );
    // The sample is built to be well conditioned everywhere (see its docs).
    assert!(result.greeks.status.iter().all(|s| *s == IvStatus::Solved));
    Ok(())
}

#[test]
fn long_sample_chains_keep_positive_strikes() -> Result<(), PluginError> {
    let chain = sample_chain(4_001);
    assert!(chain.contracts.strike.iter().all(|k| *k >= 50.0));
    let result = compute(&chain)?;
    assert_all_finite(&result, 4_001);
    Ok(())
}
