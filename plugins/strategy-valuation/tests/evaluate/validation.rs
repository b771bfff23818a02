//! Requests the plugin must reject, with a message that names the problem.

use strategy_valuation::{PluginError, ValuationRequest, evaluate};

use crate::common::{call, future, put, request};

fn valid() -> ValuationRequest {
    request(&[call(25_000.0, 100.0), put(24_800.0, 60.0).sell()])
}

/// The invalid-input message for `req`, after checking it names `needle`.
#[track_caller]
fn rejected(req: &ValuationRequest, needle: &str) {
    match evaluate(req) {
        Err(PluginError::InvalidInput(msg)) => {
            assert!(msg.contains(needle), "{needle:?} not in {msg:?}")
        }
        other => panic!("expected invalid-input naming {needle:?}, got {other:?}"),
    }
}

fn edited(edit: impl FnOnce(&mut ValuationRequest)) -> ValuationRequest {
    let mut req = valid();
    edit(&mut req);
    req
}

#[test]
fn mismatched_columns_are_named() {
    rejected(&edited(|r| r.legs.iv.truncate(1)), "iv");
    rejected(
        &edited(|r| r.legs.time_to_expiry.push(0.1)),
        "time-to-expiry",
    );
    rejected(
        &edited(|r| r.scenarios.days_forward.push(1.0)),
        "days-forward",
    );
}

#[test]
fn no_legs() {
    rejected(&request(&[]), "no legs");
}

#[test]
fn points_outside_2_to_2001() {
    rejected(&edited(|r| r.points = 1), "points");
    rejected(&edited(|r| r.points = 2002), "points");
    assert!(evaluate(&edited(|r| r.points = 2)).is_ok());
    assert!(evaluate(&edited(|r| r.points = 2001)).is_ok());
}

#[test]
fn bad_market_numbers() {
    rejected(&edited(|r| r.spot = 0.0), "spot");
    rejected(&edited(|r| r.spot = f64::NAN), "spot");
    rejected(&edited(|r| r.rate = f64::INFINITY), "rate");
    rejected(&edited(|r| r.range_pct = 150.0), "range-pct");
    rejected(&edited(|r| r.target_years = -0.1), "target-years");
    rejected(&edited(|r| r.pop_volatility = Some(0.0)), "pop-volatility");
}

#[test]
fn bad_leg_numbers_name_the_leg() {
    rejected(
        &edited(|r| r.legs.entry_price[1] = -1.0),
        "leg 1: entry-price",
    );
    rejected(
        &edited(|r| r.legs.market_price[0] = f64::NAN),
        "leg 0: market-price",
    );
    rejected(
        &edited(|r| r.legs.forward[0] = f64::INFINITY),
        "leg 0: forward",
    );
    rejected(&edited(|r| r.legs.forward[1] = 0.0), "leg 1: forward");
    rejected(&edited(|r| r.legs.strike[0] = -25_000.0), "leg 0: strike");
    rejected(
        &edited(|r| r.legs.time_to_expiry[1] = -1e-3),
        "leg 1: time-to-expiry",
    );
    rejected(&edited(|r| r.legs.iv[0] = f64::NAN), "leg 0: iv");
}

#[test]
fn futures_ignore_strike_and_iv() {
    let mut req = request(&[future(25_000.0)]);
    req.legs.iv[0] = f64::NAN;
    assert!(evaluate(&req).is_ok());
}

#[test]
fn bad_scenarios_name_the_row() {
    let scenario = |pct: f64, points: f64, days: f64| {
        edited(|r| {
            r.scenarios.spot_shift_pct = vec![0.0, pct];
            r.scenarios.iv_shift_points = vec![0.0, points];
            r.scenarios.days_forward = vec![0.0, days];
        })
    };
    rejected(&scenario(-101.0, 0.0, 0.0), "scenario 1: spot-shift-pct");
    rejected(&scenario(0.0, f64::NAN, 0.0), "scenario 1: iv-shift-points");
    rejected(&scenario(0.0, 0.0, -1.0), "scenario 1: days-forward");
}
