//! Tests of the synthetic forward, the ATM strike and the strike grid.

use super::{atm_strike, distinct_strikes, synthetic_forward};
use crate::black76::{Inputs, price};
use crate::chain::ContractColumns;

/// A chain of (strike, is_call, bid, ask, last) rows; other columns are zero.
fn columns(rows: &[(f64, bool, f64, f64, f64)]) -> ContractColumns {
    let n = rows.len();
    ContractColumns {
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
    }
}

/// A row quoted at exactly `mid` (bid and ask symmetric around it).
fn quoted(strike: f64, is_call: bool, mid: f64) -> (f64, bool, f64, f64, f64) {
    (strike, is_call, mid - 0.25 * mid, mid + 0.25 * mid, 0.0)
}

#[test]
fn recovers_the_true_forward_from_black76_prices() {
    let (forward, rate, years) = (25_137.25, 0.065, 9.0 / 365.0);
    let mut rows = Vec::new();
    // Scrambled strike order, calls and puts interleaved differently.
    for i in [7, 2, 11, 0, 5, 9, 1, 3, 10, 4, 8, 6] {
        let strike = 24_800.0 + 50.0 * f64::from(i);
        for is_call in if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        } {
            let p = price(&Inputs {
                forward,
                strike,
                years,
                vol: 0.13,
                rate,
                is_call,
            });
            rows.push((strike, is_call, 0.0, 0.0, p)); // LTP only: no bid/ask
        }
    }
    let got = synthetic_forward(&columns(&rows), rate, years);
    assert!(
        got.is_some_and(|f| (f - forward).abs() < 1e-8),
        "{got:?} != {forward}"
    );
}

#[test]
fn uses_the_strike_with_the_smallest_call_put_gap() {
    // r = 0, T = 0: F = K* + C − P. Gaps: 100 → 5, 105 → 0.5, 110 → 4.2.
    let rows = [
        quoted(100.0, true, 6.0),
        quoted(100.0, false, 1.0),
        quoted(105.0, true, 3.0),
        quoted(105.0, false, 2.5),
        quoted(110.0, true, 1.0),
        quoted(110.0, false, 5.2),
    ];
    assert_eq!(synthetic_forward(&columns(&rows), 0.0, 0.0), Some(105.5));
    // With carry the gap is grown by e^{rT}.
    let growth = (0.1_f64 * 0.5).exp();
    let got = synthetic_forward(&columns(&rows), 0.1, 0.5);
    assert!(
        got.is_some_and(|f| (f - (105.0 + growth * 0.5)).abs() < 1e-12),
        "{got:?}"
    );
}

#[test]
fn ties_go_to_the_lower_strike() {
    // |C − P| = 1 at both strikes; 100 gives 101, 104 gives 103.
    let rows = [
        quoted(104.0, true, 1.0),
        quoted(104.0, false, 2.0),
        quoted(100.0, true, 3.0),
        quoted(100.0, false, 2.0),
    ];
    assert_eq!(synthetic_forward(&columns(&rows), 0.0, 0.0), Some(101.0));
}

#[test]
fn mid_is_preferred_and_ltp_is_the_fallback() {
    // Strike 100: call mid 4.0 (LTP 9 ignored), put crossed quote → LTP 3.5. F = 100.5.
    let rows = [(100.0, true, 3.5, 4.5, 9.0), (100.0, false, 4.0, 3.0, 3.5)];
    assert_eq!(synthetic_forward(&columns(&rows), 0.0, 0.0), Some(100.5));
}

#[test]
fn unusable_rows_are_skipped() {
    let rows = [
        quoted(100.0, true, 1.0),
        quoted(100.0, false, 1.0),  // would give exactly 100 ...
        (0.0, true, 0.0, 0.0, 0.0), // no price at all
        quoted(f64::NAN, true, 2.0),
        quoted(f64::NAN, false, 2.0),
        quoted(-5.0, true, 7.0),
        quoted(-5.0, false, 7.0),
    ];
    assert_eq!(synthetic_forward(&columns(&rows), 0.0, 0.0), Some(100.0));
    // ... and the first row of a duplicated side wins: call 1.0, not 4.0.
    let mut dup = rows.to_vec();
    dup.push(quoted(100.0, true, 4.0));
    assert_eq!(synthetic_forward(&columns(&dup), 0.0, 0.0), Some(100.0));
}

#[test]
fn none_without_a_priced_pair_or_with_bad_inputs() {
    let calls_only = columns(&[quoted(100.0, true, 1.0), quoted(105.0, true, 0.5)]);
    assert_eq!(synthetic_forward(&calls_only, 0.0, 0.1), None);
    let no_put_price = columns(&[quoted(100.0, true, 1.0), (100.0, false, 0.0, 0.0, 0.0)]);
    assert_eq!(synthetic_forward(&no_put_price, 0.0, 0.1), None);
    let pair = columns(&[quoted(100.0, true, 1.0), quoted(100.0, false, 1.0)]);
    assert_eq!(synthetic_forward(&pair, f64::NAN, 0.1), None);
    assert_eq!(synthetic_forward(&pair, 0.05, f64::INFINITY), None);
    assert_eq!(synthetic_forward(&pair, 0.05, -1.0), None);
    let mut ragged = pair.clone();
    ragged.bid.pop();
    assert_eq!(synthetic_forward(&ragged, 0.0, 0.1), None);
    // A put so dear that the implied forward is negative.
    let negative = columns(&[quoted(10.0, true, 1.0), quoted(10.0, false, 50.0)]);
    assert_eq!(synthetic_forward(&negative, 0.0, 0.1), None);
    assert_eq!(
        synthetic_forward(&ContractColumns::default(), 0.0, 0.1),
        None
    );
}

#[test]
fn atm_is_the_nearest_listed_strike_lower_on_ties() {
    let strikes = [25_050.0, 24_950.0, f64::NAN, 25_000.0, f64::INFINITY];
    assert_eq!(atm_strike(&strikes, 25_020.0), Some(25_000.0));
    assert_eq!(
        atm_strike(&strikes, 25_025.0),
        Some(25_000.0),
        "tie between 25000 and 25050"
    );
    assert_eq!(
        atm_strike(&strikes, 24_975.0),
        Some(24_950.0),
        "tie between 24950 and 25000"
    );
    assert_eq!(atm_strike(&strikes, 1e9), Some(25_050.0));
    assert_eq!(atm_strike(&strikes, f64::NAN), None);
    assert_eq!(atm_strike(&[], 25_000.0), None);
    assert_eq!(atm_strike(&[f64::NAN], 25_000.0), None);
}

#[test]
fn distinct_strikes_are_sorted_unique_and_finite() {
    let got = distinct_strikes(&[
        300.0,
        f64::NAN,
        100.0,
        200.0,
        100.0,
        f64::INFINITY,
        300.0,
        f64::NEG_INFINITY,
    ]);
    assert_eq!(got, vec![100.0, 200.0, 300.0]);
    assert!(distinct_strikes(&[]).is_empty());
}
