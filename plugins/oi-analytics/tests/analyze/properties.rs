//! Property test: random chains, including hostile values (NaN prices and Greeks, OI
//! near `u64::MAX`), never panic and always give internally consistent reports.

use oi_analytics::{OiOptions, analyze};
use proptest::prelude::*;

use crate::common::{Row, call, chain, put};

fn price() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.05..2_000.0f64, Just(f64::NAN), Just(-1.0)]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0..100_000u64, 1 => any::<u64>()]
}

fn model_value() -> impl Strategy<Value = f64> {
    prop_oneof![4 => -2.0..2.0f64, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY)]
}

prop_compose! {
    fn row()(
        step in 0..25u32,
        is_call in any::<bool>(),
        (oi, previous_oi, volume) in (count(), count(), count()),
        (previous_close, last_price) in (price(), price()),
        (iv, delta, gamma) in (model_value(), model_value(), model_value()),
        security_id in 0..50u64,
    ) -> Row {
        let strike = 24_000.0 + 50.0 * f64::from(step);
        let side = if is_call { call(strike, oi) } else { put(strike, oi) };
        side.previous_oi(previous_oi)
            .volume(volume)
            .prices(previous_close, last_price)
            .model(iv, delta, gamma)
            .id(security_id)
    }
}

prop_compose! {
    fn options()(
        top_n in 0..12u32,
        sr_window in 0..6u32,
        oi_dead_band in 0.0..0.2f64,
        price_dead_band in 0.0..1.0f64,
    ) -> OiOptions {
        OiOptions { top_n, sr_window, oi_dead_band, price_dead_band }
    }
}

proptest! {
    #[test]
    fn random_chains_give_consistent_reports(
        rows in prop::collection::vec(row(), 0..60),
        forward in 23_000.0..26_000.0f64,
        lot_size in 0..100u32,
        options in options(),
    ) {
        let input = chain(&rows, forward, lot_size);
        let report = analyze(&input, &options);
        prop_assert!(report.is_ok(), "{report:?}");
        let Ok(report) = report else { return Ok(()) };

        let d = &report.distribution;
        let k = d.strike.len();
        prop_assert!(d.strike.windows(2).all(|w| w[0] < w[1]));
        let mut distinct: Vec<f64> = rows.iter().map(|r| r.strike).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        prop_assert_eq!(&d.strike, &distinct);
        for len in [
            d.call_oi.len(), d.put_oi.len(), d.call_oi_change.len(), d.put_oi_change.len(),
            d.call_volume.len(), d.put_volume.len(), d.call_iv.len(), d.put_iv.len(),
            d.call_delta.len(), d.put_delta.len(), d.call_gamma.len(), d.put_gamma.len(),
            d.pain.len(),
        ] {
            prop_assert_eq!(len, k);
        }
        for x in d.call_iv.iter().chain(&d.put_iv).chain(&d.call_delta).chain(&d.put_delta)
            .chain(&d.call_gamma).chain(&d.put_gamma)
        {
            prop_assert!(x.is_finite());
        }
        prop_assert!(d.pain.iter().all(|p| p.is_finite() && *p >= 0.0));
        prop_assert_eq!(report.buildup.len(), rows.len());

        let in_grid = |x: Option<f64>| x.is_none_or(|x| d.strike.contains(&x));
        prop_assert!(in_grid(report.max_pain) && in_grid(report.support) && in_grid(report.resistance));
        if k > 0 {
            prop_assert!(d.strike.contains(&report.atm_strike));
        }
        if let Some(mp) = report.max_pain {
            let at = d.pain[d.strike.iter().position(|&s| s == mp).unwrap_or(0)];
            prop_assert!(d.pain.iter().all(|&p| at <= p * (1.0 + 1e-9)));
        }
        for pcr in [report.pcr_oi, report.pcr_volume].into_iter().flatten() {
            prop_assert!(pcr.is_finite() && pcr >= 0.0);
        }

        for (movers, gainers) in [(&report.gainers, true), (&report.losers, false)] {
            let len = movers.row.len();
            prop_assert!(len <= options.top_n as usize);
            for other in [
                movers.security_id.len(), movers.strike.len(), movers.is_call.len(),
                movers.oi.len(), movers.oi_change.len(), movers.oi_change_pct.len(),
                movers.price_change.len(), movers.buildup.len(),
            ] {
                prop_assert_eq!(other, len);
            }
            prop_assert!(movers.row.iter().all(|&r| (r as usize) < rows.len()));
            let right_sign = |c: i64| if gainers { c > 0 } else { c < 0 };
            let ranked = |w: &[i64]| if gainers { w[0] >= w[1] } else { w[0] <= w[1] };
            prop_assert!(movers.oi_change.iter().all(|&c| right_sign(c)), "{:?}", movers.oi_change);
            prop_assert!(movers.oi_change.windows(2).all(ranked), "{:?}", movers.oi_change);
            prop_assert!(movers.oi_change_pct.iter().chain(&movers.price_change).all(|x| x.is_finite()));
        }
    }
}
