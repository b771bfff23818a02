//! Implied volatility, price and Greeks of one contract in a single pass, starting from a
//! nearby volatility: the fast path of the chain solver.
//!
//! Across one expiry, implied volatility moves little from one strike to the next, so the
//! volatility just solved for a neighbouring contract is an excellent first guess. From
//! it, Halley's iteration on the out-of-the-money Black price converges in two or three
//! steps, each costing one exponential and two rational functions, and the converged step leaves
//! what the Greeks need. Solving from nothing with Let's Be Rational ([`crate::implied`])
//! and then pricing again costs about twice as much (figures in BENCHMARKS.md).
//!
//! It is a fast path, never the only path: [`solve`] falls back to Let's Be Rational
//! whenever the iteration cannot vouch for its answer: no guess, a guess too far off to
//! converge within [`MAX_STEPS`], or an iterate where the textbook price
//! F·N(d1) − K·N(d2) would lose precision to cancellation (|d1| or |d2| above
//! [`MAX_ABS_D`]). Both paths classify prices no volatility can produce identically,
//! because both start from the same bounds check.

use crate::black76::{self, Greeks, Market};
use crate::implied::{self, IvError};
use crate::normal;

/// Halley steps tried before falling back to Let's Be Rational. From a neighbouring
/// strike's volatility two or three suffice.
pub const MAX_STEPS: usize = 4;

/// Largest |d1|, |d2| the iteration works at. Out of the money the textbook price is a
/// difference of two nearly equal terms and keeps about ε·|d|/σ√T of relative precision;
/// within this bound (and σ√T above ~0.01) that is ~1e-13, below what a quoted price
/// carries. Beyond it the price is a fraction of a paisa and Let's Be Rational, which
/// evaluates the tails without cancellation, takes over.
pub const MAX_ABS_D: f64 = 8.0;

/// A step this small relative to σ√T ends the iteration: Halley's error cubes each step,
/// so the iterate after it is exact to rounding.
const CONVERGED_STEP: f64 = 1e-7;

/// One solved contract: its implied volatility (a decimal) and, at that volatility, its
/// discounted model price and display-unit Greeks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solved {
    pub vol: f64,
    pub price: f64,
    pub greeks: Greeks,
    /// Which path answered; lets tests and benchmarks see how often the fast one does.
    pub solver: Solver,
}

/// The two ways [`solve`] finds a volatility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// Halley's iteration from the guess.
    WarmStart,
    /// Let's Be Rational, from nothing.
    LetsBeRational,
}

/// Implied volatility of the contract whose discounted price is `price`, with its model
/// price and Greeks at that volatility; `guess` is a volatility near the answer (the
/// neighbouring strike's), or `None` to go straight to Let's Be Rational.
///
/// # Errors
/// As [`implied::implied_vol_in`], whose bounds checks and fallback this shares.
pub fn solve(
    market: &Market,
    price: f64,
    strike: f64,
    is_call: bool,
    guess: Option<f64>,
) -> Result<Solved, IvError> {
    let undiscounted = implied::check_solvable(market, price, strike, is_call)?;
    if let Some(solved) =
        guess.and_then(|vol| halley(market, price, undiscounted, strike, is_call, vol))
    {
        return Ok(solved);
    }
    let vol = implied::solve_undiscounted(market, undiscounted, strike, is_call)?;
    let (price, greeks) = market.price_and_greeks(strike, vol, is_call);
    Ok(Solved {
        vol,
        price,
        greeks,
        solver: Solver::LetsBeRational,
    })
}

/// Halley's iteration in total volatility s = σ√T on the out-of-the-money undiscounted
/// price; `None` whenever it cannot vouch for the answer (see the module docs).
fn halley(
    market: &Market,
    price: f64,
    undiscounted: f64,
    strike: f64,
    is_call: bool,
    guess: f64,
) -> Option<Solved> {
    let forward = market.forward();
    let x = (forward / strike).ln();
    // Work on the out-of-the-money side, where the whole price is time value: an
    // in-the-money quote becomes its put-call-parity twin's.
    let otm_call = x <= 0.0;
    let target = undiscounted - black76::intrinsic(is_call, forward, strike);
    let mut s = guess * market.sqrt_years();
    if !(s > 0.0 && s.is_finite() && target > 0.0) {
        return None;
    }
    for _ in 0..MAX_STEPS {
        let d1 = x / s + 0.5 * s;
        let d2 = d1 - s;
        if !(d1.abs() <= MAX_ABS_D && d2.abs() <= MAX_ABS_D) {
            return None;
        }
        // One exponential per step: n(d2) = n(d1)·F/K exactly, and N comes from n.
        let density = normal::pdf(d1);
        let density2 = density * (forward / strike);
        let value = if otm_call {
            forward * normal::cdf_given_pdf(d1, density)
                - strike * normal::cdf_given_pdf(d2, density2)
        } else {
            strike * normal::cdf_given_pdf(-d2, density2)
                - forward * normal::cdf_given_pdf(-d1, density)
        };
        // ∂value/∂s = F·n(d1) and ∂²value/∂s² = F·n(d1)·d1·d2/s, for calls and puts.
        let newton = (value - target) / (forward * density);
        let halley = 1.0 - 0.5 * newton * d1 * d2 / s;
        // Far from the root Halley's denominator can vanish; Newton's step is safe there.
        let step = if halley > 0.5 {
            newton / halley
        } else {
            newton
        };
        let next = s - step;
        if !(next > 0.0 && next.is_finite()) {
            return None;
        }
        if step.abs() <= CONVERGED_STEP * s {
            return converged(market, price, is_call, x, next);
        }
        s = next;
    }
    None
}

/// The answer at total volatility `s`, where the model reproduces the quote to rounding:
/// so the quote is the model price, and only the Greeks need computing.
fn converged(market: &Market, price: f64, is_call: bool, x: f64, s: f64) -> Option<Solved> {
    let vol = s / market.sqrt_years();
    let d1 = x / s + 0.5 * s;
    let greeks = market.greeks_at(price, vol, s, d1, is_call);
    greeks.is_finite().then(|| Solved {
        vol,
        price,
        greeks: greeks.annual_to_display(),
        solver: Solver::WarmStart,
    })
}
