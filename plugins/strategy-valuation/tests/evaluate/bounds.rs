//! Breakevens and max profit / max loss: unlimited tails, the S = 0 bound, flat zero
//! stretches, futures, lot-size scaling, and the several-expiry (scanned) path.

use optionhub_pricing::{black76, normal};
use strategy_valuation::Extremum;

use crate::common::{SPOT, WEEK, assert_all_close, assert_close, call, future, put, request, run};

#[test]
fn short_call_has_unlimited_loss() {
    let result = run(&request(&[call(25_000.0, 120.0).sell()]));
    assert_all_close(&result.breakevens, &[25_120.0], 1e-9);
    assert_eq!(result.max_profit, Extremum::Limited(120.0));
    assert_eq!(result.max_loss, Extremum::Unlimited);
}

#[test]
fn short_put_loss_is_bounded_at_zero() {
    // Worst case: the index settles at 0 and the put pays 25000 − 100 per unit.
    let result = run(&request(&[put(25_000.0, 100.0).sell().lots(1, 50)]));
    assert_all_close(&result.breakevens, &[24_900.0], 1e-9);
    assert_eq!(result.max_profit, Extremum::Limited(100.0 * 50.0));
    assert_eq!(result.max_loss, Extremum::Limited(24_900.0 * 50.0));
}

#[test]
fn long_put_profit_is_bounded_at_zero() {
    let result = run(&request(&[put(25_000.0, 100.0)]));
    assert_eq!(result.max_profit, Extremum::Limited(24_900.0));
    assert_eq!(result.max_loss, Extremum::Limited(100.0));
}

#[test]
fn long_future_is_linear() {
    // P&L = S − 25000: breakeven at the entry, unlimited profit, loss bounded by S ≥ 0.
    let mut req = request(&[future(25_000.0)]);
    req.pop_volatility = Some(0.12);
    let result = run(&req);
    assert_all_close(&result.breakevens, &[25_000.0], 1e-9);
    assert_eq!(result.max_profit, Extremum::Unlimited);
    assert_eq!(result.max_loss, Extremum::Limited(25_000.0));
    // PoP = P(S_T > F) = 1 − Φ(σ√T/2) with σ√T = 0.12·√(7/365).
    assert_close(result.probability_of_profit, 0.496_685_187_967, 1e-9);
    assert_eq!(result.greeks.delta, 1.0);
    assert_eq!(
        (result.greeks.gamma, result.greeks.vega, result.greeks.theta),
        (0.0, 0.0, 0.0)
    );
}

#[test]
fn flat_zero_stretch_reports_both_ends_and_no_profit() {
    // Call spreads bought and sold for free: P&L −100 below 24900, rising to 0 at
    // 25000, flat 0 to 25100, falling to −100 at 25200 and flat beyond.
    let legs = [
        call(24_900.0, 100.0),
        call(25_000.0, 0.0).sell(),
        call(25_100.0, 0.0).sell(),
        call(25_200.0, 0.0),
    ];
    let result = run(&request(&legs));
    assert_all_close(&result.breakevens, &[25_000.0, 25_100.0], 1e-9);
    assert_eq!(result.max_profit, Extremum::Limited(0.0));
    assert_eq!(result.max_loss, Extremum::Limited(100.0));
    // Zero is not a profit.
    assert_eq!(result.probability_of_profit, 0.0);
}

#[test]
fn lot_size_scales_money_not_levels() {
    let condor = |lots: u32, size: u32| {
        request(&[
            put(24_800.0, 40.0).sell().lots(lots, size),
            put(24_600.0, 15.0).lots(lots, size),
            call(25_200.0, 45.0).sell().lots(lots, size),
            call(25_400.0, 18.0).lots(lots, size),
        ])
    };
    let one = run(&condor(1, 1));
    let many = run(&condor(2, 75));
    assert_all_close(&many.breakevens, &[24_748.0, 25_252.0], 1e-9);
    assert_eq!(many.max_profit, Extremum::Limited(52.0 * 150.0));
    assert_eq!(many.max_loss, Extremum::Limited(148.0 * 150.0));
    assert_close(many.net_premium, -52.0 * 150.0, 1e-9);
    assert_close(many.probability_of_profit, one.probability_of_profit, 1e-15);
    assert_close(many.greeks.vega, 150.0 * one.greeks.vega, 1e-9);
}

fn limited(e: Extremum) -> f64 {
    match e {
        Extremum::Limited(x) => x,
        Extremum::Unlimited => panic!("expected a limited extremum"),
    }
}

/// Sell the weekly 25000 call, buy the 5-week one, both at their model prices.
fn calendar() -> (Vec<crate::common::Leg>, f64, f64) {
    let price = |years: f64| {
        black76::price(&black76::Inputs {
            forward: SPOT,
            strike: SPOT,
            years,
            vol: 0.12,
            rate: 0.0,
            is_call: true,
        })
    };
    let (near, far) = (price(WEEK), price(5.0 * WEEK));
    (
        vec![call(SPOT, near).sell(), call(SPOT, far).years(5.0 * WEEK)],
        near,
        far,
    )
}

/// The calendar's P&L at the weekly expiry, written out independently of the crate:
/// the weekly call settles at intrinsic, the far one has four weeks left.
fn calendar_pnl(s: f64, near: f64, far: f64) -> f64 {
    let far_then = black76::price(&black76::Inputs {
        forward: s,
        strike: SPOT,
        years: 4.0 * WEEK,
        vol: 0.12,
        rate: 0.0,
        is_call: true,
    });
    -((s - SPOT).max(0.0) - near) + (far_then - far)
}

#[test]
fn calendar_spread_uses_the_scanned_path() {
    let (legs, near, far) = calendar();
    let result = run(&request(&legs));

    // Two breakevens, one each side of the strike, where the hand-written P&L is zero.
    assert_eq!(result.breakevens.len(), 2, "{:?}", result.breakevens);
    let (lo, hi) = (result.breakevens[0], result.breakevens[1]);
    assert!(lo < SPOT && SPOT < hi, "{lo} {hi}");
    for be in [lo, hi] {
        assert_close(calendar_pnl(be, near, far), 0.0, 1e-5);
    }
    // Best case: settling at the strike. Worst case: far from it, where both calls are
    // worth their intrinsic value (or nothing) and the net debit is lost; that tail is
    // flat, so the loss is limited.
    assert_close(
        limited(result.max_profit),
        calendar_pnl(SPOT, near, far),
        1e-9,
    );
    assert_close(limited(result.max_loss), far - near, 1e-9);

    // PoP: the lognormal mass between the breakevens, F = 25000, σ = 12 %, T = 1 week.
    let z = |x: f64| ((x / SPOT).ln() + 0.5 * 0.12 * 0.12 * WEEK) / (0.12 * WEEK.sqrt());
    assert_close(
        result.probability_of_profit,
        normal::cdf(z(hi)) - normal::cdf(z(lo)),
        1e-9,
    );
}

#[test]
fn several_expiries_detect_unlimited_tails() {
    // Two calls on different expiries: above the strikes both gain (or lose) one point
    // per point, so the scanned path's tail slope is ±2 per unit.
    let long = run(&request(&[
        call(SPOT, 150.0),
        call(SPOT, 300.0).years(5.0 * WEEK),
    ]));
    assert_eq!(long.max_profit, Extremum::Unlimited);
    // Worst case at S = 0, where both calls are worthless: both premiums lost.
    assert_eq!(limited(long.max_loss), 450.0);
    let short = run(&request(&[
        call(SPOT, 150.0).sell(),
        call(SPOT, 300.0).sell().years(5.0 * WEEK),
    ]));
    assert_eq!(short.max_loss, Extremum::Unlimited);
    assert_close(limited(short.max_profit), 450.0, 1e-9);
    // A far put bought and a near future sold: both gain as the index falls, which
    // S ≥ 0 bounds; above, the short future loses without limit.
    let hedged = run(&request(&[
        put(SPOT, 300.0).years(5.0 * WEEK),
        future(SPOT).sell(),
    ]));
    assert!(
        matches!(hedged.max_profit, Extremum::Limited(_)),
        "{:?}",
        hedged.max_profit
    );
    assert_eq!(hedged.max_loss, Extremum::Unlimited);
}
