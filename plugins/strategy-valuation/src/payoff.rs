//! Mark-to-market and the two payoff curves (at the nearest expiry and at the target
//! date) over a range of underlying levels.
//!
//! These are the outputs a strategy-builder chart draws directly; the analysis of the
//! expiry curve (breakevens, extremes) lives in `breakevens`.

use crate::ValuationRequest;
use crate::model::Position;

/// The position at today's marks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marks {
    pub leg_mtm: Vec<f64>,
    pub total_mtm: f64,
    pub net_premium: f64,
}

/// Mark-to-market per leg, (market − entry) × signed quantity, and the net premium
/// Σ entry × signed quantity: positive when the position was paid for (a debit).
pub(crate) fn marks(position: &Position) -> Marks {
    let leg_mtm: Vec<f64> = position
        .legs
        .iter()
        .map(|l| (l.market - l.entry) * l.qty)
        .collect();
    Marks {
        total_mtm: leg_mtm.iter().sum(),
        net_premium: position.legs.iter().map(|l| l.entry * l.qty).sum(),
        leg_mtm,
    }
}

/// Curve x-axis and the P&L along it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curves {
    pub spot: Vec<f64>,
    pub at_expiry: Vec<f64>,
    pub at_target: Vec<f64>,
}

/// `points` underlying levels evenly spaced over spot · (1 ± range/100), with the P&L
/// at the nearest expiry and at the target date (clamped to [0, nearest expiry]: past
/// it, the nearest legs no longer exist to be valued).
pub(crate) fn curves(request: &ValuationRequest, position: &Position) -> Curves {
    let half_width = request.spot * request.range_pct / 100.0;
    let (lo, hi) = (request.spot - half_width, request.spot + half_width);
    let n = request.points.max(2);
    let last = f64::from(n - 1);
    // lo + (hi − lo)·i/last rather than repeated addition: no drift, and the last point
    // is exactly `hi`.
    let spot: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * (f64::from(i) / last))
        .collect();
    let target = request.target_years.clamp(0.0, position.t0);
    Curves {
        at_expiry: spot.iter().map(|&s| position.pnl_at_expiry(s)).collect(),
        at_target: spot.iter().map(|&s| position.pnl(s, target, 0.0)).collect(),
        spot,
    }
}
