//! The per-strike distribution, the ATM strike and the empty chain.

use oi_analytics::OiOptions;

use crate::common::{call, chain, put, run};

#[test]
fn strikes_ascend_and_sides_line_up() {
    // Unsorted input; 95 has only a put, 105 only a call.
    let rows = [
        call(105.0, 30)
            .previous_oi(10)
            .volume(7)
            .model(0.11, 0.3, 0.002),
        put(95.0, 40)
            .previous_oi(50)
            .volume(3)
            .model(0.14, -0.2, 0.001),
        call(100.0, 20)
            .previous_oi(20)
            .volume(9)
            .model(0.12, 0.5, 0.004),
        put(100.0, 60)
            .previous_oi(0)
            .volume(1)
            .model(0.13, -0.5, 0.0041),
    ];
    let d = run(&chain(&rows, 100.0, 50), &OiOptions::default()).distribution;
    assert_eq!(d.strike, vec![95.0, 100.0, 105.0]);
    assert_eq!(d.call_oi, vec![0, 20, 30]);
    assert_eq!(d.put_oi, vec![40, 60, 0]);
    assert_eq!(d.call_oi_change, vec![0, 0, 20]);
    assert_eq!(d.put_oi_change, vec![-10, 60, 0]);
    assert_eq!(d.call_volume, vec![0, 9, 7]);
    assert_eq!(d.put_volume, vec![3, 1, 0]);
    assert_eq!(d.call_iv, vec![0.0, 0.12, 0.11]);
    assert_eq!(d.put_iv, vec![0.14, 0.13, 0.0]);
    assert_eq!(d.call_delta, vec![0.0, 0.5, 0.3]);
    assert_eq!(d.put_delta, vec![-0.2, -0.5, 0.0]);
    assert_eq!(d.call_gamma, vec![0.0, 0.004, 0.002]);
    assert_eq!(d.put_gamma, vec![0.001, 0.0041, 0.0]);
    assert_eq!(d.pain.len(), 3);
}

#[test]
fn non_finite_model_outputs_are_reported_as_zero() {
    let rows = [call(100.0, 1).model(f64::NAN, f64::INFINITY, f64::NEG_INFINITY)];
    let d = run(&chain(&rows, 100.0, 50), &OiOptions::default()).distribution;
    assert_eq!(
        (d.call_iv[0], d.call_delta[0], d.call_gamma[0]),
        (0.0, 0.0, 0.0)
    );
}

#[test]
fn atm_is_the_listed_strike_nearest_the_forward() {
    let rows = [call(95.0, 1), call(100.0, 1), call(105.0, 1)];
    assert_eq!(
        run(&chain(&rows, 101.0, 50), &OiOptions::default()).atm_strike,
        100.0
    );
    assert_eq!(
        run(&chain(&rows, 103.0, 50), &OiOptions::default()).atm_strike,
        105.0
    );
    // A tie takes the lower strike.
    assert_eq!(
        run(&chain(&rows, 102.5, 50), &OiOptions::default()).atm_strike,
        100.0
    );
    // Beyond the grid: the end strike.
    assert_eq!(
        run(&chain(&rows, 150.0, 50), &OiOptions::default()).atm_strike,
        105.0
    );
}

#[test]
fn empty_chain_is_an_empty_report() {
    let report = run(&chain(&[], 100.0, 50), &OiOptions::default());
    assert_eq!(report.atm_strike, 0.0);
    assert!(report.distribution.strike.is_empty() && report.distribution.pain.is_empty());
    assert!(report.gainers.row.is_empty() && report.losers.row.is_empty());
    assert!(report.buildup.is_empty());
    assert_eq!(report.max_pain, None);
    assert_eq!((report.pcr_oi, report.pcr_volume), (None, None));
    assert_eq!((report.support, report.resistance), (None, None));
    assert_eq!(report.total_call_oi + report.total_put_oi, 0);
}

#[test]
fn totals_saturate_instead_of_overflowing() {
    let rows = [call(100.0, u64::MAX), call(105.0, u64::MAX), put(100.0, 3)];
    let report = run(&chain(&rows, 100.0, 50), &OiOptions::default());
    assert_eq!(report.total_call_oi, u64::MAX);
    assert_eq!(report.total_put_oi, 3);
}
