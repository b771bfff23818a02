//! What-if scenarios (§3.9): the position repriced with the underlying moved, every IV
//! shifted in parallel and time passed, with its P&L and Greeks in that state.
//!
//! Volatility moves are sticky-strike parallel shifts (each leg keeps its own IV plus
//! the shift), the simplest convention and the one traders type in ("IV +2").

use crate::ScenarioColumns;
use crate::model::Position;

/// Days per year for `days_forward`, matching the calendar-day time convention.
const DAYS_PER_YEAR: f64 = 365.0;

/// One result row per scenario. The spot moves to spot · (1 + pct/100), IVs by
/// points/100 (floored like every IV), and `days_forward` is clamped to the nearest
/// expiry, beyond which the nearest legs no longer exist to be valued.
pub(crate) fn run(scenarios: &ScenarioColumns, position: &Position) -> crate::ScenarioResults {
    let mut out = crate::ScenarioResults::default();
    for i in 0..scenarios.spot_shift_pct.len() {
        let s = position.spot * (1.0 + scenarios.spot_shift_pct[i] / 100.0);
        let iv_shift = scenarios.iv_shift_points[i] / 100.0;
        let h = (scenarios.days_forward[i] / DAYS_PER_YEAR).clamp(0.0, position.t0);
        let greeks = position.greeks(s, h, iv_shift);
        out.pnl.push(position.pnl(s, h, iv_shift));
        out.delta.push(greeks.delta);
        out.gamma.push(greeks.gamma);
        out.theta.push(greeks.theta);
        out.vega.push(greeks.vega);
    }
    out
}
