//! The reference's strategy vectors: the §4.6 iron condor and long call, and the §4.5
//! row-1 Greeks of that call.

use strategy_valuation::Extremum;

use crate::common::{SPOT, assert_all_close, assert_close, call, put, request, run};

/// §4.6: short 24800 PE @40, long 24600 PE @15, short 25200 CE @45, long 25400 CE @18.
fn iron_condor() -> Vec<crate::common::Leg> {
    vec![
        put(24_800.0, 40.0).sell(),
        put(24_600.0, 15.0),
        call(25_200.0, 45.0).sell(),
        call(25_400.0, 18.0),
    ]
}

#[test]
fn iron_condor_breakevens_and_extremes() {
    let result = run(&request(&iron_condor()));
    assert_all_close(&result.breakevens, &[24_748.0, 25_252.0], 1e-9);
    assert_eq!(result.max_profit, Extremum::Limited(52.0));
    assert_eq!(result.max_loss, Extremum::Limited(148.0));
    // A net credit of 52.
    assert_close(result.net_premium, -52.0, 1e-12);
}

#[test]
fn iron_condor_probability_of_profit() {
    let mut req = request(&iron_condor());
    req.pop_volatility = Some(0.12);
    assert_close(run(&req).probability_of_profit, 0.455_867_849_9, 1e-6);
    // Without an override, σ is the IV of the leg nearest its forward: 12 % here too.
    req.pop_volatility = None;
    assert_close(run(&req).probability_of_profit, 0.455_867_849_9, 1e-6);
}

#[test]
fn iron_condor_expiry_curve() {
    // Hand-worked P&L at expiry: −148 below 24600, +52 between 24800 and 25200,
    // −148 above 25400, linear in between.
    let mut req = request(&iron_condor());
    req.range_pct = 2.0; // 24500 .. 25500
    req.points = 11; // every 100 points
    let result = run(&req);
    assert_all_close(
        &result.curve_spot,
        &[
            24_500.0, 24_600.0, 24_700.0, 24_800.0, 24_900.0, 25_000.0, 25_100.0, 25_200.0,
            25_300.0, 25_400.0, 25_500.0,
        ],
        1e-9,
    );
    assert_all_close(
        &result.payoff_at_expiry,
        &[
            -148.0, -148.0, -48.0, 52.0, 52.0, 52.0, 52.0, 52.0, -48.0, -148.0, -148.0,
        ],
        1e-9,
    );
}

/// §4.5 row 1: F = K = 25000, T = 7/365, σ = 12 %, r = 6.5 %: the call is worth
/// 165.534122207.
const ATM_CALL: f64 = 165.534_122_207;

#[test]
fn long_call_breakeven_and_probability() {
    let result = run(&request(&[call(SPOT, ATM_CALL)]));
    assert_eq!(result.breakevens.len(), 1);
    assert_close(result.breakevens[0], 25_165.534_122_207, 1e-9);
    assert_close(result.probability_of_profit, 0.342_578_352_3, 1e-6);
    assert_eq!(result.max_profit, Extremum::Unlimited);
    assert_eq!(result.max_loss, Extremum::Limited(ATM_CALL));
}

#[test]
fn long_call_greeks_and_value_now_match_the_reference() {
    let mut req = request(&[call(SPOT, ATM_CALL)]);
    req.rate = 0.065;
    let result = run(&req);
    let g = result.greeks;
    assert_close(g.delta, 0.502_687_783_1, 1e-9);
    assert_close(g.gamma, 0.000_959_024_827_5, 1e-12);
    assert_close(g.vega, 13.794_192_72, 1e-7);
    assert_close(g.theta, -11.794_115_08, 1e-7);
    // Bought at the model price: the P&L now, at the spot, is zero.
    let mut now = req.clone();
    now.range_pct = 0.0;
    now.points = 2;
    assert_all_close(&run(&now).payoff_at_target, &[0.0, 0.0], 1e-8);
}

#[test]
fn pop_volatility_defaults_to_the_most_at_the_money_leg() {
    // Bull call spread: the 25000 call sits on its forward, the 25300 call 300 away.
    let legs = [
        call(SPOT, 150.0).iv(0.12),
        call(25_300.0, 40.0).sell().iv(0.20),
    ];
    let pop = |vol: Option<f64>| {
        let mut req = request(&legs);
        req.pop_volatility = vol;
        run(&req).probability_of_profit
    };
    let default = pop(None);
    assert_eq!(default, pop(Some(0.12)));
    assert!((default - pop(Some(0.20))).abs() > 1e-3);
}
