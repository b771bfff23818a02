//! Per-contract OI buildup (§3.3) and the OI gainers and losers built on it.
//!
//! The class compares the premium and OI now with the previous session's close; both
//! changes pass through dead bands first so that noise (one tick, a handful of
//! contracts) reads as "neutral" rather than as a signal.

use optionhub_pricing::chain::ContractColumns;

use crate::distribution::oi_change;
use crate::{Buildup, OiMovers, OiOptions};

/// Rupees. Prices are multiples of ₹0.05, so a change smaller than this is binary
/// floating-point noise (100.05 − 100.00 = 0.04999…), and a change exactly at the dead
/// band must count as "at", not "below", the band.
const PRICE_EPS: f64 = 1e-9;

/// Price change of a contract, when both the last price and the previous close are
/// quoted (> 0, the WIT "no quote" convention).
pub(crate) fn price_change(last_price: f64, previous_close: f64) -> Option<f64> {
    let quoted = |p: f64| p > 0.0 && p.is_finite();
    (quoted(last_price) && quoted(previous_close)).then_some(last_price - previous_close)
}

/// Classifies one contract. Neutral when the price reference is missing, when
/// |ΔOI| < `oi_dead_band` × previous OI, or when |ΔP| < `price_dead_band`; a zero
/// change is always neutral, even with zero dead bands.
pub(crate) fn classify(
    last_price: f64,
    previous_close: f64,
    oi: u64,
    previous_oi: u64,
    options: &OiOptions,
) -> Buildup {
    let Some(dp) = price_change(last_price, previous_close) else {
        return Buildup::Neutral;
    };
    let doi = oi_change(oi, previous_oi);
    let oi_band = options.oi_dead_band * previous_oi as f64;
    // ΔOI is an integer, so the epsilon only absorbs rounding in band × previous OI.
    let oi_moved = doi != 0 && doi.unsigned_abs() as f64 >= oi_band - 1e-9;
    let price_moved = dp.abs() > PRICE_EPS && dp.abs() >= options.price_dead_band - PRICE_EPS;
    if !(oi_moved && price_moved) {
        return Buildup::Neutral;
    }
    match (dp > 0.0, doi > 0) {
        (true, true) => Buildup::LongBuildup,
        (false, true) => Buildup::ShortBuildup,
        (true, false) => Buildup::ShortCovering,
        (false, false) => Buildup::LongUnwinding,
    }
}

/// Which end of the OI-change ranking to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// OI change > 0, largest first.
    Gainers,
    /// OI change < 0, most negative first.
    Losers,
}

/// The `top_n` contracts with the largest OI increase (or decrease). Ties go to the
/// lower security id, then the earlier row, so the ranking never depends on sort
/// stability or input order of equal keys.
pub(crate) fn movers(
    contracts: &ContractColumns,
    buildup: &[Buildup],
    top_n: usize,
    direction: Direction,
) -> OiMovers {
    let mut rows: Vec<(i64, u64, usize)> = (0..contracts.len())
        .map(|i| {
            (
                oi_change(contracts.oi[i], contracts.previous_oi[i]),
                contracts.security_id[i],
                i,
            )
        })
        .filter(|&(change, _, _)| match direction {
            Direction::Gainers => change > 0,
            Direction::Losers => change < 0,
        })
        .collect();
    match direction {
        Direction::Gainers => {
            rows.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)))
        }
        Direction::Losers => rows.sort_unstable(),
    }
    rows.truncate(top_n);

    let mut m = OiMovers::default();
    for (change, security_id, i) in rows {
        let previous_oi = contracts.previous_oi[i];
        m.row.push(u32::try_from(i).unwrap_or(u32::MAX));
        m.security_id.push(security_id);
        m.strike.push(contracts.strike[i]);
        m.is_call.push(contracts.is_call[i]);
        m.oi.push(contracts.oi[i]);
        m.oi_change.push(change);
        m.oi_change_pct.push(if previous_oi == 0 {
            0.0
        } else {
            100.0 * change as f64 / previous_oi as f64
        });
        m.price_change.push(
            price_change(contracts.last_price[i], contracts.previous_close[i]).unwrap_or(0.0),
        );
        m.buildup.push(buildup[i]);
    }
    m
}
