//! Tests of the GEX maths against hand-worked numbers (worked in the comments, so a
//! wrong formula, sign or unit fails), the window, the flip level and bad input.

use optionhub_pricing::chain::{
    ChainSnapshot, ContractColumns, Date, ForwardSource, GreeksColumns, GreeksResult, IvStatus,
    PluginError, PricedChain,
};
use proptest::prelude::*;

use super::*;

/// One contract of a test chain: (strike, is_call, gamma, oi).
type Row = (f64, bool, f64, u64);

/// A chain with only what GEX reads filled in: strikes, sides, OI, gamma, the forward
/// (in `greeks.forward`) and the lot size. Everything else is zero.
fn priced_chain(rows: &[Row], forward: f64, lot_size: u32) -> PricedChain {
    let n = rows.len();
    let contracts = ContractColumns {
        security_id: (0..n as u64).collect(),
        strike: rows.iter().map(|r| r.0).collect(),
        is_call: rows.iter().map(|r| r.1).collect(),
        last_price: vec![0.0; n],
        bid: vec![0.0; n],
        ask: vec![0.0; n],
        volume: vec![0; n],
        oi: rows.iter().map(|r| r.3).collect(),
        previous_oi: vec![0; n],
        previous_close: vec![0.0; n],
        previous_volume: vec![0; n],
    };
    let greeks = GreeksColumns {
        price: vec![0.0; n],
        iv: vec![0.0; n],
        delta: vec![0.0; n],
        gamma: rows.iter().map(|r| r.2).collect(),
        theta: vec![0.0; n],
        vega: vec![0.0; n],
        rho: vec![0.0; n],
        status: vec![IvStatus::Solved; n],
    };
    PricedChain {
        chain: ChainSnapshot {
            underlying: "NIFTY".into(),
            spot: forward,
            forward: None,
            expiry: Date {
                year: 2026,
                month: 11,
                day: 24,
            },
            as_of_ms: 1_795_667_400_000,
            lot_size,
            rate: 0.065,
            contracts,
        },
        greeks: GreeksResult {
            model: "test".into(),
            forward,
            forward_source: ForwardSource::PutCallParity,
            time_to_expiry: 4.0 / 365.0,
            greeks,
        },
    }
}

/// The hand-worked chain: F = 25,000, lot size 75, three strikes, rows deliberately out
/// of order. m · F² · 0.01 = 75 × 625,000,000 × 0.01 = 468,750,000 rupees per unit of
/// Γ·OI, i.e. 46.875 crore.
///
/// | strike | side | Γ      | OI   | Γ·OI | GEX (crore)          |
/// |--------|------|--------|------|------|----------------------|
/// | 24,900 | call | 0.0002 | 500  | 0.10 | +0.10 × 46.875 = +4.6875  |
/// | 24,900 | put  | 0.0003 | 2000 | 0.60 | −0.60 × 46.875 = −28.125  |
/// | 25,000 | call | 0.0004 | 1000 | 0.40 | +0.40 × 46.875 = +18.75   |
/// | 25,000 | put  | 0.0004 | 1600 | 0.64 | −0.64 × 46.875 = −30.0    |
/// | 25,100 | call | 0.0003 | 3000 | 0.90 | +0.90 × 46.875 = +42.1875 |
/// | 25,100 | put  | 0.0002 | 400  | 0.08 | −0.08 × 46.875 = −3.75    |
///
/// Net per strike: −23.4375, −11.25, +38.4375.
/// Cumulative: −23.4375, −34.6875, +3.75.
/// Totals: calls 65.625, puts −61.875, net 3.75.
/// Flip between 25,000 (−34.6875) and 25,100 (+3.75):
/// 25,000 + 100 × 34.6875 / 38.4375 = 25,000 + 100 × 37/41 = 25,090.243902439...
/// Call wall 25,100 (42.1875); put wall 25,000 (−30.0).
const THREE_STRIKES: [Row; 6] = [
    (25_100.0, false, 0.0002, 400),
    (24_900.0, true, 0.0002, 500),
    (25_000.0, false, 0.0004, 1600),
    (25_100.0, true, 0.0003, 3000),
    (24_900.0, false, 0.0003, 2000),
    (25_000.0, true, 0.0004, 1000),
];

/// [`THREE_STRIKES`] plus a strike each side (same F and lot size):
///
/// | strike | side | Γ       | OI   | Γ·OI | GEX (crore)                 |
/// |--------|------|---------|------|------|-----------------------------|
/// | 24,800 | call | 0.0001  | 100  | 0.01 | +0.01 × 46.875 = +0.46875   |
/// | 24,800 | put  | 0.0001  | 3000 | 0.30 | −0.30 × 46.875 = −14.0625   |
/// | 24,800 | put  | 0.0001  | 2000 | 0.20 | −0.20 × 46.875 = −9.375     |
/// | 25,200 | call | 0.0001  | 8000 | 0.80 | +0.80 × 46.875 = +37.5      |
/// | 25,200 | put  | 0.00005 | 200  | 0.01 | −0.01 × 46.875 = −0.46875   |
///
/// (24,800 puts come in two rows, which must add up: −23.4375.)
/// Net per strike: −22.96875, −23.4375, −11.25, +38.4375, +37.03125.
/// Cumulative: −22.96875, −46.40625, −57.65625, −19.21875, +17.8125.
/// Totals: calls 103.59375, puts −85.78125, net 17.8125.
/// Flip between 25,100 (−19.21875) and 25,200 (+17.8125):
/// 25,100 + 100 × 19.21875 / 37.03125 = 25,100 + 100 × 41/79 = 25,151.898734177...
/// Call wall 25,100 (42.1875 > 37.5); put wall 25,000 (−30.0).
fn five_strikes() -> Vec<Row> {
    let mut rows = THREE_STRIKES.to_vec();
    rows.extend([
        (25_200.0, true, 0.0001, 8000),
        (24_800.0, false, 0.0001, 3000),
        (24_800.0, true, 0.0001, 100),
        (25_200.0, false, 0.00005, 200),
        (24_800.0, false, 0.0001, 2000),
    ]);
    rows
}

fn assert_close(actual: f64, expected: f64) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "got {actual}, expected {expected}"
    );
}

fn assert_all_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "got {actual:?}, expected {expected:?}"
    );
    for (a, e) in actual.iter().zip(expected) {
        assert_close(*a, *e);
    }
}

fn assert_some_close(actual: Option<f64>, expected: f64) {
    match actual {
        Some(value) => assert_close(value, expected),
        None => panic!("got None, expected {expected}"),
    }
}

fn params(window: u32, scale: Scale) -> GexParams {
    GexParams { window, scale }
}

#[test]
fn three_strike_chain_matches_the_hand_worked_numbers() -> Result<(), PluginError> {
    let report = gamma_exposure(
        &priced_chain(&THREE_STRIKES, 25_000.0, 75),
        &GexParams::default(),
    )?;
    assert_eq!(report.strikes, [24_900.0, 25_000.0, 25_100.0]);
    assert_all_close(&report.call_gex, &[4.6875, 18.75, 42.1875]);
    assert_all_close(&report.put_gex, &[-28.125, -30.0, -3.75]);
    assert_all_close(&report.net_gex, &[-23.4375, -11.25, 38.4375]);
    assert_all_close(&report.cumulative_gex, &[-23.4375, -34.6875, 3.75]);
    assert_close(report.total_gex, 3.75);
    assert_close(report.total_call_gex, 65.625);
    assert_close(report.total_put_gex, -61.875);
    assert_some_close(report.flip_level, 25_000.0 + 3_700.0 / 41.0);
    assert_some_close(report.flip_level, 25_090.243_902_439_02);
    assert_eq!(report.call_wall, Some(25_100.0));
    assert_eq!(report.put_wall, Some(25_000.0));
    assert_eq!(report.atm_strike, Some(25_000.0));
    assert_eq!(report.forward, 25_000.0);
    Ok(())
}

#[test]
fn outputs_carry_the_documented_names_units_and_order() -> Result<(), PluginError> {
    let report = gamma_exposure(
        &priced_chain(&THREE_STRIKES, 25_000.0, 75),
        &GexParams::default(),
    )?;
    let scalars = report.scalars();
    let names: Vec<&str> = scalars.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "total_gex",
            "call_gex",
            "put_gex",
            "flip_level",
            "call_wall",
            "put_wall",
            "forward"
        ]
    );
    let units: Vec<&str> = scalars.iter().map(|s| s.unit).collect();
    assert_eq!(
        units,
        [
            "INR crore",
            "INR crore",
            "INR crore",
            "points",
            "points",
            "points",
            "points"
        ]
    );
    let values: Vec<f64> = scalars.iter().map(|s| s.value).collect();
    assert_all_close(
        &values,
        &[
            3.75,
            65.625,
            -61.875,
            25_000.0 + 3_700.0 / 41.0,
            25_100.0,
            25_000.0,
            25_000.0,
        ],
    );

    assert_eq!(TABLE_NAME, "gex_by_strike");
    let columns = report.table_columns();
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["strike", "call_gex", "put_gex", "net_gex", "cumulative_gex"]
    );
    assert!(columns.iter().all(|c| c.values.len() == 3));
    assert_eq!(columns[0].values, [24_900.0, 25_000.0, 25_100.0]);
    assert_all_close(&columns[4].values, &[-23.4375, -34.6875, 3.75]);
    Ok(())
}

#[test]
fn rupee_scale_is_crore_times_ten_million() -> Result<(), PluginError> {
    let report = gamma_exposure(
        &priced_chain(&THREE_STRIKES, 25_000.0, 75),
        &params(0, Scale::Rupees),
    )?;
    // 3.75 crore = 37,500,000 rupees; the 25,000 put: 0.64 × 468,750,000 = 300,000,000.
    assert_close(report.total_gex, 37_500_000.0);
    assert_close(report.put_gex[1], -300_000_000.0);
    assert_eq!(report.scalars()[0].unit, "INR");
    // Levels do not depend on the unit.
    assert_some_close(report.flip_level, 25_000.0 + 3_700.0 / 41.0);
    Ok(())
}

#[test]
fn whole_five_strike_chain_matches_the_hand_worked_numbers() -> Result<(), PluginError> {
    let report = gamma_exposure(
        &priced_chain(&five_strikes(), 25_000.0, 75),
        &params(0, Scale::Crore),
    )?;
    assert_eq!(
        report.strikes,
        [24_800.0, 24_900.0, 25_000.0, 25_100.0, 25_200.0]
    );
    assert_all_close(&report.call_gex, &[0.46875, 4.6875, 18.75, 42.1875, 37.5]);
    assert_all_close(
        &report.put_gex,
        &[-23.4375, -28.125, -30.0, -3.75, -0.46875],
    );
    assert_all_close(
        &report.cumulative_gex,
        &[-22.96875, -46.40625, -57.65625, -19.21875, 17.8125],
    );
    assert_close(report.total_gex, 17.8125);
    assert_close(report.total_call_gex, 103.59375);
    assert_close(report.total_put_gex, -85.78125);
    assert_some_close(report.flip_level, 25_100.0 + 4_100.0 / 79.0);
    assert_eq!(report.call_wall, Some(25_100.0));
    assert_eq!(report.put_wall, Some(25_000.0));
    Ok(())
}

#[test]
fn window_one_keeps_atm_and_one_strike_each_side() -> Result<(), PluginError> {
    // ATM is 25,000, so window 1 keeps 24,900..25,100: exactly the three-strike chain.
    let windowed = gamma_exposure(
        &priced_chain(&five_strikes(), 25_000.0, 75),
        &params(1, Scale::Crore),
    )?;
    let three = gamma_exposure(
        &priced_chain(&THREE_STRIKES, 25_000.0, 75),
        &params(0, Scale::Crore),
    )?;
    assert_eq!(windowed, three);
    assert_close(windowed.total_gex, 3.75);
    Ok(())
}

#[test]
fn window_is_clipped_at_the_edge_of_the_grid_and_follows_the_forward() -> Result<(), PluginError> {
    let rows = five_strikes();
    // F = 24,790: ATM 24,800, the lowest strike; window 1 keeps 24,800 and 24,900.
    let low = gamma_exposure(&priced_chain(&rows, 24_790.0, 75), &params(1, Scale::Crore))?;
    assert_eq!(low.atm_strike, Some(24_800.0));
    assert_eq!(low.strikes, [24_800.0, 24_900.0]);
    // F = 24,950 is halfway: ATM is the lower strike, 24,900; window 1 keeps 24,800..25,000.
    let tie = gamma_exposure(&priced_chain(&rows, 24_950.0, 75), &params(1, Scale::Crore))?;
    assert_eq!(tie.atm_strike, Some(24_900.0));
    assert_eq!(tie.strikes, [24_800.0, 24_900.0, 25_000.0]);
    // A window wider than the chain keeps everything.
    let wide = gamma_exposure(
        &priced_chain(&rows, 25_000.0, 75),
        &params(50, Scale::Crore),
    )?;
    assert_eq!(wide.strikes.len(), 5);
    Ok(())
}

#[test]
fn no_sign_change_means_no_flip_level_and_no_put_wall() -> Result<(), PluginError> {
    // Calls only: cumulative GEX is positive throughout.
    let rows = [
        (24_900.0, true, 0.0002, 500),
        (25_000.0, true, 0.0004, 1000),
        (25_100.0, false, 0.0003, 0),
    ];
    let report = gamma_exposure(&priced_chain(&rows, 25_000.0, 75), &GexParams::default())?;
    assert_all_close(&report.cumulative_gex, &[4.6875, 23.4375, 23.4375]);
    assert_eq!(report.flip_level, None);
    assert_eq!(report.put_wall, None);
    assert_eq!(report.call_wall, Some(25_000.0));
    let names: Vec<&str> = report.scalars().iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["total_gex", "call_gex", "put_gex", "call_wall", "forward"]
    );
    Ok(())
}

#[test]
fn flip_level_interpolates_linearly_between_strikes() {
    // −1 at 100, +3 at 200: zero a quarter of the way, at 125.
    assert_eq!(flip_level(&[100.0, 200.0], &[-1.0, 3.0]), Some(125.0));
    // Positive to negative works the same way: +3 at 100, −1 at 200 → 175.
    assert_eq!(flip_level(&[100.0, 200.0], &[3.0, -1.0]), Some(175.0));
    // Reaching exactly zero at a strike then crossing: the flip is that strike.
    assert_eq!(
        flip_level(&[100.0, 200.0, 300.0], &[-2.0, 0.0, 5.0]),
        Some(200.0)
    );
    // Leading zeros (no OI yet) are not a sign.
    assert_eq!(
        flip_level(&[100.0, 200.0, 300.0], &[0.0, -4.0, 4.0]),
        Some(250.0)
    );
    // Two crossings: the first, ascending.
    assert_eq!(
        flip_level(&[100.0, 200.0, 300.0], &[-1.0, 1.0, -1.0]),
        Some(150.0)
    );
}

#[test]
fn touching_zero_without_crossing_is_not_a_flip() {
    assert_eq!(flip_level(&[100.0, 200.0, 300.0], &[-2.0, 0.0, -1.0]), None);
    assert_eq!(flip_level(&[100.0, 200.0], &[1.0, 2.0]), None);
    assert_eq!(flip_level(&[100.0], &[-1.0]), None);
    assert_eq!(flip_level(&[], &[]), None);
}

#[test]
fn empty_chain_has_zero_gex_and_no_levels() -> Result<(), PluginError> {
    let report = gamma_exposure(&priced_chain(&[], 25_000.0, 75), &params(3, Scale::Crore))?;
    assert!(report.strikes.is_empty() && report.cumulative_gex.is_empty());
    assert_eq!(report.total_gex, 0.0);
    assert_eq!(
        (report.flip_level, report.call_wall, report.put_wall),
        (None, None, None)
    );
    let names: Vec<&str> = report.scalars().iter().map(|s| s.name).collect();
    assert_eq!(names, ["total_gex", "call_gex", "put_gex", "forward"]);
    Ok(())
}

/// The message of an `invalid-input` error; fails the test on anything else.
fn invalid_message(result: Result<GexReport, PluginError>) -> String {
    match result {
        Err(PluginError::InvalidInput(message)) => message,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn malformed_input_is_invalid_input() {
    let defaults = GexParams::default();

    let mut short_greeks = priced_chain(&THREE_STRIKES, 25_000.0, 75);
    short_greeks.greeks.greeks.gamma.pop();
    let message = invalid_message(gamma_exposure(&short_greeks, &defaults));
    assert!(
        message.contains("greeks.gamma has 5 rows, the chain has 6 contracts"),
        "{message}"
    );

    let mut short_oi = priced_chain(&THREE_STRIKES, 25_000.0, 75);
    short_oi.chain.contracts.oi.pop();
    let message = invalid_message(gamma_exposure(&short_oi, &defaults));
    assert!(message.contains("oi"), "{message}");

    let mut nan_gamma = priced_chain(&THREE_STRIKES, 25_000.0, 75);
    nan_gamma.greeks.greeks.gamma[2] = f64::NAN;
    let message = invalid_message(gamma_exposure(&nan_gamma, &defaults));
    assert!(message.contains("greeks.gamma[2] is NaN"), "{message}");

    let mut bad_strike = priced_chain(&THREE_STRIKES, 25_000.0, 75);
    bad_strike.chain.contracts.strike[4] = f64::INFINITY;
    let message = invalid_message(gamma_exposure(&bad_strike, &defaults));
    assert!(message.contains("strike[4] is inf"), "{message}");

    for forward in [0.0, -1.0, f64::NAN] {
        let message = invalid_message(gamma_exposure(
            &priced_chain(&THREE_STRIKES, forward, 75),
            &defaults,
        ));
        assert!(message.contains("forward"), "{message}");
    }
}

fn arbitrary_rows() -> impl Strategy<Value = Vec<Row>> {
    let row = (0u32..40, any::<bool>(), 0.0f64..0.001, 0u64..100_000).prop_map(
        |(step, is_call, gamma, oi)| (24_000.0 + 50.0 * f64::from(step), is_call, gamma, oi),
    );
    prop::collection::vec(row, 0..80)
}

proptest! {
    /// Per-strike and total GEX agree with each other and with the sign convention, and
    /// a flip level always sits inside the strike range, for any chain and window.
    #[test]
    fn outputs_are_consistent(rows in arbitrary_rows(), window in 0u32..10, forward in 24_000.0f64..26_000.0) {
        let report = gamma_exposure(&priced_chain(&rows, forward, 65), &params(window, Scale::Crore))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert!(report.call_gex.iter().all(|&g| g >= 0.0));
        prop_assert!(report.put_gex.iter().all(|&g| g <= 0.0));
        prop_assert!(report.strikes.windows(2).all(|w| w[0] < w[1]));
        if window > 0 {
            prop_assert!(report.strikes.len() <= 2 * window as usize + 1);
        }
        let tolerance = 1e-9 * (report.total_call_gex - report.total_put_gex).max(1.0);
        prop_assert!((report.total_gex - (report.total_call_gex + report.total_put_gex)).abs() <= tolerance);
        if let Some(flip) = report.flip_level {
            prop_assert!(report.strikes.first().is_some_and(|&lo| flip >= lo));
            prop_assert!(report.strikes.last().is_some_and(|&hi| flip <= hi));
        }
    }

    /// Row order does not change the answer (beyond floating-point summation order).
    #[test]
    fn row_order_does_not_matter(rows in arbitrary_rows()) {
        let forward = 25_000.0;
        let mut reversed = rows.clone();
        reversed.reverse();
        let a = gamma_exposure(&priced_chain(&rows, forward, 65), &GexParams::default())
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let b = gamma_exposure(&priced_chain(&reversed, forward, 65), &GexParams::default())
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&a.strikes, &b.strikes);
        for (x, y) in a.net_gex.iter().zip(&b.net_gex) {
            prop_assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0));
        }
    }
}
