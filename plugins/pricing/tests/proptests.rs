//! Property tests: arbitrary inputs never panic and never produce NaN or infinity where
//! the API promises a number, and random in-domain options round-trip through the
//! implied-volatility solver.

mod common;

use optionhub_pricing::black76::{self, Inputs};
use optionhub_pricing::implied::implied_vol;
use proptest::prelude::*;

/// Any f64 at all: NaN, ±∞, ±0, subnormals, huge and tiny values.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::num::f64::ANY,
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        -1e6..1e6_f64,
    ]
}

/// Plausible market values with the occasional special value mixed in.
fn market_f64(low: f64, high: f64) -> impl Strategy<Value = f64> {
    prop_oneof![8 => low..high, 1 => any_f64()]
}

proptest! {
    #[test]
    fn implied_vol_never_panics_and_ok_is_finite(
        price in any_f64(), forward in any_f64(), strike in any_f64(),
        years in any_f64(), rate in any_f64(), is_call in any::<bool>(),
    ) {
        if let Ok(vol) = implied_vol(price, forward, strike, years, rate, is_call) {
            prop_assert!(vol.is_finite() && vol > 0.0, "Ok({vol})");
        }
    }

    #[test]
    fn implied_vol_on_plausible_markets(
        price in market_f64(0.0, 3_000.0), forward in market_f64(1.0, 60_000.0),
        moneyness in 0.3..2.0_f64, years in market_f64(0.0, 3.0), rate in market_f64(-0.05, 0.3),
        is_call in any::<bool>(),
    ) {
        if let Ok(vol) = implied_vol(price, forward, forward * moneyness, years, rate, is_call) {
            prop_assert!(vol.is_finite() && vol > 0.0, "Ok({vol})");
        }
    }

    #[test]
    fn random_options_round_trip(
        forward in 0.01..1e6_f64, moneyness in 0.5..1.5_f64, days in 1.0..730.0_f64,
        vol in 0.05..1.5_f64, rate in -0.02..0.2_f64, is_call in any::<bool>(),
    ) {
        let i = Inputs { forward, strike: forward * moneyness, years: days / 365.0, vol, rate, is_call };
        let price = black76::price(&i);
        common::check_solution(&i, price, implied_vol(price, i.forward, i.strike, i.years, rate, is_call));
    }

    #[test]
    fn prices_and_greeks_are_finite_in_the_domain(
        forward in 1e-3..1e7_f64, moneyness in 0.05..20.0_f64, years in prop_oneof![Just(0.0), 0.0..10.0_f64],
        vol in prop_oneof![Just(0.0), 0.0..5.0_f64, 5.0..1e6_f64], rate in -0.1..0.3_f64, is_call in any::<bool>(),
    ) {
        let i = Inputs { forward, strike: forward * moneyness, years, vol, rate, is_call };
        let d = (-rate * years).exp();
        let price = black76::price(&i);
        let g = black76::greeks(&i);
        prop_assert!(price.is_finite() && g.is_finite(), "{i:?}: {price} {g:?}");
        let bound = d * if is_call { i.forward } else { i.strike };
        let floor = d * black76::intrinsic(is_call, i.forward, i.strike);
        // Bounds hold up to rounding of the discounted values.
        prop_assert!(price >= floor * (1.0 - 4.0 * f64::EPSILON) && price <= bound * (1.0 + 4.0 * f64::EPSILON), "{i:?}: {price}");
        let (limit_price, limit) = black76::zero_vol_limit(&i);
        prop_assert!(limit_price.is_finite() && limit.is_finite());
    }
}
