//! Property test: random valid requests (any mix of kinds, sides, expiries, including
//! expired legs, zero IVs and zero quantities) never panic, never fail, and never put a
//! NaN or infinity in the result.

use proptest::prelude::*;
use strategy_valuation::{Extremum, LegKind, ScenarioColumns, ValuationRequest, evaluate};

use crate::common::{Leg, request};

prop_compose! {
    fn leg()(
        kind in prop_oneof![Just(LegKind::Call), Just(LegKind::Put), Just(LegKind::Future)],
        strike in 15_000.0..35_000.0f64,
        is_buy in any::<bool>(),
        lots in 0..5u32,
        lot_size in 1..100u32,
        entry in 0.0..2_000.0f64,
        market in 0.0..2_000.0f64,
        forward in 20_000.0..30_000.0f64,
        iv in prop_oneof![Just(0.0), 0.01..1.5f64],
        years in prop_oneof![Just(0.0), 1e-6..1.0f64, Just(7.0 / 365.0)],
    ) -> Leg {
        Leg { kind, strike, is_buy, lots, lot_size, entry, market, forward, iv, years }
    }
}

prop_compose! {
    fn scenarios()(rows in prop::collection::vec((-100.0..100.0f64, -50.0..50.0f64, 0.0..400.0f64), 0..4))
        -> ScenarioColumns
    {
        ScenarioColumns {
            spot_shift_pct: rows.iter().map(|r| r.0).collect(),
            iv_shift_points: rows.iter().map(|r| r.1).collect(),
            days_forward: rows.iter().map(|r| r.2).collect(),
        }
    }
}

prop_compose! {
    fn valid_request()(
        legs in prop::collection::vec(leg(), 1..6),
        spot in 20_000.0..30_000.0f64,
        rate in -0.02..0.15f64,
        range_pct in 0.0..=100.0f64,
        points in 2..400u32,
        target_years in 0.0..2.0f64,
        pop_volatility in prop::option::of(0.01..1.5f64),
        scenarios in scenarios(),
    ) -> ValuationRequest {
        ValuationRequest { spot, rate, range_pct, points, target_years, pop_volatility, scenarios, ..request(&legs) }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_valid_requests_give_finite_results(req in valid_request()) {
        let result = evaluate(&req);
        prop_assert!(result.is_ok(), "{result:?}");
        let Ok(r) = result else { return Ok(()) };

        let n = req.points as usize;
        prop_assert_eq!(r.curve_spot.len(), n);
        prop_assert_eq!(r.payoff_at_expiry.len(), n);
        prop_assert_eq!(r.payoff_at_target.len(), n);
        prop_assert_eq!(r.leg_mtm.len(), req.legs.len());
        prop_assert_eq!(r.scenarios.pnl.len(), req.scenarios.spot_shift_pct.len());
        prop_assert_eq!(r.scenarios.vega.len(), req.scenarios.spot_shift_pct.len());

        let g = r.greeks;
        let mut all: Vec<f64> = vec![r.total_mtm, r.net_premium, r.probability_of_profit, g.delta, g.gamma, g.theta, g.vega, g.rho];
        for e in [r.max_profit, r.max_loss] {
            if let Extremum::Limited(x) = e {
                all.push(x);
            }
        }
        for column in [
            &r.leg_mtm, &r.curve_spot, &r.payoff_at_expiry, &r.payoff_at_target, &r.breakevens,
            &r.scenarios.pnl, &r.scenarios.delta, &r.scenarios.gamma, &r.scenarios.theta, &r.scenarios.vega,
        ] {
            all.extend_from_slice(column);
        }
        prop_assert!(all.iter().all(|x| x.is_finite()), "{r:?}");

        prop_assert!((0.0..=1.0).contains(&r.probability_of_profit));
        prop_assert!(r.breakevens.windows(2).all(|w| w[0] <= w[1]), "{:?}", r.breakevens);
        prop_assert!(r.breakevens.iter().all(|&b| b >= 0.0));
        prop_assert!(r.curve_spot.windows(2).all(|w| w[0] <= w[1]));
        // With one expiry the extremes are exact: the curve stays within them.
        if req.legs.time_to_expiry.iter().all(|&t| t == req.legs.time_to_expiry[0]) {
            if let Extremum::Limited(max_profit) = r.max_profit {
                let tol = 1e-6 * (1.0 + max_profit.abs());
                prop_assert!(r.payoff_at_expiry.iter().all(|&p| p <= max_profit + tol));
            }
            if let Extremum::Limited(max_loss) = r.max_loss {
                let tol = 1e-6 * (1.0 + max_loss.abs());
                prop_assert!(r.payoff_at_expiry.iter().all(|&p| p >= -max_loss - tol));
            }
        }
    }
}
