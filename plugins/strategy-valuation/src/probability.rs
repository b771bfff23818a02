//! Probability of profit (§3.8): the risk-neutral probability that the P&L at the
//! nearest expiry is positive.
//!
//! The breakevens cut [0, ∞) into intervals on which the P&L keeps one sign; the
//! underlying at the nearest expiry T₀ is lognormal with mean F (the forward of the
//! nearest-expiry leg) and volatility σ, so P(a < S < b) = Φ(z(b)) − Φ(z(a)) with
//! z(x) = [ln(x/F) + σ²T₀/2] / (σ√T₀).
//!
//! Choice of σ (a design decision the reference asks to document): the request's
//! `pop_volatility` when given, otherwise the IV of the option leg whose strike is
//! nearest its own forward (the most at-the-money leg, whose IV best represents the
//! distribution's body), floored like every IV at [`IV_FLOOR`]. A futures-only position
//! without `pop_volatility` has no IV at all and gets the floor, i.e. the answer for an
//! almost certain underlying.

use optionhub_pricing::normal;

use crate::breakevens::zero_tolerance;
use crate::model::{IV_FLOOR, Position};

pub(crate) fn of_profit(
    position: &Position,
    breakevens: &[f64],
    pop_volatility: Option<f64>,
) -> f64 {
    let Some(nearest) = position.nearest_leg() else {
        return 0.0;
    };
    let forward = nearest.forward;
    let sigma = pop_volatility
        .unwrap_or_else(|| at_the_money_iv(position))
        .max(IV_FLOOR);
    let total_vol = sigma * position.t0.sqrt();
    let tol = zero_tolerance(position);
    let in_profit = |s: f64| position.pnl_at_expiry(s) > tol;

    if total_vol <= 0.0 {
        // T₀ = 0: the expiry is now, the underlying is where it is.
        return if in_profit(forward) { 1.0 } else { 0.0 };
    }
    // P(S ≤ x); x = 0 and x = ∞ are the ends of the support.
    let cdf = |x: f64| {
        if x <= 0.0 {
            0.0
        } else if x == f64::INFINITY {
            1.0
        } else {
            normal::cdf(((x / forward).ln() + 0.5 * total_vol * total_vol) / total_vol)
        }
    };

    let mut edges = Vec::with_capacity(breakevens.len() + 2);
    edges.push(0.0);
    edges.extend(breakevens.iter().copied().filter(|&b| b > 0.0));
    edges.push(f64::INFINITY);
    let probe_limit = 3.0 * position.spot;
    let pop: f64 = edges
        .windows(2)
        .filter(|w| w[1] > w[0])
        .filter(|w| {
            // Any interior point shows the interval's sign; for the last, unbounded one
            // stay inside the range the breakeven scan covered.
            let (a, b) = (w[0], w[1]);
            let probe = if b.is_finite() {
                0.5 * (a + b)
            } else if a < probe_limit {
                0.5 * (a + probe_limit)
            } else {
                2.0 * a
            };
            in_profit(probe)
        })
        .map(|w| cdf(w[1]) - cdf(w[0]))
        .sum();
    pop.clamp(0.0, 1.0)
}

/// IV of the option leg whose strike is nearest its own forward (the first on a tie);
/// 0 (hence the floor) when no leg is an option.
fn at_the_money_iv(position: &Position) -> f64 {
    position
        .legs
        .iter()
        .filter(|l| l.is_option())
        .fold(None::<(f64, f64)>, |best, l| {
            let distance = (l.strike - l.forward).abs();
            match best {
                Some((d, _)) if d <= distance => best,
                _ => Some((distance, l.iv)),
            }
        })
        .map_or(0.0, |(_, iv)| iv)
}
