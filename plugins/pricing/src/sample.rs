//! A deterministic, NIFTY-like sample chain: the host's golden self-test input, the
//! greeks plugin's test and benchmark workload, and a realistic chain for anyone's tests.
//!
//! Everything is a pure function of the contract count: no clock, no randomness. Quotes
//! are exact Black-76 prices on a known forward with a known smile ([`sample_forward`],
//! [`sample_vol`]), so the plugin's answers can be checked against the inputs that made
//! them; bid/ask, last price, OI and volumes only need to look plausible.

use crate::black76::{Inputs, price};
use crate::chain::{ChainSnapshot, ContractColumns, Date};
use crate::expiry::SECONDS_PER_YEAR;

/// Index level of the sample chain.
pub const SAMPLE_SPOT: f64 = 25_012.4;
/// Rate of the sample chain (continuously compounded).
pub const SAMPLE_RATE: f64 = 0.065;
/// Dividend yield that, with [`SAMPLE_RATE`], sets the sample forward.
pub const SAMPLE_DIVIDEND_YIELD: f64 = 0.012;
/// A Tuesday (monthly) expiry.
pub const SAMPLE_EXPIRY: Date = Date {
    year: 2025,
    month: 9,
    day: 30,
};
/// Three Tuesdays before, 10:00 IST: 21 days 5½ hours before the 15:30 IST expiry. A
/// monthly rather than a weekly horizon keeps every one of 300 contracts (strikes ±15 %
/// around the forward) well conditioned: even the deepest in-the-money quote pins its
/// volatility down to ~1e-11, so the sample's IVs make a sharp golden reference.
pub const SAMPLE_AS_OF_MS: i64 = 1_757_392_200_000;
/// NIFTY's strike step and lot size.
const STRIKE_STEP: f64 = 50.0;
const LOT_SIZE: u32 = 75;

/// [`SAMPLE_AS_OF_MS`] to the expiry of [`SAMPLE_EXPIRY`], in seconds.
const SECONDS_TO_EXPIRY: f64 = 21.0 * 86_400.0 + 5.5 * 3_600.0;

/// Time to expiry of the sample chain, in years (what `expiry::time_to_expiry` gives
/// for [`SAMPLE_EXPIRY`] at [`SAMPLE_AS_OF_MS`]).
#[must_use]
pub fn sample_years() -> f64 {
    SECONDS_TO_EXPIRY / SECONDS_PER_YEAR
}

/// The forward the sample quotes were priced on: S·e^{(r−q)T}.
#[must_use]
pub fn sample_forward() -> f64 {
    SAMPLE_SPOT * ((SAMPLE_RATE - SAMPLE_DIVIDEND_YIELD) * sample_years()).exp()
}

/// The sample smile: a skewed parabola in log-moneyness m = ln(K/F), 11.5 % at the
/// money, richer on the put wing, clamped to 5 %–150 %.
#[must_use]
pub fn sample_vol(strike: f64) -> f64 {
    let m = (strike / sample_forward()).ln();
    (0.115 - 0.25 * m + 4.0 * m * m).clamp(0.05, 1.5)
}

/// A NIFTY-like chain of `contracts` rows: 50-point strikes centred on the forward (a
/// call and a put per strike, calls first; an odd count adds one call at the top),
/// quoted at exact Black-76 prices on [`sample_forward`] and [`sample_vol`] as the
/// bid/ask mid, with plausible last price, OI, volumes and previous-session values.
/// `forward` is `None`, so the plugin takes the put-call-parity path.
#[must_use]
pub fn sample_chain(contracts: usize) -> ChainSnapshot {
    let forward = sample_forward();
    let years = sample_years();
    let strikes = contracts.div_ceil(2);
    let centre = (forward / STRIKE_STEP).round() * STRIKE_STEP;
    // Strikes stay positive however long the chain: the grid grows upwards instead.
    let lowest = (centre - STRIKE_STEP * (strikes / 2) as f64).max(STRIKE_STEP);

    let mut c = ContractColumns {
        security_id: Vec::with_capacity(contracts),
        strike: Vec::with_capacity(contracts),
        is_call: Vec::with_capacity(contracts),
        last_price: Vec::with_capacity(contracts),
        bid: Vec::with_capacity(contracts),
        ask: Vec::with_capacity(contracts),
        volume: Vec::with_capacity(contracts),
        oi: Vec::with_capacity(contracts),
        previous_oi: Vec::with_capacity(contracts),
        previous_close: Vec::with_capacity(contracts),
        previous_volume: Vec::with_capacity(contracts),
    };
    for row in 0..contracts {
        let strike = lowest + STRIKE_STEP * (row / 2) as f64;
        let is_call = row % 2 == 0;
        let mid = price(&Inputs {
            forward,
            strike,
            years,
            vol: sample_vol(strike),
            rate: SAMPLE_RATE,
            is_call,
        });
        // Half-spread: a quarter percent, at least half a 0.05 tick, never more than
        // half the price, so the bid stays positive and (bid + ask)/2 is the model price
        // up to rounding.
        let half_spread = (0.0025 * mid).max(0.025).min(0.5 * mid);
        let (wiggle_ltp, wiggle_prev, wiggle_oi) = (
            pattern(row, 37, 11),
            pattern(row, 53, 17),
            pattern(row, 29, 21),
        );
        let oi = open_interest(strike, forward, is_call);

        c.security_id.push(35_000 + row as u64);
        c.strike.push(strike);
        c.is_call.push(is_call);
        c.bid.push(mid - half_spread);
        c.ask.push(mid + half_spread);
        c.last_price.push(mid * (1.0 + 0.005 * wiggle_ltp));
        c.previous_close.push(mid * (1.0 + 0.08 * wiggle_prev));
        c.oi.push(oi);
        c.previous_oi
            .push(round_to_lots(oi as f64 * (1.0 + 0.2 * wiggle_oi)));
        c.volume
            .push(round_to_lots(oi as f64 * (0.8 + 0.4 * wiggle_prev.abs())));
        c.previous_volume
            .push(round_to_lots(oi as f64 * (0.7 + 0.3 * wiggle_ltp.abs())));
    }
    ChainSnapshot {
        underlying: "NIFTY".into(),
        spot: SAMPLE_SPOT,
        forward: None,
        expiry: SAMPLE_EXPIRY,
        as_of_ms: SAMPLE_AS_OF_MS,
        lot_size: LOT_SIZE,
        rate: SAMPLE_RATE,
        contracts: c,
    }
}

/// A deterministic value in [−1, 1] that jumps around with the row, standing in for
/// market noise.
fn pattern(row: usize, multiplier: usize, modulus: usize) -> f64 {
    let half = (modulus / 2) as f64;
    ((row * multiplier) % modulus) as f64 / half - 1.0
}

/// OI peaks near the money, more calls above the forward and more puts below, with
/// extra interest at round 500-point strikes.
fn open_interest(strike: f64, forward: f64, is_call: bool) -> u64 {
    let distance = (strike - forward) / 1_000.0;
    let otm = if is_call {
        distance > 0.0
    } else {
        distance < 0.0
    };
    let base = 4_000_000.0 * (-distance * distance).exp() * if otm { 1.6 } else { 0.6 };
    let round = if strike % 500.0 == 0.0 { 1.5 } else { 1.0 };
    round_to_lots(base * round + 7_500.0)
}

fn round_to_lots(units: f64) -> u64 {
    let lots = (units / f64::from(LOT_SIZE)).round().max(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rounded, non-negative and far below u64::MAX"
    )]
    let lots = lots as u64;
    lots * u64::from(LOT_SIZE)
}

#[cfg(test)]
mod tests {
    //! The sample's clock agrees with the pricing crate's time to expiry.

    use super::{SAMPLE_AS_OF_MS, SAMPLE_EXPIRY, sample_years};
    use crate::expiry::{TimeToExpiry, expiry_instant_ms, time_to_expiry};

    #[test]
    fn sample_clock_matches_its_documented_horizon() {
        let remaining = expiry_instant_ms(SAMPLE_EXPIRY).map(|e| e - SAMPLE_AS_OF_MS);
        assert_eq!(remaining, Some(21 * 86_400_000 + 5 * 3_600_000 + 1_800_000));
        let live = Some(TimeToExpiry::Live {
            years: sample_years(),
        });
        assert_eq!(time_to_expiry(SAMPLE_EXPIRY, SAMPLE_AS_OF_MS), live);
    }
}
