//! Expiry day: before 15:30 IST the option is live (with the 60 s floor on T), from
//! 15:30 IST on it is expired.

use greeks_black76::compute;
use optionhub_pricing::chain::{IvStatus, PluginError};

use crate::common::{CLOSE_MS, Quote, SECONDS_PER_YEAR, assert_all_finite, chain, model_price};

const F: f64 = 25_000.0;
const R: f64 = 0.065;

#[test]
fn half_an_hour_before_the_close() -> Result<(), PluginError> {
    let years = 1_800.0 / SECONDS_PER_YEAR;
    let quotes = [
        Quote::at(
            25_000.0,
            true,
            model_price(F, 25_000.0, years, 0.10, R, true),
        ),
        Quote::at(
            25_050.0,
            false,
            model_price(F, 25_050.0, years, 0.11, R, false),
        ),
    ];
    let result = compute(&chain(Some(F), F, R, CLOSE_MS - 1_800_000, &quotes))?;
    assert_all_finite(&result, 2);
    assert_eq!(result.time_to_expiry, years);
    assert_eq!(result.greeks.status, [IvStatus::Solved, IvStatus::Solved]);
    for (row, vol) in [(0, 0.10), (1, 0.11)] {
        assert!(
            (result.greeks.iv[row] - vol).abs() < 1e-9 * vol,
            "row {row}: {}",
            result.greeks.iv[row]
        );
    }
    Ok(())
}

#[test]
fn the_last_minute_is_clamped_to_sixty_seconds() -> Result<(), PluginError> {
    let quotes = [Quote::at(25_000.0, true, 2.0)];
    let result = compute(&chain(Some(F), F, R, CLOSE_MS - 20_000, &quotes))?;
    assert_all_finite(&result, 1);
    assert_eq!(result.time_to_expiry, 60.0 / SECONDS_PER_YEAR);
    assert_eq!(result.greeks.status, [IvStatus::Solved]);
    Ok(())
}

#[test]
fn at_and_after_the_close() -> Result<(), PluginError> {
    for as_of in [CLOSE_MS, CLOSE_MS + 1, CLOSE_MS + 3_600_000] {
        let result = compute(&chain(
            Some(F),
            F,
            R,
            as_of,
            &[Quote::at(24_900.0, true, 101.0)],
        ))?;
        assert_eq!(result.greeks.status, [IvStatus::Expired], "as of {as_of}");
        assert_eq!(result.greeks.price, [100.0]);
        assert_eq!(result.time_to_expiry, 0.0);
    }
    Ok(())
}
