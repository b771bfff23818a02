//! Implied volatility: the published vectors (reference §4.4), a round trip over a grid
//! of moneyness, expiry and volatility, and the edge cases of §4.4.

mod common;

use common::check_solution;
use optionhub_pricing::black76::{self, Inputs};
use optionhub_pricing::implied::{IvError, implied_vol, vol_condition_number};

fn solve(i: &Inputs, price: f64) -> Result<f64, IvError> {
    implied_vol(price, i.forward, i.strike, i.years, i.rate, i.is_call)
}

#[test]
fn implied_vol_crate_doc_vector() -> Result<(), IvError> {
    // Undiscounted call 20, F = 100, K = 90, T = 30 → 0.07011701801482094.
    let vol = implied_vol(20.0, 100.0, 90.0, 30.0, 0.0, true)?;
    assert!((vol - 0.070_117_018_014_820_94).abs() < 1e-15, "{vol}");
    let repriced = black76::price(&Inputs {
        forward: 100.0,
        strike: 90.0,
        years: 30.0,
        vol,
        rate: 0.0,
        is_call: true,
    });
    assert!((repriced - 20.0).abs() <= 20.0 * 5e-16, "{repriced}");
    // The same option discounted at 5 %: the price is the discounted one, σ unchanged.
    let discounted = 20.0 * (-0.05_f64 * 30.0).exp();
    let vol_r = implied_vol(discounted, 100.0, 90.0, 30.0, 0.05, true)?;
    assert!((vol_r - 0.070_117_018_014_820_94).abs() < 1e-14, "{vol_r}");
    Ok(())
}

#[test]
fn published_prices_give_back_their_volatility() -> Result<(), IvError> {
    // (F, K, T, r, call, published full-precision price, σ), reference §4.1, §4.3, §4.5.
    let rows = [
        (
            20.0,
            20.0,
            4.0 / 12.0,
            0.09,
            false,
            1.116_641_456_558_94,
            0.25,
        ),
        (100.0, 100.0, 0.5, 0.02, true, 5.581_106_724_604_81, 0.2),
        (
            25_000.0,
            25_000.0,
            7.0 / 365.0,
            0.065,
            true,
            165.534_122_207,
            0.12,
        ),
        (
            25_000.0,
            24_500.0,
            7.0 / 365.0,
            0.065,
            false,
            36.831_580_312,
            0.14,
        ),
        (
            55_000.0,
            56_000.0,
            21.0 / 365.0,
            0.065,
            true,
            392.958_365_62,
            0.15,
        ),
    ];
    for (f, k, t, r, is_call, price, vol) in rows {
        let got = implied_vol(price, f, k, t, r, is_call)?;
        // The published prices are rounded (to 1e-14 .. 1e-9 relative); allow for it.
        assert!((got - vol).abs() < 1e-8, "{f}/{k}: {got} vs {vol}");
    }
    Ok(())
}

/// Round trip over K/F 0.5–1.5, T 1 day–2 years, σ 5 %–150 %, calls and puts, two
/// forward levels and two rates. Every point asserts: informative prices must give σ
/// back to 1e-9 relative, the others the documented fallback (see `common`).
#[test]
fn round_trip_grid() {
    for forward in [1.0, 25_000.0] {
        for rate in [0.0, 0.065] {
            for step in 0..=40 {
                let strike = forward * (0.5 + 0.025 * f64::from(step));
                for days in [1.0, 2.0, 7.0, 30.0, 91.0, 182.0, 365.0, 730.0] {
                    for vol in [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5] {
                        for is_call in [true, false] {
                            let i = Inputs {
                                forward,
                                strike,
                                years: days / 365.0,
                                vol,
                                rate,
                                is_call,
                            };
                            let price = black76::price(&i);
                            check_solution(&i, price, solve(&i, price));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn near_the_money_is_always_informative() {
    // Guards the criterion against silently classifying everything as uninformative.
    for days in [1.0, 30.0, 730.0] {
        for vol in [0.05, 0.5, 1.5] {
            for is_call in [true, false] {
                let i = Inputs {
                    forward: 25_000.0,
                    strike: 25_050.0,
                    years: days / 365.0,
                    vol,
                    rate: 0.065,
                    is_call,
                };
                assert!(
                    common::informative(&i),
                    "{i:?} κ = {}",
                    vol_condition_number(&i)
                );
            }
        }
    }
}

#[test]
fn deep_in_the_money_with_no_time_value_is_below_intrinsic() {
    // K/F = 0.5, one day, 5 %: the call's time value underflows; its price is D·(F − K).
    let i = Inputs {
        forward: 100.0,
        strike: 50.0,
        years: 1.0 / 365.0,
        vol: 0.05,
        rate: 0.065,
        is_call: true,
    };
    let price = black76::price(&i);
    assert!(!common::informative(&i));
    assert_eq!(solve(&i, price), Err(IvError::BelowIntrinsic));
}

#[test]
fn prices_outside_the_bounds() {
    let (f, k, t, r) = (100.0, 90.0, 0.5, 0.05_f64);
    let d = (-r * t).exp();
    // Below and exactly at the discounted intrinsic value.
    assert_eq!(
        implied_vol(d * 10.0 - 0.01, f, k, t, r, true),
        Err(IvError::BelowIntrinsic)
    );
    assert_eq!(
        implied_vol(d * 10.0, f, k, t, r, true),
        Err(IvError::BelowIntrinsic)
    );
    assert_eq!(
        implied_vol(d * 10.0 + 1e-3, f, k, t, r, true).map(|v| v > 0.0),
        Ok(true)
    );
    // OTM put has intrinsic 0: any positive price is above it.
    assert_eq!(
        implied_vol(1e-3, f, k, t, r, false).map(|v| v > 0.0),
        Ok(true)
    );
    // At and above the bound: call ≥ D·F, put ≥ D·K.
    assert_eq!(
        implied_vol(d * f, f, k, t, r, true),
        Err(IvError::AboveBound)
    );
    assert_eq!(
        implied_vol(d * f * 1.01, f, k, t, r, true),
        Err(IvError::AboveBound)
    );
    assert_eq!(
        implied_vol(d * k, f, k, t, r, false),
        Err(IvError::AboveBound)
    );
    assert_eq!(
        implied_vol(f64::INFINITY, f, k, t, r, false),
        Err(IvError::AboveBound)
    );
    // Just below the bound is solvable, at a large volatility.
    assert!(
        implied_vol(d * f * (1.0 - 1e-6), f, k, t, r, true).is_ok_and(|v| v > 3.0 && v.is_finite())
    );
}

#[test]
fn missing_prices_and_bad_inputs() {
    for price in [0.0, -1.0, -0.0, f64::NAN, f64::NEG_INFINITY] {
        assert_eq!(
            implied_vol(price, 100.0, 100.0, 0.5, 0.05, true),
            Err(IvError::NoPrice),
            "{price}"
        );
    }
    let bad = [
        (f64::NAN, 100.0, 0.5, 0.05),
        (0.0, 100.0, 0.5, 0.05),
        (-100.0, 100.0, 0.5, 0.05),
        (f64::INFINITY, 100.0, 0.5, 0.05),
        (100.0, 0.0, 0.5, 0.05),
        (100.0, f64::NAN, 0.5, 0.05),
        (100.0, 100.0, 0.0, 0.05),
        (100.0, 100.0, -0.5, 0.05),
        (100.0, 100.0, f64::INFINITY, 0.05),
        (100.0, 100.0, 0.5, f64::NAN),
        (100.0, 100.0, 0.5, f64::INFINITY),
        (100.0, 100.0, 1.0, -1e6), // e^{−rT} overflows
    ];
    for (f, k, t, r) in bad {
        assert_eq!(
            implied_vol(5.0, f, k, t, r, true),
            Err(IvError::NotSolvable),
            "F {f} K {k} T {t} r {r}"
        );
    }
}

#[test]
fn tiny_expiry_and_one_tick_premiums() {
    // One minute to expiry (the time floor), NIFTY at 25000.
    let t = 60.0 / (365.0 * 86_400.0);
    // ATM, a few rupees: solvable, and prices back.
    let vol = implied_vol(3.0, 25_000.0, 25_000.0, t, 0.065, true);
    assert!(vol.is_ok_and(|v| v.is_finite() && v > 0.0), "{vol:?}");
    // One tick (₹0.05) 200 points out of the money with a minute left: that needs an
    // absurd but finite volatility, never a NaN.
    let otm = implied_vol(0.05, 25_000.0, 25_200.0, t, 0.065, true);
    assert!(otm.is_ok_and(|v| v.is_finite() && v > 1.0), "{otm:?}");
    // One tick on a deep in-the-money put whose intrinsic value is 200 (+0.05 over
    // D·intrinsic): solvable; an in-the-money price below D·intrinsic is not.
    let d = (-0.065 * t).exp();
    assert!(implied_vol(d * 200.0 + 0.05, 25_000.0, 25_200.0, t, 0.065, false).is_ok());
    assert_eq!(
        implied_vol(d * 200.0 - 0.05, 25_000.0, 25_200.0, t, 0.065, false),
        Err(IvError::BelowIntrinsic)
    );
}
