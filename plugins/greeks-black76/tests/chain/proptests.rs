//! Random chains, sane and absurd: `compute` never panics, refuses only with
//! `InvalidInput`, and every number it returns is finite.

use greeks_black76::compute;
use optionhub_pricing::chain::{ChainSnapshot, ContractColumns, Date, IvStatus, PluginError};
use proptest::prelude::*;

use crate::common::{CLOSE_MS, DAY_MS, assert_all_finite};

/// Mostly plausible values in `low..high`, sometimes anything at all.
fn value(low: f64, high: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => low..high,
        1 => Just(0.0),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-1.0), Just(1e300), Just(5e-324)],
        1 => proptest::num::f64::ANY,
    ]
}

prop_compose! {
    fn row()(
        strike in prop_oneof![20 => (400..600_u32).prop_map(|k| f64::from(k) * 50.0), 1 => value(1.0, 1e5)],
        is_call in any::<bool>(),
        bid in value(0.0, 2_000.0), ask in value(0.0, 2_000.0), last in value(0.0, 2_000.0),
    ) -> (f64, bool, f64, f64, f64) {
        (strike, is_call, bid, ask, last)
    }
}

prop_compose! {
    fn random_chain()(
        rows in proptest::collection::vec(row(), 0..40),
        spot in value(20_000.0, 30_000.0),
        forward in proptest::option::of(value(20_000.0, 30_000.0)),
        rate in prop_oneof![5 => -0.02..0.15_f64, 1 => value(-2.0, 2.0)],
        day in prop_oneof![10 => Just(30_u8), 1 => 0..40_u8],
        as_of_offset in prop_oneof![5 => -60 * DAY_MS..DAY_MS, 1 => -120_000_i64..120_000, 1 => any::<i64>()],
    ) -> ChainSnapshot {
        let n = rows.len();
        ChainSnapshot {
            underlying: "NIFTY".into(),
            spot,
            forward,
            expiry: Date { year: 2025, month: 9, day },
            as_of_ms: CLOSE_MS.saturating_add(as_of_offset),
            lot_size: 75,
            rate,
            contracts: ContractColumns {
                security_id: (0..n as u64).collect(),
                strike: rows.iter().map(|r| r.0).collect(),
                is_call: rows.iter().map(|r| r.1).collect(),
                bid: rows.iter().map(|r| r.2).collect(),
                ask: rows.iter().map(|r| r.3).collect(),
                last_price: rows.iter().map(|r| r.4).collect(),
                volume: vec![0; n],
                oi: vec![0; n],
                previous_oi: vec![0; n],
                previous_close: vec![0.0; n],
                previous_volume: vec![0; n],
            },
        }
    }
}

proptest! {
    #[test]
    fn random_chains_give_finite_answers_or_invalid_input(chain in random_chain()) {
        match compute(&chain) {
            Ok(result) => {
                assert_all_finite(&result, chain.contracts.len());
                let g = &result.greeks;
                for row in 0..g.status.len() {
                    let solved = g.status[row] == IvStatus::Solved;
                    prop_assert!(if solved { g.iv[row] > 0.0 } else { g.iv[row] == 0.0 }, "row {row}: {:?}", g.status[row]);
                    prop_assert!(g.delta[row].abs() <= 1.0 + 1e-12 || chain.rate < 0.0, "row {row}: delta {}", g.delta[row]);
                }
            }
            Err(PluginError::InvalidInput(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

prop_compose! {
    /// Chains that satisfy the contract: listed strikes, sane rate, a live expiry.
    fn valid_chain()(
        rows in proptest::collection::vec((
            (400..600_u32).prop_map(|k| f64::from(k) * 50.0),
            any::<bool>(),
            value(0.0, 2_000.0),
            value(0.0, 2_000.0),
            value(0.0, 2_000.0),
        ), 0..60),
        spot in 20_000.0..30_000.0_f64,
        forward in proptest::option::of(value(20_000.0, 30_000.0)),
        rate in -0.02..0.15_f64,
        before_close_ms in 1..60 * DAY_MS,
    ) -> ChainSnapshot {
        let mut chain = crate::common::chain(forward, spot, rate, CLOSE_MS - before_close_ms, &[]);
        let c = &mut chain.contracts;
        for (row, (strike, is_call, bid, ask, last)) in rows.into_iter().enumerate() {
            c.security_id.push(row as u64);
            c.strike.push(strike);
            c.is_call.push(is_call);
            c.bid.push(bid);
            c.ask.push(ask);
            c.last_price.push(last);
            c.volume.push(0);
            c.oi.push(0);
            c.previous_oi.push(0);
            c.previous_close.push(0.0);
            c.previous_volume.push(0);
        }
        chain
    }
}

proptest! {
    #[test]
    fn valid_chains_are_always_answered(chain in valid_chain()) {
        let result = compute(&chain);
        prop_assert!(result.is_ok(), "{result:?}");
        if let Ok(result) = result {
            assert_all_finite(&result, chain.contracts.len());
            prop_assert!(result.time_to_expiry > 0.0);
        }
    }
}
