//! Support (max put OI) and resistance (max call OI) around ATM (§3.4).

use oi_analytics::OiOptions;

use crate::common::{Row, call, chain, put, run};

/// Strikes 90..=110 step 5, forward 101 (ATM 100). Put OI falls with the strike, call
/// OI rises, so the walls sit at the far ends unless a window cuts them off.
fn walls() -> Vec<Row> {
    let grid = [90.0, 95.0, 100.0, 105.0, 110.0];
    let put_oi = [500, 200, 100, 50, 10];
    let call_oi = [5, 10, 100, 150, 400];
    let mut rows = Vec::new();
    for i in 0..grid.len() {
        rows.push(put(grid[i], put_oi[i]));
        rows.push(call(grid[i], call_oi[i]));
    }
    rows
}

fn levels(rows: &[Row], forward: f64, sr_window: u32) -> (Option<f64>, Option<f64>) {
    let report = run(
        &chain(rows, forward, 50),
        &OiOptions {
            sr_window,
            ..OiOptions::default()
        },
    );
    (report.support, report.resistance)
}

#[test]
fn whole_chain_when_window_is_zero() {
    assert_eq!(levels(&walls(), 101.0, 0), (Some(90.0), Some(110.0)));
}

#[test]
fn window_counts_strikes_each_side_of_atm() {
    assert_eq!(levels(&walls(), 101.0, 1), (Some(95.0), Some(105.0)));
    assert_eq!(levels(&walls(), 101.0, 2), (Some(90.0), Some(110.0)));
    // ATM 110 (forward beyond the grid): a window of 1 sees 105 and 110 only.
    assert_eq!(levels(&walls(), 130.0, 1), (Some(105.0), Some(110.0)));
}

#[test]
fn ties_go_to_the_strike_nearer_atm_then_the_lower() {
    // Put OI 7 at 90 and 105, ATM 100: 105 is nearer.
    let rows = [
        put(90.0, 7),
        put(95.0, 1),
        put(100.0, 0),
        put(105.0, 7),
        put(110.0, 1),
    ];
    assert_eq!(levels(&rows, 100.0, 0).0, Some(105.0));
    // Put OI 7 at 95 and 105, both 5 from ATM: the lower.
    let rows = [put(95.0, 7), put(100.0, 1), put(105.0, 7)];
    assert_eq!(levels(&rows, 100.0, 0).0, Some(95.0));
}

#[test]
fn a_side_with_no_oi_has_no_level() {
    let rows = [call(100.0, 5), put(100.0, 0), put(105.0, 0)];
    assert_eq!(levels(&rows, 100.0, 0), (None, Some(100.0)));
    // OI exists, but outside the window.
    let rows = [put(90.0, 9), put(95.0, 0), put(100.0, 0), put(105.0, 0)];
    assert_eq!(levels(&rows, 100.0, 1).0, None);
}
