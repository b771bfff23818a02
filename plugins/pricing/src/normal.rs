//! The standard normal distribution: N(x) and n(x), the two special functions Black-76
//! needs, and N(x) from an n(x) already computed, which saves the exponentials.
//!
//! The CDF is the `implied-vol` crate's, which is Cody's rational erfc plus an asymptotic
//! series in the far left tail. Using the very function the implied-volatility solver
//! inverts keeps our prices and its inverse consistent to the last bits, and the left
//! tail keeps full *relative* accuracy (N(-30) ≈ 4.9e-198 is not rounded to 0), which
//! deep out-of-the-money prices depend on.

use std::f64::consts::FRAC_1_SQRT_2;

use implied_vol::{DefaultSpecialFn, SpecialFn};

/// 1/√(2π), correctly rounded.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// √(2π), correctly rounded.
const SQRT_2PI: f64 = 2.506_628_274_631_000_7;

/// Standard normal cumulative distribution N(x) = P(Z ≤ x).
///
/// Relative error about 1e-15 over the whole line (including the left tail), 0 and 1
/// at ∓∞, NaN for NaN.
#[must_use]
#[inline]
pub fn cdf(x: f64) -> f64 {
    DefaultSpecialFn::norm_cdf(x)
}

/// N(x) from the density n(x) = [`pdf`]`(x)` the caller already has: no exponential
/// needed for |x| ≤ 8.
///
/// Near the middle (|x| ≤ 0.6629) N is Cody's rational erf, which needs none; beyond,
/// N(−|x|) = ½·erfc(|x|/√2) = ½·√(2π)·n(x)·erfcx(|x|/√2), where the scaled erfcx is a
/// rational function too. [`cdf`] evaluates e^{−x²/2} twice per call (split for the far
/// tail, where x² would amplify rounding); with n(x) given, a Black price needs one
/// exponential instead of five. There the relative accuracy is that of `density`, 2e-14
/// or better; further out, where x² starts to cost digits, this is [`cdf`] itself.
#[must_use]
#[inline]
pub fn cdf_given_pdf(x: f64, density: f64) -> f64 {
    /// Cody's switch from the erf to the erfc form, in units of x (0.46875·√2).
    const MIDDLE: f64 = 0.662_912_607_362_388_5;
    /// Beyond this, n(x) computed directly has lost more than 2e-14 of relative accuracy.
    const FAR: f64 = 8.0;
    let y = x.abs();
    if y <= MIDDLE {
        return 0.5 * DefaultSpecialFn::erfc(-x * FRAC_1_SQRT_2);
    }
    if y > FAR {
        return far_cdf(x);
    }
    let tail = 0.5 * SQRT_2PI * density * DefaultSpecialFn::erfcx(y * FRAC_1_SQRT_2);
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// [`cdf`] kept out of line: a Black price almost never reaches |x| > 8, and inlining
/// the far-tail series into every caller measurably slowed the plugin's hot loop.
#[cold]
#[inline(never)]
fn far_cdf(x: f64) -> f64 {
    cdf(x)
}

/// Standard normal density n(x) = e^{−x²/2}/√(2π).
///
/// Exact to a few ulps while x²/2 is representable exactly enough (|x| ≲ 1e3); 0 at ±∞.
#[must_use]
#[inline]
pub fn pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

#[cfg(test)]
mod tests {
    //! N and n against 40-digit values, symmetry, limits and n = N′.

    use super::{cdf, pdf};

    /// Reference values of N(x) from the closed form 0.5·erfc(−x/√2), evaluated with
    /// mpmath at 40 digits, written as the nearest f64.
    const CDF_TABLE: [(f64, f64); 9] = [
        (-37.5, 4.605_353_009_581_955e-308),
        (-20.0, 2.753_624_118_606_233_7e-89),
        (-8.0, 6.220_960_574_271_784e-16),
        (-1.0, 0.158_655_253_931_457_05),
        (0.0, 0.5),
        (0.5, 0.691_462_461_274_013_1),
        (1.959_963_984_540_054, 0.975),
        (3.0, 0.998_650_101_968_369_9),
        (8.0, 0.999_999_999_999_999_3),
    ];

    #[test]
    fn cdf_matches_high_precision_values() {
        for (x, expected) in CDF_TABLE {
            let got = cdf(x);
            let rel = ((got - expected) / expected).abs();
            assert!(
                rel < 1e-14,
                "N({x}) = {got:e}, expected {expected:e} (rel {rel:e})"
            );
        }
    }

    #[test]
    fn cdf_symmetry_and_limits() {
        for x in [0.1, 0.7, 1.3, 2.9, 5.5] {
            assert!(
                (cdf(x) + cdf(-x) - 1.0).abs() < 2e-16,
                "N({x}) + N(-{x}) != 1"
            );
        }
        assert!(cdf(f64::NEG_INFINITY) == 0.0);
        assert!(cdf(f64::INFINITY) == 1.0);
    }

    #[test]
    fn cdf_given_pdf_agrees_with_cdf_to_2e_14() {
        use super::cdf_given_pdf;
        let mut x = -8.0;
        while x <= 8.0 {
            let (got, want) = (cdf_given_pdf(x, pdf(x)), cdf(x));
            let rel = ((got - want) / want).abs();
            assert!(rel < 2e-14, "N({x}): {got:e} vs {want:e} (rel {rel:e})");
            x += 0.0137;
        }
        for (x, expected) in CDF_TABLE {
            let got = cdf_given_pdf(x, pdf(x));
            assert!(
                ((got - expected) / expected).abs() < 2e-14,
                "N({x}) = {got:e}"
            );
        }
    }

    #[test]
    fn pdf_is_the_derivative_of_cdf() {
        for x in [-6.0, -2.5, -1.0, 0.0, 0.3, 1.7, 4.0] {
            let h = 1e-5;
            let fd = (cdf(x + h) - cdf(x - h)) / (2.0 * h);
            assert!(
                (fd - pdf(x)).abs() < 1e-10,
                "n({x}) = {} vs FD {fd}",
                pdf(x)
            );
        }
        assert!((pdf(0.0) - 0.398_942_280_401_432_7).abs() < 1e-17);
        assert!(pdf(f64::INFINITY) == 0.0 && pdf(f64::NEG_INFINITY) == 0.0);
    }
}
