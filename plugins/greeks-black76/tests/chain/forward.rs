//! Where the forward comes from: given, put-call parity, or spot.

use greeks_black76::compute;
use optionhub_pricing::chain::{ForwardSource, PluginError};

use crate::common::{CLOSE_MS, DAY_MS, Quote, chain, model_price};

const R: f64 = 0.065;
const TRUE_FORWARD: f64 = 25_103.7;

/// Calls and puts at three strikes, priced on [`TRUE_FORWARD`] with `years` to go.
fn parity_quotes(years: f64) -> Vec<Quote> {
    let mut quotes = Vec::new();
    for strike in [25_000.0, 25_100.0, 25_200.0] {
        for is_call in [true, false] {
            quotes.push(Quote::at(
                strike,
                is_call,
                model_price(TRUE_FORWARD, strike, years, 0.13, R, is_call),
            ));
        }
    }
    quotes
}

#[test]
fn a_usable_given_forward_is_used() -> Result<(), PluginError> {
    let result = compute(&chain(
        Some(25_150.0),
        25_000.0,
        R,
        CLOSE_MS - 7 * DAY_MS,
        &parity_quotes(7.0 / 365.0),
    ))?;
    assert_eq!(
        (result.forward, result.forward_source),
        (25_150.0, ForwardSource::Given)
    );
    Ok(())
}

#[test]
fn parity_replaces_a_missing_or_unusable_forward() -> Result<(), PluginError> {
    let quotes = parity_quotes(7.0 / 365.0);
    for given in [
        None,
        Some(f64::NAN),
        Some(0.0),
        Some(-25_000.0),
        Some(f64::INFINITY),
        Some(1e300),
    ] {
        let result = compute(&chain(given, 25_000.0, R, CLOSE_MS - 7 * DAY_MS, &quotes))?;
        assert_eq!(
            result.forward_source,
            ForwardSource::PutCallParity,
            "{given:?}"
        );
        assert!(
            (result.forward - TRUE_FORWARD).abs() < 1e-6,
            "{given:?}: {}",
            result.forward
        );
    }
    Ok(())
}

#[test]
fn spot_is_the_last_resort() -> Result<(), PluginError> {
    // Calls only: no strike has both sides priced.
    let quotes: Vec<Quote> = parity_quotes(7.0 / 365.0)
        .into_iter()
        .filter(|q| q.is_call)
        .collect();
    let result = compute(&chain(None, 25_042.5, R, CLOSE_MS - 7 * DAY_MS, &quotes))?;
    assert_eq!(
        (result.forward, result.forward_source),
        (25_042.5, ForwardSource::Spot)
    );
    // And with nothing usable at all, the chain is refused.
    let refused = compute(&chain(None, 0.0, R, CLOSE_MS - 7 * DAY_MS, &quotes));
    assert!(
        matches!(refused, Err(PluginError::InvalidInput(_))),
        "{refused:?}"
    );
    Ok(())
}

#[test]
fn expired_chains_use_undiscounted_parity() -> Result<(), PluginError> {
    // At expiry C − P = F − K exactly: 40 − 15 at 25 000 gives 25 025.
    let quotes = [
        Quote::at(25_000.0, true, 40.0),
        Quote::at(25_000.0, false, 15.0),
    ];
    let result = compute(&chain(None, 25_000.0, R, CLOSE_MS, &quotes))?;
    assert_eq!(
        (result.forward, result.forward_source),
        (25_025.0, ForwardSource::PutCallParity)
    );
    assert_eq!(result.greeks.price, [25.0, 0.0]);
    Ok(())
}
