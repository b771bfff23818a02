//! Max pain (reference §4.6 vector and the tie rule) and put-call ratios.

use oi_analytics::OiOptions;

use crate::common::{call, chain, put, run};

/// maximum-pain.com's example (reference §4.6): strikes 95/100/105, put OI 21/33/5,
/// call OI 9/45/25, multiplier 100.
fn reference_chain(forward: f64) -> oi_analytics::PricedChain {
    chain(
        &[
            call(95.0, 9),
            call(100.0, 45),
            call(105.0, 25),
            put(95.0, 21),
            put(100.0, 33),
            put(105.0, 5),
        ],
        forward,
        100,
    )
}

#[test]
fn reference_pain_curve_and_max_pain() {
    let report = run(&reference_chain(100.0), &OiOptions::default());
    assert_eq!(report.distribution.strike, vec![95.0, 100.0, 105.0]);
    // Pain(95) = 100·(33·5 + 5·10); Pain(100) = 100·(9·5 + 5·5); Pain(105) = 100·(9·10 + 45·5).
    assert_eq!(report.distribution.pain, vec![21_500.0, 7_000.0, 31_500.0]);
    assert_eq!(report.max_pain, Some(100.0));
}

#[test]
fn max_pain_does_not_follow_the_forward() {
    // The minimum is strict, so the forward (used only to break ties) cannot move it.
    let report = run(&reference_chain(104.9), &OiOptions::default());
    assert_eq!(report.max_pain, Some(100.0));
}

#[test]
fn max_pain_tie_goes_to_the_strike_nearer_the_forward_then_lower() {
    // Call OI 1 at 100 and put OI 1 at 110: Pain(100) = 1·10 = Pain(110).
    let rows = [call(100.0, 1), put(110.0, 1)];
    let near_upper = run(&chain(&rows, 108.0, 1), &OiOptions::default());
    assert_eq!(near_upper.distribution.pain, vec![10.0, 10.0]);
    assert_eq!(near_upper.max_pain, Some(110.0));
    let near_lower = run(&chain(&rows, 102.0, 1), &OiOptions::default());
    assert_eq!(near_lower.max_pain, Some(100.0));
    let halfway = run(&chain(&rows, 105.0, 1), &OiOptions::default());
    assert_eq!(halfway.max_pain, Some(100.0));
}

#[test]
fn no_open_interest_means_no_max_pain() {
    let report = run(
        &chain(&[call(100.0, 0), put(100.0, 0)], 100.0, 50),
        &OiOptions::default(),
    );
    assert_eq!(report.max_pain, None);
    assert_eq!(report.distribution.pain, vec![0.0]);
}

#[test]
fn pcr_from_oi_and_volume_totals() {
    let rows = [
        call(100.0, 40).volume(40),
        put(100.0, 30).volume(4),
        put(95.0, 50).volume(6),
    ];
    let report = run(&chain(&rows, 100.0, 50), &OiOptions::default());
    assert_eq!(report.total_call_oi, 40);
    assert_eq!(report.total_put_oi, 80);
    assert_eq!(report.total_call_volume, 40);
    assert_eq!(report.total_put_volume, 10);
    assert_eq!(report.pcr_oi, Some(2.0));
    assert_eq!(report.pcr_volume, Some(0.25));
}

#[test]
fn pcr_is_none_when_the_call_side_is_zero() {
    // Calls listed but with no volume: volume PCR undefined, OI PCR defined.
    let rows = [call(100.0, 10), put(100.0, 5).volume(7)];
    let report = run(&chain(&rows, 100.0, 50), &OiOptions::default());
    assert_eq!(report.pcr_oi, Some(0.5));
    assert_eq!(report.pcr_volume, None);

    // No calls at all.
    let report = run(
        &chain(&[put(100.0, 5).volume(7)], 100.0, 50),
        &OiOptions::default(),
    );
    assert_eq!(report.pcr_oi, None);
    assert_eq!(report.pcr_volume, None);
}

#[test]
fn zero_put_side_gives_a_zero_ratio_not_none() {
    let report = run(
        &chain(&[call(100.0, 5).volume(3)], 100.0, 50),
        &OiOptions::default(),
    );
    assert_eq!(report.pcr_oi, Some(0.0));
    assert_eq!(report.pcr_volume, Some(0.0));
}
