//! OI buildup classes (reference §3.3 table and §4.6 vector) and the gainers/losers
//! ranking.

use oi_analytics::{Buildup, OiOptions};

use crate::common::{Row, call, chain, put, run};

/// 1 % OI band and a one-tick price band.
const BANDS: OiOptions = OiOptions {
    top_n: 10,
    sr_window: 0,
    oi_dead_band: 0.01,
    price_dead_band: 0.05,
};

fn classes(rows: &[Row], options: &OiOptions) -> Vec<Buildup> {
    run(&chain(rows, 100.0, 50), options).buildup
}

#[test]
fn every_buildup_class() {
    let rows = [
        call(100.0, 1100).previous_oi(1000).prices(10.0, 12.0),
        call(100.0, 1100).previous_oi(1000).prices(12.0, 10.0),
        put(100.0, 900).previous_oi(1000).prices(10.0, 12.0),
        put(100.0, 900).previous_oi(1000).prices(12.0, 10.0),
    ];
    assert_eq!(
        classes(&rows, &BANDS),
        vec![
            Buildup::LongBuildup,
            Buildup::ShortBuildup,
            Buildup::ShortCovering,
            Buildup::LongUnwinding
        ]
    );
}

#[test]
fn no_price_reference_is_neutral() {
    let rows = [
        call(100.0, 1100).previous_oi(1000).prices(0.0, 12.0),
        call(100.0, 1100).previous_oi(1000).prices(10.0, 0.0),
        call(100.0, 1100).previous_oi(1000).prices(f64::NAN, 12.0),
    ];
    assert_eq!(classes(&rows, &BANDS), vec![Buildup::Neutral; 3]);
}

#[test]
fn dead_bands() {
    let rows = [
        // ΔOI 9 < 1 % of 1000: neutral.
        call(100.0, 1009).previous_oi(1000).prices(10.0, 12.0),
        // ΔOI 10 is at, not below, the band.
        call(100.0, 1010).previous_oi(1000).prices(10.0, 12.0),
        // ΔOI −9: neutral too.
        call(100.0, 991).previous_oi(1000).prices(10.0, 12.0),
        // ΔP 0.04 < one tick.
        call(100.0, 1100).previous_oi(1000).prices(10.0, 10.04),
        // ΔP exactly one tick (0.0499… in binary) counts as a move.
        call(100.0, 1100).previous_oi(1000).prices(100.0, 100.05),
        put(100.0, 1100).previous_oi(1000).prices(100.05, 100.0),
    ];
    assert_eq!(
        classes(&rows, &BANDS),
        vec![
            Buildup::Neutral,
            Buildup::LongBuildup,
            Buildup::Neutral,
            Buildup::Neutral,
            Buildup::LongBuildup,
            Buildup::ShortBuildup,
        ]
    );
}

#[test]
fn zero_change_is_neutral_even_without_dead_bands() {
    let no_bands = OiOptions {
        oi_dead_band: 0.0,
        price_dead_band: 0.0,
        ..BANDS
    };
    let rows = [
        call(100.0, 1000).previous_oi(1000).prices(10.0, 12.0),
        call(100.0, 1100).previous_oi(1000).prices(10.0, 10.0),
        // The smallest real moves are not neutral without bands.
        call(100.0, 1001).previous_oi(1000).prices(10.0, 10.05),
        // New contract: previous OI 0, any OI is a build-up.
        put(100.0, 50).previous_oi(0).prices(10.0, 9.0),
    ];
    assert_eq!(
        classes(&rows, &no_bands),
        vec![
            Buildup::Neutral,
            Buildup::Neutral,
            Buildup::LongBuildup,
            Buildup::ShortBuildup
        ]
    );
}

/// ΔOI: id 3 +50 (previous 0), id 1 +50, id 2 +60, id 4 −30, id 5 −100, id 6 0.
/// Input order puts id 3 before id 1 so the tie-break must come from the ids.
fn movers_chain() -> Vec<Row> {
    vec![
        call(105.0, 50).previous_oi(0).id(3),
        call(100.0, 150).previous_oi(100).id(1),
        put(100.0, 260).previous_oi(200).id(2).prices(10.0, 12.0),
        put(95.0, 70).previous_oi(100).id(4),
        call(110.0, 300).previous_oi(400).id(5).prices(5.0, 4.0),
        put(90.0, 10).previous_oi(10).id(6),
    ]
}

#[test]
fn gainers_largest_first_ties_by_security_id() {
    let g = run(&chain(&movers_chain(), 100.0, 50), &BANDS).gainers;
    assert_eq!(g.security_id, vec![2, 1, 3]);
    assert_eq!(g.row, vec![2, 1, 0]);
    assert_eq!(g.strike, vec![100.0, 100.0, 105.0]);
    assert_eq!(g.is_call, vec![false, true, true]);
    assert_eq!(g.oi, vec![260, 150, 50]);
    assert_eq!(g.oi_change, vec![60, 50, 50]);
    // 60/200, 50/100, and 0 for a previous OI of 0.
    assert_eq!(g.oi_change_pct, vec![30.0, 50.0, 0.0]);
    assert_eq!(g.price_change, vec![2.0, 0.0, 0.0]);
    assert_eq!(
        g.buildup,
        vec![Buildup::LongBuildup, Buildup::Neutral, Buildup::Neutral]
    );
}

#[test]
fn losers_most_negative_first() {
    let l = run(&chain(&movers_chain(), 100.0, 50), &BANDS).losers;
    assert_eq!(l.security_id, vec![5, 4]);
    assert_eq!(l.row, vec![4, 3]);
    assert_eq!(l.oi_change, vec![-100, -30]);
    assert_eq!(l.oi_change_pct, vec![-25.0, -30.0]);
    assert_eq!(l.price_change, vec![-1.0, 0.0]);
    assert_eq!(l.buildup, vec![Buildup::LongUnwinding, Buildup::Neutral]);
}

#[test]
fn top_n_truncates_both_lists() {
    let rows = movers_chain();
    let two = run(&chain(&rows, 100.0, 50), &OiOptions { top_n: 2, ..BANDS });
    assert_eq!(two.gainers.security_id, vec![2, 1]);
    assert_eq!(two.losers.security_id, vec![5, 4]);
    let one = run(&chain(&rows, 100.0, 50), &OiOptions { top_n: 1, ..BANDS });
    assert_eq!(one.gainers.security_id, vec![2]);
    assert_eq!(one.losers.security_id, vec![5]);
    let none = run(&chain(&rows, 100.0, 50), &OiOptions { top_n: 0, ..BANDS });
    assert!(none.gainers.row.is_empty() && none.gainers.oi_change_pct.is_empty());
    assert!(none.losers.row.is_empty() && none.losers.buildup.is_empty());
}
