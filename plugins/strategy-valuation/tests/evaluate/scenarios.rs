//! What-if scenarios and position Greeks.

use optionhub_pricing::black76::{self, Inputs};
use strategy_valuation::{ScenarioColumns, ValuationRequest};

use crate::common::{SPOT, WEEK, assert_close, call, future, put, request, run};

fn with_scenarios(mut req: ValuationRequest, rows: &[(f64, f64, f64)]) -> ValuationRequest {
    req.scenarios = ScenarioColumns {
        spot_shift_pct: rows.iter().map(|r| r.0).collect(),
        iv_shift_points: rows.iter().map(|r| r.1).collect(),
        days_forward: rows.iter().map(|r| r.2).collect(),
    };
    req
}

fn atm_call(forward: f64, years: f64, vol: f64) -> Inputs {
    Inputs {
        forward,
        strike: SPOT,
        years,
        vol,
        rate: 0.0,
        is_call: true,
    }
}

#[test]
fn zero_shift_is_the_position_now() {
    let mut req = with_scenarios(
        request(&[call(SPOT, 150.0), put(24_800.0, 60.0).sell()]),
        &[(0.0, 0.0, 0.0)],
    );
    req.range_pct = 0.0;
    req.points = 2;
    let result = run(&req);
    let s = &result.scenarios;
    assert_eq!(s.pnl.len(), 1);
    assert_close(s.pnl[0], result.payoff_at_target[0], 1e-9);
    assert_close(s.delta[0], result.greeks.delta, 1e-12);
    assert_close(s.gamma[0], result.greeks.gamma, 1e-15);
    assert_close(s.theta[0], result.greeks.theta, 1e-12);
    assert_close(s.vega[0], result.greeks.vega, 1e-12);
}

#[test]
fn shifts_reprice_the_long_call() {
    let entry = 150.0;
    let rows = [
        (1.0, 0.0, 0.0),
        (-1.0, 0.0, 0.0),
        (0.0, 2.0, 0.0),
        (0.0, 0.0, 3.0),
        (1.0, 2.0, 1.0),
    ];
    let result = run(&with_scenarios(request(&[call(SPOT, entry)]), &rows));
    let pnl = &result.scenarios.pnl;
    let now = black76::price(&atm_call(SPOT, WEEK, 0.12)) - entry;
    assert!(pnl[0] > now, "spot up helps a long call");
    assert!(pnl[1] < now, "spot down hurts it");
    assert!(pnl[2] > now, "vol up helps it");
    assert!(pnl[3] < now, "time passing hurts it");
    // +1 %, +2 vol points, a day later: S' = 25250, σ' = 14 %, six days left.
    let expected = black76::price(&atm_call(25_250.0, 6.0 / 365.0, 0.14)) - entry;
    assert_close(pnl[4], expected, 1e-8);
    let g = black76::greeks(&atm_call(25_250.0, 6.0 / 365.0, 0.14));
    assert_close(result.scenarios.delta[4], g.delta, 1e-12);
    assert_close(result.scenarios.vega[4], g.vega, 1e-12);
}

#[test]
fn scenario_past_expiry_settles_at_intrinsic() {
    // Ten days on a one-week call is clamped to the expiry: 2 % up pays 500 − entry.
    let result = run(&with_scenarios(
        request(&[call(SPOT, 150.0)]),
        &[(2.0, 0.0, 10.0)],
    ));
    assert_close(result.scenarios.pnl[0], 500.0 - 150.0, 1e-9);
    assert_eq!(result.scenarios.delta[0], 1.0);
    assert_eq!(
        (result.scenarios.gamma[0], result.scenarios.theta[0]),
        (0.0, 0.0)
    );
}

#[test]
fn iv_shift_below_zero_is_floored_not_rejected() {
    let result = run(&with_scenarios(
        request(&[call(SPOT, 150.0)]),
        &[(1.0, -50.0, 0.0)],
    ));
    // Near-zero volatility: the call is worth about its 250 intrinsic value.
    assert_close(result.scenarios.pnl[0], 250.0 - 150.0, 1e-6);
}

#[test]
fn greeks_sum_with_signed_quantities() {
    let per_unit = |is_call: bool| {
        black76::greeks(&Inputs {
            forward: SPOT,
            strike: SPOT,
            years: WEEK,
            vol: 0.12,
            rate: 0.0,
            is_call,
        })
    };
    let (c, p) = (per_unit(true), per_unit(false));

    // Long straddle, 1 lot of 50.
    let long = run(&request(&[
        call(SPOT, 150.0).lots(1, 50),
        put(SPOT, 150.0).lots(1, 50),
    ]))
    .greeks;
    assert_close(long.delta, 50.0 * (c.delta + p.delta), 1e-9);
    assert_close(long.gamma, 50.0 * (c.gamma + p.gamma), 1e-12);
    assert_close(long.vega, 50.0 * (c.vega + p.vega), 1e-9);
    assert_close(long.theta, 50.0 * (c.theta + p.theta), 1e-9);
    assert!(long.gamma > 0.0 && long.vega > 0.0 && long.theta < 0.0);

    // Short straddle: every sign flips.
    let short = run(&request(&[
        call(SPOT, 150.0).sell().lots(1, 50),
        put(SPOT, 150.0).sell().lots(1, 50),
    ]))
    .greeks;
    assert_close(short.gamma, -long.gamma, 1e-15);
    assert_close(short.vega, -long.vega, 1e-12);
    assert_close(short.theta, -long.theta, 1e-12);
    assert!(short.gamma < 0.0 && short.theta > 0.0);

    // Futures: delta is the quantity, nothing else.
    let fut = run(&request(&[
        future(SPOT).lots(2, 50),
        future(SPOT).sell().lots(1, 50),
    ]))
    .greeks;
    assert_eq!(
        (fut.delta, fut.gamma, fut.theta, fut.vega, fut.rho),
        (50.0, 0.0, 0.0, 0.0, 0.0)
    );
}
