//! The simulator's volatility smile and carry: which implied volatility and forward
//! each option is priced at. Index smiles are skewed (puts richer than calls, since
//! the market pays for crash protection) and curved (both wings above the money);
//! a quadratic in standardised log-moneyness gives both with two numbers.

/// Continuously compounded risk-free rate the simulator prices at.
pub const RISK_FREE_RATE: f64 = 0.065;
/// Continuous dividend yield of the indices, inside the forward.
pub const DIVIDEND_YIELD: f64 = 0.012;
/// Smile slope per standard deviation of moneyness; negative puts the rich side on
/// low strikes.
pub const SKEW: f64 = -0.075;
/// Smile curvature per squared standard deviation.
pub const CURVATURE: f64 = 0.0375;
/// Standardised moneyness is clamped here so far wings do not run away.
pub const MONEYNESS_LIMIT: f64 = 4.0;

/// The forward of an expiry `years` away: S·e^{(r−q)T}.
pub fn forward(spot: f64, years: f64) -> f64 {
    spot * ((RISK_FREE_RATE - DIVIDEND_YIELD) * years).exp()
}

/// Implied volatility at `strike`: σ_atm·(1 + skew·x + curvature·x²) with x = ln(K/F) /
/// (σ_atm·√T), clamped to ±[`MONEYNESS_LIMIT`]. At T = 0 the smile is flat (the price
/// is intrinsic then anyway).
pub fn smile_vol(atm_vol: f64, strike: f64, forward: f64, years: f64) -> f64 {
    let x = standardised_moneyness(atm_vol, strike, forward, years);
    atm_vol * (1.0 + SKEW * x + CURVATURE * x * x)
}

/// ln(K/F) in standard deviations of the forward's terminal distribution, clamped to
/// ±[`MONEYNESS_LIMIT`]; 0 when the distribution has no width or the inputs make no
/// sense.
pub fn standardised_moneyness(atm_vol: f64, strike: f64, forward: f64, years: f64) -> f64 {
    let width = atm_vol * years.max(0.0).sqrt();
    let x = (strike / forward).ln() / width;
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-MONEYNESS_LIMIT, MONEYNESS_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::{CURVATURE, MONEYNESS_LIMIT, SKEW, forward, smile_vol, standardised_moneyness};

    #[test]
    fn smile_is_skewed_to_puts_and_positive_everywhere() {
        let (atm, f, t) = (0.12, 26_000.0, 30.0 / 365.0);
        let at_the_money = smile_vol(atm, f, f, t);
        assert!((at_the_money - atm).abs() < 1e-12);
        let low = smile_vol(atm, 24_000.0, f, t);
        let high = smile_vol(atm, 28_000.0, f, t);
        assert!(
            low > at_the_money && low > high,
            "{low} {at_the_money} {high}"
        );
        // The quadratic's minimum is positive, so no strike has a non-positive vol.
        let minimum = 1.0 - SKEW * SKEW / (4.0 * CURVATURE);
        assert!(minimum > 0.5);
        for strike in (100..=1_000).map(|k| f64::from(k) * 50.0) {
            assert!(smile_vol(atm, strike, f, t) >= atm * minimum - 1e-12);
        }
    }

    #[test]
    fn moneyness_is_clamped_and_degenerate_inputs_are_flat() {
        assert_eq!(
            standardised_moneyness(0.12, 10_000.0, 26_000.0, 1.0 / 365.0),
            -MONEYNESS_LIMIT
        );
        assert_eq!(standardised_moneyness(0.12, 26_000.0, 26_000.0, 0.0), 0.0);
        assert_eq!(
            standardised_moneyness(0.12, 27_000.0, 26_000.0, 0.0),
            MONEYNESS_LIMIT
        );
        let one_sd = 26_000.0 * (0.12_f64 * 0.5).exp();
        assert!((standardised_moneyness(0.12, one_sd, 26_000.0, 0.25) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn forward_carries_rate_less_dividend() {
        let f = forward(26_000.0, 0.5);
        assert!((f / 26_000.0 - (0.0265_f64).exp()).abs() < 1e-12);
        assert_eq!(forward(26_000.0, 0.0), 26_000.0);
    }
}
