//! Market-depth arithmetic on a contract's five-level book: best bid and ask, the spread
//! (absolute and relative to the mid), the size-weighted mid, quantities on each side and
//! their imbalance, and each side's volume-weighted price.
//!
//! It is plain host arithmetic on numbers the feed already rounded to the tick, so it
//! needs no plugin; it lives with the market because it reads nothing but a book. A
//! level counts on a side only when both its price and its quantity are positive (Dhan
//! sends zeros for empty levels), and every figure that needs a missing side is `None`
//! rather than a misleading zero.

use serde::Serialize;

use super::book::BookLevel;

/// What the depth of one contract says.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, utoipa::ToSchema)]
pub struct DepthAnalysis {
    /// Highest bid among the levels; null when no bid is quoted.
    pub best_bid: Option<f64>,
    /// Lowest ask among the levels; null when no ask is quoted.
    pub best_ask: Option<f64>,
    /// Quantity at the best bid.
    pub best_bid_qty: u64,
    /// Quantity at the best ask.
    pub best_ask_qty: u64,
    /// Best ask − best bid, rupees; negative when the book is crossed.
    pub spread: Option<f64>,
    /// Spread as a percentage of the mid.
    pub spread_pct: Option<f64>,
    /// (best bid + best ask) / 2.
    pub mid: Option<f64>,
    /// Size-weighted mid (micro-price): (bid × ask qty + ask × bid qty) / (bid qty + ask
    /// qty) at the best level; leans toward the side with less quantity.
    pub weighted_mid: Option<f64>,
    /// Quantity over every quoted bid level.
    pub total_bid_qty: u64,
    /// Quantity over every quoted ask level.
    pub total_ask_qty: u64,
    /// (total bid qty − total ask qty) / (total bid qty + total ask qty), in [−1, 1];
    /// positive when buyers show more size. Null when neither side is quoted.
    pub imbalance: Option<f64>,
    /// Volume-weighted price of the quoted bid levels.
    pub bid_vwap: Option<f64>,
    /// Volume-weighted price of the quoted ask levels.
    pub ask_vwap: Option<f64>,
    /// How many bid levels are quoted.
    pub bid_levels: usize,
    /// How many ask levels are quoted.
    pub ask_levels: usize,
    /// True when the best bid is at or above the best ask.
    pub crossed: bool,
}

/// One side's quoted levels as (price, quantity).
fn side(levels: &[BookLevel], pick: impl Fn(&BookLevel) -> (f64, u64)) -> Vec<(f64, u64)> {
    levels
        .iter()
        .map(pick)
        .filter(|&(price, qty)| price.is_finite() && price > 0.0 && qty > 0)
        .collect()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "order-book quantities are far below 2^53"
)]
fn as_f64(qty: u64) -> f64 {
    qty as f64
}

fn vwap(quoted: &[(f64, u64)]) -> Option<f64> {
    let qty: u64 = quoted.iter().map(|&(_, q)| q).sum();
    (qty > 0).then(|| quoted.iter().map(|&(p, q)| p * as_f64(q)).sum::<f64>() / as_f64(qty))
}

/// The best level of a side: the price chosen by `better`, and its quantity.
fn best(quoted: &[(f64, u64)], better: impl Fn(f64, f64) -> bool) -> Option<(f64, u64)> {
    quoted
        .iter()
        .copied()
        .reduce(|a, b| if better(b.0, a.0) { b } else { a })
}

/// Analyses a book's levels (any number; Dhan sends five).
pub fn analyze(levels: &[BookLevel]) -> DepthAnalysis {
    let bids = side(levels, |l| (l.bid_price, l.bid_qty));
    let asks = side(levels, |l| (l.ask_price, l.ask_qty));
    let best_bid = best(&bids, |a, b| a > b);
    let best_ask = best(&asks, |a, b| a < b);
    let total_bid_qty: u64 = bids.iter().map(|&(_, q)| q).sum();
    let total_ask_qty: u64 = asks.iter().map(|&(_, q)| q).sum();
    let total = total_bid_qty.saturating_add(total_ask_qty);
    let imbalance =
        (total > 0).then(|| (as_f64(total_bid_qty) - as_f64(total_ask_qty)) / as_f64(total));
    let both = best_bid.zip(best_ask);
    let mid = both.map(|((bid, _), (ask, _))| 0.5 * (bid + ask));
    let spread = both.map(|((bid, _), (ask, _))| ask - bid);
    let spread_pct = spread
        .zip(mid)
        .and_then(|(s, m)| (m > 0.0).then(|| 100.0 * s / m));
    let weighted_mid = both.map(|((bid, bid_qty), (ask, ask_qty))| {
        (bid * as_f64(ask_qty) + ask * as_f64(bid_qty)) / (as_f64(bid_qty) + as_f64(ask_qty))
    });
    DepthAnalysis {
        best_bid: best_bid.map(|b| b.0),
        best_ask: best_ask.map(|a| a.0),
        best_bid_qty: best_bid.map_or(0, |b| b.1),
        best_ask_qty: best_ask.map_or(0, |a| a.1),
        spread,
        spread_pct,
        mid,
        weighted_mid,
        total_bid_qty,
        total_ask_qty,
        imbalance,
        bid_vwap: vwap(&bids),
        ask_vwap: vwap(&asks),
        bid_levels: bids.len(),
        ask_levels: asks.len(),
        crossed: spread.is_some_and(|s| s <= 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(bid: (f64, u64), ask: (f64, u64)) -> BookLevel {
        BookLevel {
            bid_price: bid.0,
            bid_qty: bid.1,
            bid_orders: 1,
            ask_price: ask.0,
            ask_qty: ask.1,
            ask_orders: 1,
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn a_two_sided_book() {
        let levels = [
            level((100.0, 300), (100.5, 100)),
            level((99.95, 200), (100.55, 100)),
            level((99.9, 100), (100.6, 200)),
            level((0.0, 0), (0.0, 0)),
            level((0.0, 0), (0.0, 0)),
        ];
        let d = analyze(&levels);
        assert_eq!(d.best_bid, Some(100.0));
        assert_eq!(d.best_ask, Some(100.5));
        assert_eq!((d.best_bid_qty, d.best_ask_qty), (300, 100));
        assert!(close(d.spread, 0.5));
        assert!(close(d.mid, 100.25));
        assert!(close(d.spread_pct, 0.5 / 100.25 * 100.0));
        // More bid size pulls the micro-price toward the ask.
        assert!(close(
            d.weighted_mid,
            (100.0 * 100.0 + 100.5 * 300.0) / 400.0
        ));
        assert!(d.weighted_mid > d.mid);
        assert_eq!((d.total_bid_qty, d.total_ask_qty), (600, 400));
        assert!(close(d.imbalance, 200.0 / 1000.0));
        assert!(close(
            d.bid_vwap,
            (100.0 * 300.0 + 99.95 * 200.0 + 99.9 * 100.0) / 600.0
        ));
        assert!(close(
            d.ask_vwap,
            (100.5 * 100.0 + 100.55 * 100.0 + 100.6 * 200.0) / 400.0
        ));
        assert_eq!((d.bid_levels, d.ask_levels), (3, 3));
        assert!(!d.crossed);
    }

    #[test]
    fn a_one_sided_book_has_no_spread_or_mid() {
        let levels = [level((0.0, 0), (12.0, 50)), level((0.0, 0), (12.5, 75))];
        let d = analyze(&levels);
        assert_eq!(d.best_bid, None);
        assert_eq!(d.best_ask, Some(12.0));
        assert_eq!(
            (d.spread, d.mid, d.weighted_mid, d.spread_pct),
            (None, None, None, None)
        );
        assert!(close(d.imbalance, -1.0));
        assert_eq!(d.bid_vwap, None);
        assert_eq!((d.bid_levels, d.ask_levels), (0, 2));
    }

    #[test]
    fn an_empty_book_is_all_none() {
        let d = analyze(&[BookLevel::default(); 5]);
        assert_eq!(d, DepthAnalysis::default());
        assert_eq!(analyze(&[]), DepthAnalysis::default());
    }

    #[test]
    fn levels_with_a_price_but_no_quantity_do_not_count() {
        let levels = [level((10.0, 0), (11.0, 10)), level((9.5, 20), (0.0, 5))];
        let d = analyze(&levels);
        assert_eq!(d.best_bid, Some(9.5), "the 10.00 bid has no size");
        assert_eq!(d.best_ask, Some(11.0), "the zero-price ask is not a quote");
        assert_eq!((d.total_bid_qty, d.total_ask_qty), (20, 10));
    }

    #[test]
    fn best_levels_are_found_even_out_of_order_and_crossing_is_flagged() {
        let levels = [
            level((99.0, 10), (101.0, 10)),
            level((102.0, 5), (100.0, 5)),
        ];
        let d = analyze(&levels);
        assert_eq!((d.best_bid, d.best_ask), (Some(102.0), Some(100.0)));
        assert!(close(d.spread, -2.0));
        assert!(d.crossed);
    }
}
