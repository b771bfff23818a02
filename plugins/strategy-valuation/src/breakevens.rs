//! Breakevens and max profit / max loss of the P&L at the nearest expiry (§3.7).
//!
//! Two algorithms, chosen by the position:
//! - **Single expiry** (every leg expires at the nearest expiry): the P&L is piecewise
//!   linear with kinks at the strikes, so evaluating it at S = 0 and at each strike and
//!   extrapolating with the slope above the top strike, s₊ = Σ q(calls) + q(futures), is
//!   exact. S ≥ 0 bounds the left side.
//! - **Several expiries**: the later legs keep time value at the nearest expiry and the
//!   curve is smooth between strikes, so no finite set of points is exact. We scan a
//!   fine grid over [0, 3·spot] (plus the strikes, where the expiring legs kink), refine
//!   each sign change by bisection to 1e-6 points, and call the profit or loss
//!   unlimited from the sign of the secant slope between 3·spot and 6·spot. That is a
//!   heuristic: the reported extremes are those of the scanned range, and a crossing
//!   beyond 3·spot (a 200 % rally) is not looked for.

use crate::Extremum;
use crate::model::Position;

/// Intervals of the scan over [0, 3·spot]: a 0.05 %-of-spot step (12.5 points on a
/// 25,000 index), fine enough that two breakevens closer than that are not expected,
/// and 6,000 cheap evaluations per leg.
const SCAN_INTERVALS: u32 = 6_000;

/// Bisection stops when the bracket is this narrow, in points of the underlying.
const BISECTION_WIDTH: f64 = 1e-6;

/// The expiry P&L's zeros and extremes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpiryProfile {
    pub breakevens: Vec<f64>,
    pub max_profit: Extremum,
    pub max_loss: Extremum,
}

pub(crate) fn at_expiry(position: &Position) -> ExpiryProfile {
    if position.single_expiry() {
        exact(position)
    } else {
        scanned(position)
    }
}

/// A P&L this small (rupees) is zero: round-off in Σ q·(payoff − entry) scales with the
/// size of the terms, so the tolerance does too.
pub(crate) fn zero_tolerance(position: &Position) -> f64 {
    let scale: f64 = position
        .legs
        .iter()
        // A future's strike column is ignored (it may hold anything, NaN included).
        .map(|l| l.qty.abs() * (if l.is_option() { l.strike } else { 0.0 } + l.forward + l.entry))
        .sum();
    1e-12 * scale.max(position.spot * position.gross_quantity()) + f64::MIN_POSITIVE
}

/// Sign of a P&L value under the zero tolerance: -1, 0 or 1.
fn sign(value: f64, tol: f64) -> i8 {
    if value > tol {
        1
    } else if value < -tol {
        -1
    } else {
        0
    }
}

fn exact(position: &Position) -> ExpiryProfile {
    let mut nodes: Vec<f64> = position
        .legs
        .iter()
        .filter(|l| l.is_option())
        .map(|l| l.strike)
        .collect();
    nodes.push(0.0);
    nodes.sort_by(f64::total_cmp);
    nodes.dedup();
    let values: Vec<f64> = nodes.iter().map(|&s| position.pnl_at_expiry(s)).collect();
    let tol = zero_tolerance(position);

    let mut breakevens = zeros_between_nodes(&nodes, &values, tol, |a, fa, b, fb| {
        a - fa * (b - a) / (fb - fa)
    });
    // Beyond the top node the P&L is f_n + s₊·(S − K_n).
    let s_plus: f64 = position
        .legs
        .iter()
        .filter(|l| l.kind != crate::LegKind::Put)
        .map(|l| l.qty)
        .sum();
    if let (Some(&top), Some(&f_top)) = (nodes.last(), values.last()) {
        let f_sign = sign(f_top, tol);
        if f_sign != 0 && s_plus != 0.0 && (f_sign > 0) != (s_plus > 0.0) {
            breakevens.push(top - f_top / s_plus);
        }
    }
    // Quantities are whole numbers, so s₊ is exact and compares with 0 directly.
    extremes(breakevens, &values, s_plus > 0.0, s_plus < 0.0)
}

fn scanned(position: &Position) -> ExpiryProfile {
    let right = 3.0 * position.spot;
    let step = right / f64::from(SCAN_INTERVALS);
    let mut nodes: Vec<f64> = (0..=SCAN_INTERVALS).map(|i| f64::from(i) * step).collect();
    nodes.extend(
        position
            .legs
            .iter()
            .filter(|l| l.is_option() && l.strike < right)
            .map(|l| l.strike),
    );
    nodes.sort_by(f64::total_cmp);
    nodes.dedup();
    let f = |s: f64| position.pnl_at_expiry(s);
    let values: Vec<f64> = nodes.iter().map(|&s| f(s)).collect();
    let tol = zero_tolerance(position);

    let breakevens = zeros_between_nodes(&nodes, &values, tol, |a, fa, b, _| {
        bisect(&f, a, fa, b, tol)
    });
    let slope = (f(2.0 * right) - values.last().copied().unwrap_or(0.0)) / right;
    // A slope tolerance of 1e-9 per unit of quantity: far above round-off, far below
    // any slope a real position has (deep in the money, slopes are multiples of 1).
    let slope_tol = 1e-9 * position.gross_quantity();
    extremes(breakevens, &values, slope > slope_tol, slope < -slope_tol)
}

/// Zeros of a function known at ascending `nodes`: nodes where it is zero (both ends
/// of a flat zero stretch, so breakeven ranges show), plus one root inside each
/// interval whose ends have strictly opposite signs, found by `root(a, f(a), b, f(b))`.
fn zeros_between_nodes(
    nodes: &[f64],
    values: &[f64],
    tol: f64,
    root: impl Fn(f64, f64, f64, f64) -> f64,
) -> Vec<f64> {
    let mut zeros = Vec::new();
    for i in 0..nodes.len() {
        let here = sign(values[i], tol);
        if here == 0 {
            zeros.push(nodes[i]);
        }
        if let (Some(&b), Some(&fb)) = (nodes.get(i + 1), values.get(i + 1)) {
            let there = sign(fb, tol);
            if here != 0 && there != 0 && here != there {
                zeros.push(root(nodes[i], values[i], b, fb));
            }
        }
    }
    zeros
}

/// Root of `f` in [a, b] where f(a) and f(b) have strictly opposite signs.
fn bisect(f: &impl Fn(f64) -> f64, mut a: f64, fa: f64, mut b: f64, tol: f64) -> f64 {
    let left_sign = sign(fa, tol);
    // 64 halvings take any bracket below the f64 resolution; the width test ends it
    // long before on real inputs.
    for _ in 0..64 {
        if b - a <= BISECTION_WIDTH {
            break;
        }
        let m = 0.5 * (a + b);
        match sign(f(m), tol) {
            0 => return m,
            s if s == left_sign => a = m,
            _ => b = m,
        }
    }
    0.5 * (a + b)
}

/// Max profit = the largest P&L at the evaluated points, max loss = −(the smallest),
/// unless the tail beyond them grows without bound.
fn extremes(
    breakevens: Vec<f64>,
    values: &[f64],
    unlimited_profit: bool,
    unlimited_loss: bool,
) -> ExpiryProfile {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    ExpiryProfile {
        breakevens,
        max_profit: if unlimited_profit {
            Extremum::Unlimited
        } else {
            Extremum::Limited(max)
        },
        max_loss: if unlimited_loss {
            Extremum::Unlimited
        } else {
            Extremum::Limited(-min)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_at_nodes_and_inside_sign_changes() {
        // −1 → 1 crosses at 0.5 (linear root); then a flat zero stretch from 2 to 3.
        let zeros = zeros_between_nodes(
            &[0.0, 1.0, 2.0, 3.0],
            &[-1.0, 1.0, 0.0, 0.0],
            1e-12,
            |a, fa, b, fb| a - fa * (b - a) / (fb - fa),
        );
        assert_eq!(zeros, vec![0.5, 2.0, 3.0]);
    }

    #[test]
    fn no_zero_without_a_strict_sign_change() {
        let zeros = zeros_between_nodes(&[0.0, 1.0, 2.0], &[1.0, 2.0, 1.0], 1e-12, |_, _, _, _| {
            f64::NAN
        });
        assert!(zeros.is_empty());
    }

    #[test]
    fn bisection_finds_sqrt_two() {
        let f = |x: f64| x * x - 2.0;
        let root = bisect(&f, 0.0, f(0.0), 2.0, 1e-15);
        assert!(
            (root - std::f64::consts::SQRT_2).abs() <= BISECTION_WIDTH,
            "{root}"
        );
    }
}
