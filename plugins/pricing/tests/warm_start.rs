//! The warm-started solver against Let's Be Rational: the same answers (volatility,
//! price, Greeks, and the same refusals) over a grid of moneyness, expiry, volatility and
//! guesses, with the fast path actually taken wherever the guess is near.

#[expect(dead_code, reason = "only `informative` is needed here")]
mod common;

use common::informative;
use optionhub_pricing::black76::{self, Inputs, Market};
use optionhub_pricing::implied::implied_vol_in;
use optionhub_pricing::warm_start::{MAX_ABS_D, Solved, Solver, solve};
use proptest::prelude::*;

const RATE: f64 = 0.065;

/// Relative agreement demanded of the two solvers at informative points: far below
/// anything a quote carries, far above rounding.
const AGREE: f64 = 1e-11;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-300
}

/// Solves `i` priced by the model from `guess` and checks it against Let's Be Rational
/// and against the model at the answer; returns which solver answered.
#[track_caller]
fn check(i: &Inputs, guess: f64) -> Option<Solver> {
    let market = Market::new(i.forward, i.years, i.rate);
    let price = black76::price(i);
    let fast = solve(&market, price, i.strike, i.is_call, Some(guess));
    let reference = implied_vol_in(&market, price, i.strike, i.is_call);
    match (fast, reference) {
        (
            Ok(Solved {
                vol,
                price: p,
                greeks,
                solver,
            }),
            Ok(lbr),
        ) => {
            if informative(i) {
                assert!(
                    close(vol, lbr, AGREE),
                    "{i:?} from {guess}: {vol} vs LBR {lbr} ({solver:?})"
                );
                assert!(
                    close(vol, i.vol, 1e-9),
                    "{i:?} from {guess}: {vol} vs true {}",
                    i.vol
                );
            }
            let (model_price, model) = market.price_and_greeks(i.strike, vol, i.is_call);
            // Far out of the money a price moves ~20× as much as its volatility
            // (relative), so agreeing volatilities give prices agreeing to ~1e-11.
            assert!(
                close(p, model_price, 1e-10),
                "{i:?}: price {p} vs model {model_price}"
            );
            for (name, got, want) in [
                ("delta", greeks.delta, model.delta),
                ("gamma", greeks.gamma, model.gamma),
                ("theta", greeks.theta, model.theta),
                ("vega", greeks.vega, model.vega),
                ("rho", greeks.rho, model.rho),
            ] {
                assert!(
                    close(got, want, 1e-9),
                    "{i:?}: {name} {got} vs model {want}"
                );
            }
            Some(solver)
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{i:?}: the two paths refuse differently");
            None
        }
        (fast, lbr) => panic!("{i:?} from {guess}: warm start {fast:?}, LBR {lbr:?}"),
    }
}

fn grid() -> impl Iterator<Item = Inputs> {
    let strikes = [
        50.0, 70.0, 85.0, 95.0, 99.0, 100.0, 101.0, 105.0, 115.0, 130.0, 160.0, 200.0,
    ];
    let years = [
        0.5 / 365.0,
        2.0 / 365.0,
        7.0 / 365.0,
        30.0 / 365.0,
        0.5,
        2.0,
    ];
    let vols = [0.04, 0.1, 0.15, 0.3, 0.6, 1.2];
    strikes.into_iter().flat_map(move |strike| {
        years.into_iter().flat_map(move |years| {
            vols.into_iter().flat_map(move |vol| {
                [true, false].map(|is_call| Inputs {
                    forward: 100.0,
                    strike,
                    years,
                    vol,
                    rate: RATE,
                    is_call,
                })
            })
        })
    })
}

/// |d1| and |d2| at the true volatility: where the fast path may work at all.
fn max_abs_d(i: &Inputs) -> f64 {
    let s = i.vol * i.years.sqrt();
    let d1 = (i.forward / i.strike).ln() / s + 0.5 * s;
    d1.abs().max((d1 - s).abs())
}

#[test]
fn agrees_with_lets_be_rational_from_near_and_far_guesses() {
    let (mut warm, mut total) = (0, 0);
    for i in grid() {
        for factor in [1.0, 1.003, 0.98, 1.2, 0.7, 2.5, 0.2] {
            if check(&i, i.vol * factor) == Some(Solver::WarmStart) {
                warm += 1;
            }
            total += 1;
        }
    }
    // Far guesses and the far tails go to Let's Be Rational; the rest must not.
    assert!(
        warm * 2 > total,
        "the fast path answered only {warm} of {total}"
    );
}

#[test]
fn a_near_guess_takes_the_fast_path_wherever_it_is_precise() {
    for i in grid().filter(|i| max_abs_d(i) <= 0.8 * MAX_ABS_D && informative(i)) {
        for factor in [1.0, 1.01, 0.99, 1.05, 0.95] {
            assert_eq!(
                check(&i, i.vol * factor),
                Some(Solver::WarmStart),
                "{i:?} from {factor}×σ"
            );
        }
    }
}

#[test]
fn no_guess_or_a_useless_one_still_solves() {
    let i = Inputs {
        forward: 24_000.0,
        strike: 26_000.0,
        years: 3.0 / 365.0,
        vol: 0.14,
        rate: RATE,
        is_call: true,
    };
    let market = Market::new(i.forward, i.years, i.rate);
    let price = black76::price(&i);
    for guess in [
        None,
        Some(f64::NAN),
        Some(-0.2),
        Some(0.0),
        Some(f64::INFINITY),
        Some(40.0),
        Some(1e-9),
    ] {
        let solved = solve(&market, price, i.strike, i.is_call, guess);
        let vol = solved.map(|s| s.vol);
        assert!(
            vol.is_ok_and(|v| close(v, i.vol, 1e-9)),
            "guess {guess:?}: {vol:?}"
        );
    }
    let solved = solve(&market, price, i.strike, i.is_call, None).map(|s| s.solver);
    assert_eq!(solved, Ok(Solver::LetsBeRational));
}

#[test]
fn prices_outside_the_bounds_are_refused_as_lets_be_rational_refuses_them() {
    let market = Market::new(100.0, 0.25, RATE);
    let d = market.discount();
    for (price, strike, is_call) in [
        (0.0, 100.0, true),
        (f64::NAN, 100.0, true),
        (d * 10.0, 90.0, true),    // exactly intrinsic
        (d * 100.0, 90.0, true),   // the call's bound
        (d * 120.0, 120.0, false), // the put's bound
        (f64::INFINITY, 100.0, false),
    ] {
        let fast = solve(&market, price, strike, is_call, Some(0.2)).map(|s| s.vol);
        assert_eq!(
            fast,
            implied_vol_in(&market, price, strike, is_call),
            "{price} {strike} {is_call}"
        );
        assert!(fast.is_err());
    }
}

proptest! {
    #[test]
    fn random_contracts_and_guesses_agree(
        forward in 1_000.0..60_000.0f64,
        moneyness in -0.4..0.4f64,
        days in 0.2..400.0f64,
        vol in 0.03..1.5f64,
        is_call in any::<bool>(),
        guess_factor in 0.5..2.0f64,
    ) {
        let i = Inputs {
            forward,
            strike: forward * moneyness.exp(),
            years: days / 365.0,
            vol,
            rate: RATE,
            is_call,
        };
        check(&i, vol * guess_factor);
    }
}
