//! The registry built from the scrip-master fixtures
//! (`host/tests/fixtures/scrip_master/`): NIFTY with weekly and monthly expiries on an
//! irregular strike grid, SENSEX in `BSE_FNO` reusing NIFTY's security ids, FINNIFTY
//! without an index row, BANKNIFTY without options.

use time::macros::date;

use super::build::strike_step;
use super::*;
use crate::scrip_master::fixtures::{fixture, fixture_instruments};
use crate::scrip_master::{Filter, InstrumentClass, parse};
use crate::{ExchangeSegment, InstrumentKind};

const FIXTURE_UNDERLYINGS: [&str; 4] = ["NIFTY", "BANKNIFTY", "SENSEX", "FINNIFTY"];

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn registry(underlyings: &[&str]) -> Result<InstrumentRegistry, RegistryError> {
    let instruments = fixture_instruments("compact.csv", &FIXTURE_UNDERLYINGS);
    InstrumentRegistry::build(instruments, &names(underlyings))
}

fn nse(id: u32) -> InstrumentKey {
    InstrumentKey::new(ExchangeSegment::NseFno, id)
}

fn bse(id: u32) -> InstrumentKey {
    InstrumentKey::new(ExchangeSegment::BseFno, id)
}

#[test]
fn nifty_expiries_mix_weekly_and_monthly_in_date_order() {
    let registry = registry(&["NIFTY", "SENSEX"]).unwrap();
    let nifty = registry.underlying("nifty").unwrap();
    assert_eq!(nifty.name, "NIFTY");
    assert_eq!(nifty.index, InstrumentKey::new(ExchangeSegment::IdxI, 13));
    let summary: Vec<(Date, ExpiryFlag, u32, f64, usize)> = nifty
        .expiries
        .iter()
        .map(|e| (e.expiry, e.flag, e.lot_size, e.strike_step, e.strikes.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (date!(2026 - 11 - 17), ExpiryFlag::Weekly, 65, 50.0, 7),
            (date!(2026 - 11 - 24), ExpiryFlag::Monthly, 65, 100.0, 3),
            (date!(2026 - 12 - 01), ExpiryFlag::Weekly, 65, 50.0, 5),
        ]
    );
    let weekly = &nifty.expiries[0];
    assert_eq!(weekly.tick_size, 0.05);
    let strikes: Vec<f64> = weekly.strikes.iter().map(|row| row.strike).collect();
    assert_eq!(
        strikes,
        [
            25800.0, 25900.0, 25950.0, 26000.0, 26050.0, 26100.0, 26200.0
        ]
    );
    assert_eq!(
        weekly.strikes[0],
        StrikeRow {
            strike: 25800.0,
            call: Some(nse(40001)),
            put: Some(nse(40002)),
        }
    );
    // 26200 is listed as a call only.
    assert_eq!(
        (weekly.strikes[6].call, weekly.strikes[6].put),
        (Some(nse(40013)), None)
    );
    assert_eq!(
        nifty.futures,
        [FutureContract {
            expiry: date!(2026 - 11 - 24),
            key: nse(45000),
        }]
    );
}

#[test]
fn sensex_options_live_in_bse_fno() {
    let registry = registry(&["NIFTY", "SENSEX"]).unwrap();
    let sensex = registry.underlying("SENSEX").unwrap();
    assert_eq!(sensex.index, InstrumentKey::new(ExchangeSegment::IdxI, 51));
    let [expiry] = sensex.expiries.as_slice() else {
        panic!("expected one SENSEX expiry, got {:?}", sensex.expiries);
    };
    assert_eq!(
        (expiry.expiry, expiry.lot_size, expiry.strike_step),
        (date!(2026 - 11 - 19), 20, 100.0)
    );
    assert!(
        expiry
            .strikes
            .iter()
            .flat_map(|row| [row.call, row.put])
            .all(|key| key.is_some_and(|key| key.segment == ExchangeSegment::BseFno))
    );
}

#[test]
fn equal_security_ids_in_two_segments_are_two_contracts() {
    let registry = registry(&["NIFTY", "SENSEX"]).unwrap();
    assert_eq!(registry.get(&nse(40001)).unwrap().underlying, "NIFTY");
    assert_eq!(registry.get(&bse(40001)).unwrap().underlying, "SENSEX");
    let call = |underlying| ContractLocation {
        underlying,
        expiry: 0,
        strike: 0,
        right: OptionRight::Call,
    };
    assert_eq!(registry.locate(&nse(40001)), Some(call(0)));
    assert_eq!(registry.locate(&bse(40001)), Some(call(1)));
}

#[test]
fn every_option_locates_to_its_own_cell_and_nothing_else_does() {
    let registry = registry(&["NIFTY", "SENSEX"]).unwrap();
    // NIFTY: index, future, 29 options; SENSEX: index, 6 options.
    assert_eq!(registry.len(), 31 + 7);
    let underlyings: Vec<&UnderlyingInfo> = registry.underlyings().collect();
    let mut located = 0;
    for instrument in registry.instruments() {
        let location = registry.locate(&instrument.key);
        match instrument.kind {
            InstrumentKind::Option {
                expiry,
                strike,
                right,
                ..
            } => {
                let location = location.unwrap();
                let info = &underlyings[location.underlying].expiries[location.expiry];
                let row = &info.strikes[location.strike];
                assert_eq!(
                    (info.expiry, row.strike, location.right),
                    (expiry, strike, right)
                );
                assert_eq!(row.side(right), Some(instrument.key));
                assert_eq!(underlyings[location.underlying].name, instrument.underlying);
                located += 1;
            }
            InstrumentKind::Index | InstrumentKind::Future { .. } => assert_eq!(location, None),
        }
    }
    assert_eq!(located, 29 + 6);
    assert_eq!(registry.locate(&nse(99_999)), None);
}

#[test]
fn a_missing_index_row_is_named() {
    let error = registry(&["NIFTY", "FINNIFTY"]).unwrap_err();
    assert_eq!(error, RegistryError::MissingIndex(names(&["FINNIFTY"])));
    assert!(error.to_string().contains("FINNIFTY"));
}

#[test]
fn an_underlying_without_options_is_named() {
    let error = registry(&["BANKNIFTY", "SENSEX"]).unwrap_err();
    assert_eq!(error, RegistryError::MissingOptions(names(&["BANKNIFTY"])));
}

#[test]
fn unconfigured_underlyings_are_left_out() {
    let registry = registry(&["Sensex"]).unwrap();
    assert_eq!(registry.len(), 7);
    assert_eq!(registry.get(&nse(40001)), None);
    assert_eq!(registry.underlying("NIFTY"), None);
    assert_eq!(registry.underlyings().len(), 1);
}

#[test]
fn lot_size_disagreement_takes_the_most_common_and_is_recorded() {
    let registry = registry(&["NIFTY"]).unwrap();
    // One 1 Dec contract says 75, nine say 65.
    assert_eq!(
        registry.warnings(),
        [RegistryWarning {
            underlying: "NIFTY".into(),
            expiry: date!(2026 - 12 - 01),
            issue: ExpiryIssue::LotSizes {
                chosen: 65,
                seen: vec![65, 75],
            },
        }]
    );
    assert_eq!(
        registry.underlying("NIFTY").unwrap().expiries[2].lot_size,
        65
    );
}

#[test]
fn live_expiries_start_on_the_given_day() {
    let registry = registry(&["NIFTY"]).unwrap();
    let dates = |today| -> Vec<Date> {
        registry
            .live_expiries("NIFTY", today)
            .iter()
            .map(|e| e.expiry)
            .collect()
    };
    assert_eq!(dates(date!(2026 - 11 - 01)).len(), 3);
    assert_eq!(
        dates(date!(2026 - 11 - 18)),
        [date!(2026 - 11 - 24), date!(2026 - 12 - 01)]
    );
    assert_eq!(
        dates(date!(2026 - 11 - 24)),
        [date!(2026 - 11 - 24), date!(2026 - 12 - 01)]
    );
    assert_eq!(dates(date!(2026 - 12 - 02)), []);
    assert_eq!(
        registry.live_expiries("FINNIFTY", date!(2026 - 11 - 01)),
        []
    );
}

#[test]
fn strike_step_is_the_most_common_gap() {
    // 50 near the money, 100 away: 50 is more common.
    assert_eq!(
        strike_step(&[
            25800.0, 25900.0, 25950.0, 26000.0, 26050.0, 26100.0, 26200.0
        ]),
        50.0
    );
    // 100 ×3 against 50 ×1.
    assert_eq!(strike_step(&[100.0, 200.0, 300.0, 350.0, 450.0]), 100.0);
    // A tie goes to the smaller gap.
    assert_eq!(
        strike_step(&[25900.0, 26000.0, 26050.0, 26100.0, 26200.0]),
        50.0
    );
    assert_eq!(strike_step(&[99.5, 100.0, 100.5]), 0.5);
    // Float noise (100.05 − 100 ≠ 100.10 − 100.05 in binary) is one gap.
    assert_eq!(strike_step(&[100.0, 100.05, 100.1, 100.15]), 0.05);
    assert_eq!(strike_step(&[26000.0]), 0.0);
    assert_eq!(strike_step(&[]), 0.0);
}

fn option(key: InstrumentKey, strike: f64, right: OptionRight, lot_size: u32) -> Instrument {
    Instrument {
        key,
        symbol: format!("NIFTY-{strike}"),
        underlying: "NIFTY".into(),
        kind: InstrumentKind::Option {
            expiry: date!(2026 - 11 - 24),
            strike,
            right,
            expiry_flag: ExpiryFlag::Monthly,
        },
        lot_size,
        tick_size: 0.05,
    }
}

fn nifty_index() -> Instrument {
    Instrument {
        key: InstrumentKey::new(ExchangeSegment::IdxI, 13),
        symbol: "NIFTY".into(),
        underlying: "Nifty 50".into(),
        kind: InstrumentKind::Index,
        lot_size: 1,
        tick_size: 0.05,
    }
}

#[test]
fn a_key_listed_twice_is_refused() {
    let instruments = vec![
        nifty_index(),
        option(nse(1), 26000.0, OptionRight::Call, 65),
        option(nse(1), 26000.0, OptionRight::Call, 65),
    ];
    let error = InstrumentRegistry::build(instruments, &names(&["NIFTY"])).unwrap_err();
    assert_eq!(error, RegistryError::DuplicateKey(nse(1)));
}

#[test]
fn two_contracts_on_one_strike_and_side_keep_the_first_and_warn() {
    let instruments = vec![
        nifty_index(),
        option(nse(2), 26000.0, OptionRight::Call, 65),
        option(nse(1), 26000.0, OptionRight::Call, 65),
    ];
    let registry = InstrumentRegistry::build(instruments, &names(&["NIFTY 50"])).unwrap();
    assert_eq!(registry.locate(&nse(1)).map(|l| l.strike), Some(0));
    assert_eq!(registry.locate(&nse(2)), None);
    assert!(registry.get(&nse(2)).is_some());
    assert!(matches!(
        registry.warnings(),
        [RegistryWarning { issue: ExpiryIssue::DuplicateContract { kept, dropped, .. }, .. }]
            if *kept == nse(1) && *dropped == nse(2)
    ));
}

#[test]
fn two_index_rows_for_one_underlying_are_refused() {
    let mut other_index = nifty_index();
    other_index.key.security_id = 26000;
    let instruments = vec![
        nifty_index(),
        other_index,
        option(nse(1), 26000.0, OptionRight::Put, 65),
    ];
    let error = InstrumentRegistry::build(instruments, &names(&["NIFTY"])).unwrap_err();
    assert!(
        matches!(error, RegistryError::AmbiguousIndex { underlying, .. } if underlying == "NIFTY")
    );
}

#[test]
fn a_malformed_index_row_is_named_not_reported_missing() {
    let master = parse(
        fixture("malformed_index.csv").as_slice(),
        &Filter::new(["NIFTY"]),
    )
    .unwrap();
    assert_eq!(master.instruments.len(), 4, "the options still parse");
    let error = InstrumentRegistry::build_from_master(
        master.instruments,
        &names(&["NIFTY"]),
        &master.bad_rows,
    )
    .unwrap_err();
    assert_eq!(error.error, RegistryError::MissingIndex(names(&["NIFTY"])));
    assert_eq!(error.rejected.len(), 1);
    assert_eq!(error.rejected[0].class, Some(InstrumentClass::Index));
    let text = error.to_string();
    for part in [
        "line 3",
        "NIFTY index row",
        "TICK_SIZE",
        "\"abc\"",
        "is not a positive tick size",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }

    // A master with no such row at all says only that it is missing.
    let error = InstrumentRegistry::build_from_master(
        fixture_instruments("compact.csv", &FIXTURE_UNDERLYINGS),
        &names(&["FINNIFTY"]),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no index row (segment IDX_I) in the scrip master for FINNIFTY"
    );
}
