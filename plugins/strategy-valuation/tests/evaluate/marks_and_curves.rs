//! Mark-to-market, net premium and the two payoff curves, including how a leg's basis
//! to the spot decays towards expiry.

use optionhub_pricing::black76;
use strategy_valuation::LegKind;

use crate::common::{SPOT, WEEK, assert_all_close, assert_close, call, future, put, request, run};

#[test]
fn mark_to_market_and_net_premium() {
    let legs = [
        // Bought 2 × 50 at 100, now 130: +30 × 100.
        call(25_000.0, 100.0).lots(2, 50).market(130.0),
        // Sold 1 × 50 at 80, now 60: +20 × 50.
        put(24_800.0, 80.0).sell().lots(1, 50).market(60.0),
    ];
    let result = run(&request(&legs));
    assert_all_close(&result.leg_mtm, &[3_000.0, 1_000.0], 1e-9);
    assert_close(result.total_mtm, 4_000.0, 1e-9);
    // Paid 100 × 100, received 80 × 50: a debit of 6000.
    assert_close(result.net_premium, 6_000.0, 1e-9);
}

#[test]
fn curve_spans_the_range_evenly() {
    let mut req = request(&[call(25_000.0, 100.0)]);
    req.points = 5;
    let result = run(&req);
    assert_all_close(
        &result.curve_spot,
        &[22_500.0, 23_750.0, 25_000.0, 26_250.0, 27_500.0],
        1e-9,
    );
    assert_all_close(
        &result.payoff_at_expiry,
        &[-100.0, -100.0, -100.0, 1_150.0, 2_400.0],
        1e-9,
    );
    assert_eq!(result.payoff_at_target.len(), 5);
}

#[test]
fn target_curve_values_the_time_left() {
    // Three days from now, four days remain on the weekly call (r = 0, F = S).
    let mut req = request(&[call(25_000.0, 100.0)]);
    req.points = 3;
    req.range_pct = 1.0;
    req.target_years = 3.0 / 365.0;
    let result = run(&req);
    for (s, pnl) in result.curve_spot.iter().zip(&result.payoff_at_target) {
        let value = black76::price(&black76::Inputs {
            forward: *s,
            strike: 25_000.0,
            years: 4.0 / 365.0,
            vol: 0.12,
            rate: 0.0,
            is_call: true,
        });
        assert_close(*pnl, value - 100.0, 1e-8);
    }
}

#[test]
fn target_beyond_the_nearest_expiry_is_clamped_to_it() {
    let mut req = request(&[call(25_000.0, 100.0), put(25_000.0, 90.0).years(2.0 * WEEK)]);
    req.target_years = 1.0;
    let result = run(&req);
    assert_all_close(&result.payoff_at_target, &result.payoff_at_expiry, 1e-12);
}

#[test]
fn basis_decays_towards_expiry() {
    // A future bought at its forward 25100 while the spot is 25000 (basis ratio 1.004).
    let mut leg = future(25_100.0);
    leg.forward = 25_100.0;
    assert_eq!(leg.kind, LegKind::Future);
    let mut req = request(&[leg]);
    req.range_pct = 0.0;
    req.points = 2;

    // Now: F = S · 1.004 = 25100, no P&L.
    assert_all_close(&run(&req).payoff_at_target, &[0.0, 0.0], 1e-9);
    // Half-way: F = S · 1.004^½.
    req.target_years = WEEK / 2.0;
    let half = SPOT * 1.004_f64.sqrt() - 25_100.0;
    assert_all_close(&run(&req).payoff_at_target, &[half, half], 1e-9);
    // At expiry the future settles at the spot.
    assert_all_close(&run(&req).payoff_at_expiry, &[-100.0, -100.0], 1e-9);
}
