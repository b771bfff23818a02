//! Black-76 invariants that need no published numbers: put-call parity, the Greeks as
//! finite differences of the price (the QuantLib `testGreeks` pattern, reference §4.2),
//! the display units, no-arbitrage bounds, and the σ√T → 0 limits.

use optionhub_pricing::black76::{self, Greeks, Inputs};

fn inputs(forward: f64, strike: f64, years: f64, vol: f64, rate: f64, is_call: bool) -> Inputs {
    Inputs {
        forward,
        strike,
        years,
        vol,
        rate,
        is_call,
    }
}

/// The QuantLib greeks grid, on a forward of 100.
fn grid() -> impl Iterator<Item = Inputs> {
    let mut out = Vec::new();
    for strike in [50.0, 99.5, 100.0, 100.5, 150.0] {
        for rate in [0.01, 0.05, 0.15] {
            for years in [1.0, 2.0] {
                for vol in [0.11, 0.5, 1.2] {
                    for is_call in [true, false] {
                        out.push(inputs(100.0, strike, years, vol, rate, is_call));
                    }
                }
            }
        }
    }
    out.into_iter()
}

#[track_caller]
fn assert_rel(what: &str, i: &Inputs, analytic: f64, numeric: f64, tol: f64, floor: f64) {
    let err = (analytic - numeric).abs() / analytic.abs().max(floor);
    assert!(
        err <= tol,
        "{what} {i:?}: analytic {analytic:e}, finite difference {numeric:e} (rel {err:e})"
    );
}

#[test]
fn put_call_parity() {
    for i in grid() {
        let call = black76::price(&Inputs { is_call: true, ..i });
        let put = black76::price(&Inputs {
            is_call: false,
            ..i
        });
        let d = (-i.rate * i.years).exp();
        assert!(
            (call - put - d * (i.forward - i.strike)).abs() < 1e-12 * i.forward,
            "{i:?}"
        );
        // Forward deltas differ by exactly D, gammas and vegas agree.
        let (gc, gp) = (
            black76::greeks_annual(&Inputs { is_call: true, ..i }),
            black76::greeks_annual(&Inputs {
                is_call: false,
                ..i
            }),
        );
        assert!((gc.delta - gp.delta - d).abs() < 1e-14, "{i:?}");
        assert!(
            (gc.gamma - gp.gamma).abs() < 1e-15 && (gc.vega - gp.vega).abs() < 1e-12,
            "{i:?}"
        );
    }
}

#[test]
fn annual_greeks_are_derivatives_of_the_price() {
    let p = |i: Inputs| black76::price(&i);
    for i in grid() {
        let g = black76::greeks_annual(&i);
        let hf = 1e-5 * i.forward;
        let delta = (p(Inputs {
            forward: i.forward + hf,
            ..i
        }) - p(Inputs {
            forward: i.forward - hf,
            ..i
        })) / (2.0 * hf);
        assert_rel("delta", &i, g.delta, delta, 1e-6, 1e-3);
        let hg = 1e-4 * i.forward;
        let gamma = (p(Inputs {
            forward: i.forward + hg,
            ..i
        }) - 2.0 * p(i)
            + p(Inputs {
                forward: i.forward - hg,
                ..i
            }))
            / (hg * hg);
        assert_rel("gamma", &i, g.gamma, gamma, 1e-5, 1e-4);
        let hv = 1e-5;
        let vega = (p(Inputs {
            vol: i.vol + hv,
            ..i
        }) - p(Inputs {
            vol: i.vol - hv,
            ..i
        })) / (2.0 * hv);
        assert_rel("vega", &i, g.vega, vega, 1e-6, 1e-2);
        // Theta is −∂V/∂T with F held fixed.
        let ht = 1e-5;
        let theta = -(p(Inputs {
            years: i.years + ht,
            ..i
        }) - p(Inputs {
            years: i.years - ht,
            ..i
        })) / (2.0 * ht);
        assert_rel("theta", &i, g.theta, theta, 1e-6, 1e-2);
        let hr = 1e-5;
        let rho = (p(Inputs {
            rate: i.rate + hr,
            ..i
        }) - p(Inputs {
            rate: i.rate - hr,
            ..i
        })) / (2.0 * hr);
        assert_rel("rho", &i, g.rho, rho, 1e-6, 1e-2);
    }
}

#[test]
fn display_units_are_per_day_and_per_point() {
    let p = |i: Inputs| black76::price(&i);
    for i in grid() {
        let g = black76::greeks(&i);
        let a = black76::greeks_annual(&i);
        assert!(g.delta == a.delta && g.gamma == a.gamma, "{i:?}");
        // Unit mistakes are factors of 100 or 365; 1 % leaves room for the convexity a
        // one-point or one-day difference carries far out of the money.
        // One vol point: V(σ + ½pt) − V(σ − ½pt).
        let vega_pt = p(Inputs {
            vol: i.vol + 0.005,
            ..i
        }) - p(Inputs {
            vol: i.vol - 0.005,
            ..i
        });
        assert_rel("vega per point", &i, g.vega, vega_pt, 1e-2, 1e-2);
        // One calendar day of decay, centred.
        let day = 1.0 / 365.0;
        let theta_day = p(Inputs {
            years: i.years - 0.5 * day,
            ..i
        }) - p(Inputs {
            years: i.years + 0.5 * day,
            ..i
        });
        assert_rel("theta per day", &i, g.theta, theta_day, 1e-2, 1e-2);
        // One percent of rate.
        let rho_pct = p(Inputs {
            rate: i.rate + 0.005,
            ..i
        }) - p(Inputs {
            rate: i.rate - 0.005,
            ..i
        });
        assert_rel("rho per 1%", &i, g.rho, rho_pct, 1e-2, 1e-2);
    }
}

#[test]
fn no_arbitrage_bounds_and_monotonicity() {
    for i in grid() {
        let d = (-i.rate * i.years).exp();
        let price = black76::price(&i);
        let bound = d * if i.is_call { i.forward } else { i.strike };
        assert!(
            price >= d * black76::intrinsic(i.is_call, i.forward, i.strike) && price < bound,
            "{i:?}"
        );
        assert!(
            black76::price(&Inputs {
                vol: i.vol * 1.01,
                ..i
            }) > price,
            "{i:?}"
        );
        let g = black76::greeks(&i);
        let delta_range = if i.is_call { 0.0..=d } else { -d..=0.0 };
        assert!(
            delta_range.contains(&g.delta) && g.gamma > 0.0 && g.vega > 0.0,
            "{i:?}"
        );
    }
}

#[test]
fn zero_volatility_and_zero_time_limits() {
    let (f, r, t) = (100.0, 0.05_f64, 0.5);
    let d = (-r * t).exp();
    // (strike, call, intrinsic value, undiscounted delta of the limit)
    let cases = [
        (90.0, true, 10.0, 1.0),
        (110.0, true, 0.0, 0.0),
        (100.0, true, 0.0, 0.5),
        (110.0, false, 10.0, -1.0),
        (90.0, false, 0.0, 0.0),
        (100.0, false, 0.0, -0.5),
    ];
    for (k, is_call, intrinsic, unit_delta) in cases {
        let (price, delta) = (d * intrinsic, d * unit_delta);
        let expected = Greeks {
            delta,
            gamma: 0.0,
            theta: r * price / 365.0,
            vega: 0.0,
            rho: -t * price / 100.0,
        };
        let at_zero_vol = inputs(f, k, t, 0.0, r, is_call);
        assert_eq!(black76::price(&at_zero_vol), price, "K {k}");
        assert_eq!(black76::greeks(&at_zero_vol), expected, "K {k}");
        assert_eq!(
            black76::zero_vol_limit(&inputs(f, k, t, 0.3, r, is_call)),
            (price, expected),
            "K {k}"
        );
        // Zero time: D = 1 and rho 0; same shape.
        let at_expiry = inputs(f, k, 0.0, 0.3, r, is_call);
        let g0 = black76::greeks(&at_expiry);
        assert_eq!(black76::price(&at_expiry), intrinsic, "K {k}");
        assert_eq!(g0.delta, unit_delta, "K {k}");
        assert!(
            g0.gamma == 0.0 && g0.vega == 0.0 && g0.rho == 0.0 && g0.theta == r * intrinsic / 365.0,
            "K {k}"
        );
        // Tiny but positive σ off the money approaches the limit.
        if k != f {
            let near = inputs(f, k, t, 1e-4, r, is_call);
            assert!((black76::price(&near) - price).abs() < 1e-12, "K {k}");
            assert!(
                (black76::greeks(&near).delta - delta).abs() < 1e-12,
                "K {k}"
            );
        }
    }
}

#[test]
fn vanishing_total_volatility_at_the_money_stays_finite() {
    for vol in [1e-12, 1e-200, 1e-300, f64::MIN_POSITIVE, 5e-324] {
        for is_call in [true, false] {
            let i = inputs(25_000.0, 25_000.0, 1e-6, vol, 0.065, is_call);
            let (price, g) = (black76::price(&i), black76::greeks(&i));
            assert!(
                price.is_finite() && price >= 0.0 && g.is_finite(),
                "σ {vol}: {price} {g:?}"
            );
        }
    }
}

#[test]
fn huge_volatility_reaches_the_upper_bound() {
    let i = inputs(100.0, 90.0, 1.0, 1e6, 0.05, true);
    let d = (-0.05_f64).exp();
    assert!((black76::price(&i) - d * 100.0).abs() < 1e-12);
    assert!(black76::greeks(&i).is_finite());
}

#[test]
fn outside_the_domain_is_nan_not_a_guess() {
    let bad = [
        inputs(-1.0, 100.0, 1.0, 0.2, 0.05, true),
        inputs(0.0, 100.0, 1.0, 0.2, 0.05, true),
        inputs(100.0, f64::NAN, 1.0, 0.2, 0.05, true),
        inputs(100.0, 100.0, -1.0, 0.2, 0.05, true),
        inputs(100.0, 100.0, 1.0, -0.2, 0.05, true),
        inputs(100.0, 100.0, 1.0, f64::INFINITY, 0.05, true),
        inputs(100.0, 100.0, 1.0, 0.2, f64::NAN, true),
    ];
    for i in bad {
        assert!(black76::price(&i).is_nan(), "{i:?}");
        assert!(black76::greeks(&i).delta.is_nan(), "{i:?}");
    }
    assert!(black76::zero_vol_limit(&bad[0]).0.is_nan());
}

#[test]
fn intrinsic_value() {
    assert_eq!(black76::intrinsic(true, 110.0, 100.0), 10.0);
    assert_eq!(black76::intrinsic(true, 90.0, 100.0), 0.0);
    assert_eq!(black76::intrinsic(false, 90.0, 100.0), 10.0);
    assert_eq!(black76::intrinsic(false, 110.0, 100.0), 0.0);
    assert!(black76::intrinsic(true, f64::NAN, 100.0).is_nan());
    assert!(black76::intrinsic(false, 100.0, f64::NAN).is_nan());
}
