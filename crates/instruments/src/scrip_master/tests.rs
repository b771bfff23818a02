//! Parsing and writing against the hand-written fixtures in
//! `host/tests/fixtures/scrip_master/` (the same contracts in both layouts), plus a
//! write → parse round trip over arbitrary instrument lists.

use proptest::prelude::*;
use time::macros::date;

use super::fixtures::fixture;
use super::*;
use crate::{ExchangeSegment, ExpiryFlag, Instrument, InstrumentKey, InstrumentKind, OptionRight};

fn all_fixture_underlyings() -> Filter {
    Filter::new(["NIFTY", "BANKNIFTY", "SENSEX", "FINNIFTY"])
}

fn find(master: &ParsedMaster, segment: ExchangeSegment, security_id: u32) -> &Instrument {
    let key = InstrumentKey::new(segment, security_id);
    master
        .instruments
        .iter()
        .find(|i| i.key == key)
        .unwrap_or_else(|| panic!("{key:?} not parsed"))
}

#[test]
fn compact_fixture_keeps_selected_rows_and_reports_bad_ones() {
    let master = parse(
        fixture("compact.csv").as_slice(),
        &all_fixture_underlyings(),
    )
    .unwrap();
    assert_eq!(master.format, MasterFormat::Compact);
    // 3 index rows, 37 NIFTY/SENSEX/FINNIFTY options, 2 futures.
    assert_eq!(master.instruments.len(), 42);
    // Equity ×2, INDIA VIX, BANKEX, an OPTSTK, a commodity future.
    assert_eq!(master.skipped_rows, 6);
    assert_eq!(master.bad_row_count, 4);
    let lines: Vec<u64> = master.bad_rows.iter().map(|bad| bad.line).collect();
    assert_eq!(lines, [29, 30, 31, 32]);
    assert!(
        matches!(&master.bad_rows[0].reason, RowError::Invalid { column: "SEM_STRIKE_PRICE", value, .. } if value == "abc")
    );
    assert!(
        matches!(&master.bad_rows[1].reason, RowError::Invalid { column: "SEM_OPTION_TYPE", value, .. } if value == "XX")
    );
    assert_eq!(
        master.bad_rows[2].reason,
        RowError::MissingExpiry {
            column: "SEM_EXPIRY_DATE",
            value: "0001-01-01".into(),
        }
    );
    assert!(matches!(
        master.bad_rows[3].reason,
        RowError::MissingCell { .. }
    ));

    let nifty = find(&master, ExchangeSegment::IdxI, 13);
    assert_eq!(
        (nifty.kind, nifty.underlying.as_str(), nifty.lot_size),
        (InstrumentKind::Index, "NIFTY", 1)
    );
    assert_eq!(nifty.tick_size, 0.05);
    assert_eq!(
        find(&master, ExchangeSegment::IdxI, 51).underlying,
        "SENSEX"
    );

    let call = find(&master, ExchangeSegment::NseFno, 40001);
    assert_eq!(call.symbol, "NIFTY-Nov2026-25800-CE");
    assert_eq!(call.underlying, "NIFTY");
    assert_eq!(
        call.kind,
        InstrumentKind::Option {
            expiry: date!(2026 - 11 - 17),
            strike: 25800.0,
            right: OptionRight::Call,
            expiry_flag: ExpiryFlag::Weekly,
        }
    );
    // TICK_SIZE is in paise.
    assert_eq!((call.lot_size, call.tick_size), (65, 0.05));

    // The future's SM_SYMBOL_NAME is empty, as in live files: named from its symbol.
    let future = find(&master, ExchangeSegment::NseFno, 45000);
    assert_eq!(
        future.kind,
        InstrumentKind::Future {
            expiry: date!(2026 - 11 - 24)
        }
    );
    assert_eq!(
        (future.underlying.as_str(), future.tick_size),
        ("NIFTY", 0.1)
    );

    // Same security id, other segment: a different contract.
    let sensex_call = find(&master, ExchangeSegment::BseFno, 40001);
    assert_eq!(
        (sensex_call.underlying.as_str(), sensex_call.lot_size),
        ("SENSEX", 20)
    );
}

#[test]
fn both_layouts_parse_to_the_same_instruments() {
    let filter = all_fixture_underlyings();
    let compact = parse(fixture("compact.csv").as_slice(), &filter).unwrap();
    let detailed = parse(fixture("detailed.csv").as_slice(), &filter).unwrap();
    assert_eq!(detailed.format, MasterFormat::Detailed);
    assert_eq!(detailed.instruments, compact.instruments);
    assert_eq!((detailed.skipped_rows, detailed.bad_row_count), (6, 4));
    // The detailed fixture is CRLF, the compact one LF: the same rows, the same lines.
    let lines = |master: &ParsedMaster| master.bad_rows.iter().map(|b| b.line).collect::<Vec<_>>();
    assert_eq!(lines(&detailed), lines(&compact));
    assert!(matches!(
        &detailed.bad_rows[0].reason,
        RowError::Invalid {
            column: "STRIKE_PRICE",
            ..
        }
    ));
}

#[test]
fn rows_of_unselected_underlyings_are_skipped_even_when_malformed() {
    let master = parse(fixture("detailed.csv").as_slice(), &Filter::new(["sensex"])).unwrap();
    assert_eq!(master.instruments.len(), 7);
    assert!(master.instruments.iter().all(|i| i.underlying == "SENSEX"));
    assert_eq!((master.bad_row_count, master.skipped_rows), (0, 52 - 7));
}

#[test]
fn a_header_missing_columns_is_an_error_naming_them() {
    let csv = "SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_TRADING_SYMBOL,\
               SEM_LOT_UNITS,SEM_EXPIRY_DATE,SEM_TICK_SIZE,SEM_EXPIRY_FLAG,SM_SYMBOL_NAME\n\
               NSE,I,13,INDEX,NIFTY,1.0,,0.05,,NIFTY\n";
    let error = parse(csv.as_bytes(), &Filter::new(["NIFTY"])).unwrap_err();
    let ScripMasterError::MissingColumns { format, missing } = &error else {
        panic!("unexpected {error}");
    };
    assert_eq!(*format, MasterFormat::Compact);
    assert_eq!(missing, &["SEM_STRIKE_PRICE", "SEM_OPTION_TYPE"]);
    assert!(
        error
            .to_string()
            .contains("SEM_STRIKE_PRICE, SEM_OPTION_TYPE")
    );

    let empty = parse(&b""[..], &Filter::new(["NIFTY"])).unwrap_err();
    assert!(
        matches!(empty, ScripMasterError::MissingColumns { missing, .. } if missing.len() == 12)
    );
}

#[test]
fn index_names_are_read_through_aliases_in_any_column_order() {
    // A BOM, reordered columns, the NSE spelling of the index names and an index row
    // whose SM_SYMBOL_NAME is empty (named from its trading symbol).
    let csv = "\u{feff}SM_SYMBOL_NAME,SEM_TRADING_SYMBOL,SEM_SMST_SECURITY_ID,SEM_EXM_EXCH_ID,SEM_SEGMENT,\
               SEM_INSTRUMENT_NAME,SEM_LOT_UNITS,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,\
               SEM_TICK_SIZE,SEM_EXPIRY_FLAG\n\
               Nifty 50,NIFTY 50,13,NSE,I,INDEX,1.0,,,XX,0.0500,\n\
               ,NIFTY BANK,25,NSE,I,INDEX,1,0001-01-01,,,0.05,NA\n\
               NIFTY,NIFTY-Nov2026-26000-PE,40002,NSE,D,OPTIDX,65.0,2026-11-24,26000,PE,5,M\n";
    let master = parse(csv.as_bytes(), &Filter::new(["NIFTY", "BANKNIFTY"])).unwrap();
    assert_eq!(master.bad_rows, []);
    let names: Vec<(&str, &str)> = master
        .instruments
        .iter()
        .map(|i| (i.underlying.as_str(), i.symbol.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("NIFTY", "NIFTY 50"),
            ("BANKNIFTY", "NIFTY BANK"),
            ("NIFTY", "NIFTY-Nov2026-26000-PE")
        ]
    );
    assert_eq!(
        master.instruments[0].key,
        InstrumentKey::new(ExchangeSegment::IdxI, 13)
    );
}

#[test]
fn bad_rows_are_capped_but_all_counted() {
    let mut csv = String::from(
        "EXCH_ID,SEGMENT,SECURITY_ID,INSTRUMENT,UNDERLYING_SYMBOL,SYMBOL_NAME,LOT_SIZE,SM_EXPIRY_DATE,\
         STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG\n",
    );
    for id in 0..150 {
        csv.push_str(&format!(
            "NSE,D,{id},OPTIDX,NIFTY,NIFTY-X,75.5,2026-11-24,26000,CE,5,M\n"
        ));
    }
    let master = parse(csv.as_bytes(), &Filter::new(["NIFTY"])).unwrap();
    assert_eq!(master.instruments, []);
    assert_eq!(
        (master.bad_rows.len(), master.bad_row_count),
        (MAX_KEPT_BAD_ROWS, 150)
    );
    assert_eq!(master.bad_rows[99].line, 101);
    assert!(
        matches!(&master.bad_rows[0].reason, RowError::Invalid { column: "LOT_SIZE", value, .. } if value == "75.5")
    );
}

#[test]
fn cells_are_validated() {
    let header = "EXCH_ID,SEGMENT,SECURITY_ID,INSTRUMENT,UNDERLYING_SYMBOL,SYMBOL_NAME,LOT_SIZE,\
                  SM_EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG";
    let reason = |row: &str| {
        let csv = format!("{header}\n{row}\n");
        let master = parse(csv.as_bytes(), &Filter::new(["NIFTY"])).unwrap();
        master.bad_rows.first().map(|bad| bad.reason.to_string())
    };
    assert_eq!(
        reason("NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24,26000,CE,5,W"),
        None
    );
    assert_eq!(
        reason("NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24 14:30:00,26000,CE,5,W"),
        None
    );
    let bad = [
        (
            "NSE,D,-1,OPTIDX,NIFTY,S,65,2026-11-24,26000,CE,5,W",
            "SECURITY_ID",
        ),
        (
            "NSE,X,1,OPTIDX,NIFTY,S,65,2026-11-24,26000,CE,5,W",
            "exchange and segment",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,0,2026-11-24,26000,CE,5,W",
            "LOT_SIZE",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,24/11/2026,26000,CE,5,W",
            "SM_EXPIRY_DATE",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,2026-02-30,26000,CE,5,W",
            "SM_EXPIRY_DATE",
        ),
        ("NSE,D,1,OPTIDX,NIFTY,S,65,,26000,CE,5,W", "needs an expiry"),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24,-0.01,CE,5,W",
            "STRIKE_PRICE",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24,NaN,CE,5,W",
            "STRIKE_PRICE",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24,26000,CE,0,W",
            "TICK_SIZE",
        ),
        (
            "NSE,D,1,OPTIDX,NIFTY,S,65,2026-11-24,26000,CE,5,NA",
            "EXPIRY_FLAG",
        ),
    ];
    for (row, expected) in bad {
        let reason = reason(row).unwrap_or_else(|| panic!("{row} was accepted"));
        assert!(reason.contains(expected), "{row}: {reason}");
    }
}

#[test]
fn written_rows_follow_dhans_conventions() {
    let instruments = [
        Instrument {
            key: InstrumentKey::new(ExchangeSegment::IdxI, 51),
            symbol: "SENSEX".into(),
            underlying: "SENSEX".into(),
            kind: InstrumentKind::Index,
            lot_size: 1,
            tick_size: 0.05,
        },
        Instrument {
            key: InstrumentKey::new(ExchangeSegment::BseFno, 825_001),
            symbol: "SENSEX-Nov2026-81000-PE".into(),
            underlying: "SENSEX".into(),
            kind: InstrumentKind::Option {
                expiry: date!(2026 - 11 - 05),
                strike: 81000.0,
                right: OptionRight::Put,
                expiry_flag: ExpiryFlag::Weekly,
            },
            lot_size: 20,
            tick_size: 0.05,
        },
        Instrument {
            key: InstrumentKey::new(ExchangeSegment::NseFno, 45000),
            symbol: "NIFTY-Nov2026-FUT".into(),
            underlying: "NIFTY".into(),
            kind: InstrumentKind::Future {
                expiry: date!(2026 - 11 - 24),
            },
            lot_size: 65,
            tick_size: 0.1,
        },
    ];
    let mut out = Vec::new();
    write_detailed(&instruments, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("EXCH_ID,SEGMENT,SECURITY_ID,ISIN,INSTRUMENT,"));
    assert!(lines[0].ends_with(",EXPIRY_FLAG,"));
    assert_eq!(
        lines[1],
        "BSE,I,51,NA,INDEX,51,SENSEX,SENSEX,SENSEX,INDEX,NA,1.0,0001-01-01,,XX,0.0500,N,"
    );
    assert_eq!(
        lines[2],
        "BSE,D,825001,NA,OPTIDX,,SENSEX,SENSEX-Nov2026-81000-PE,SENSEX 05 NOV 81000 PUT,OP,NA,20.0,\
         2026-11-05 14:30:00,81000.00000,PE,5.0000,W,"
    );
    assert_eq!(
        lines[3],
        "NSE,D,45000,NA,FUTIDX,,NIFTY,NIFTY-Nov2026-FUT,NIFTY NOV FUT,FUT,NA,65.0,2026-11-24 14:30:00,\
         -0.01000,XX,10.0000,M,"
    );
}

#[test]
fn unrepresentable_instruments_are_refused() {
    let index_in_fno = Instrument {
        key: InstrumentKey::new(ExchangeSegment::NseFno, 13),
        symbol: "NIFTY".into(),
        underlying: "NIFTY".into(),
        kind: InstrumentKind::Index,
        lot_size: 1,
        tick_size: 0.05,
    };
    let error = write_detailed(&[index_in_fno], Vec::new()).unwrap_err();
    assert!(matches!(error, WriteError::Unrepresentable { key, .. } if key.security_id == 13));
}

#[test]
fn the_fixture_survives_a_write_and_parse() {
    let filter = all_fixture_underlyings();
    let original = parse(fixture("compact.csv").as_slice(), &filter).unwrap();
    let mut written = Vec::new();
    write_detailed(&original.instruments, &mut written).unwrap();
    let reparsed = parse(written.as_slice(), &filter).unwrap();
    assert_eq!(reparsed.instruments, original.instruments);
    assert_eq!((reparsed.skipped_rows, reparsed.bad_row_count), (0, 0));
}

const UNDERLYINGS: [&str; 3] = ["NIFTY", "BANKNIFTY", "SENSEX"];
/// Tick sizes (rupees) that Dhan's four-decimal paise column can carry exactly.
const DERIVATIVE_TICKS: [f64; 6] = [0.05, 0.1, 0.01, 0.0025, 0.25, 1.0];

fn arbitrary_instrument() -> impl Strategy<Value = Instrument> {
    (
        (0..UNDERLYINGS.len(), 0u8..3, any::<u32>(), any::<bool>()),
        (0i64..4000, 1u32..8000, any::<bool>(), any::<bool>()),
        (1u32..100_000, 0..DERIVATIVE_TICKS.len()),
        "[A-Za-z0-9][A-Za-z0-9 ,\"-]{0,12}[A-Za-z0-9]",
    )
        .prop_map(
            |(
                (name, kind, security_id, on_bse),
                (days, strike, call, weekly),
                (lot, tick),
                symbol,
            )| {
                let expiry = date!(2024 - 01 - 01) + time::Duration::days(days);
                let fno = if on_bse {
                    ExchangeSegment::BseFno
                } else {
                    ExchangeSegment::NseFno
                };
                let (segment, kind, tick_size) = match kind {
                    0 => (ExchangeSegment::IdxI, InstrumentKind::Index, 0.05),
                    1 => (
                        fno,
                        InstrumentKind::Future { expiry },
                        DERIVATIVE_TICKS[tick],
                    ),
                    _ => (
                        fno,
                        InstrumentKind::Option {
                            expiry,
                            strike: f64::from(strike) * 12.5,
                            right: if call {
                                OptionRight::Call
                            } else {
                                OptionRight::Put
                            },
                            expiry_flag: if weekly {
                                ExpiryFlag::Weekly
                            } else {
                                ExpiryFlag::Monthly
                            },
                        },
                        DERIVATIVE_TICKS[tick],
                    ),
                };
                Instrument {
                    key: InstrumentKey::new(segment, security_id),
                    symbol,
                    underlying: UNDERLYINGS[name].to_owned(),
                    kind,
                    lot_size: lot,
                    tick_size,
                }
            },
        )
}

proptest! {
    #[test]
    fn write_then_parse_is_identity(instruments in prop::collection::vec(arbitrary_instrument(), 0..24)) {
        let mut written = Vec::new();
        write_detailed(&instruments, &mut written).unwrap();
        let parsed = parse(written.as_slice(), &Filter::new(UNDERLYINGS)).unwrap();
        prop_assert_eq!(parsed.bad_rows, vec![]);
        prop_assert_eq!(parsed.instruments, instruments);
    }
}

#[test]
fn rejected_rows_are_summarised_with_line_column_value_and_reason() {
    let master = parse(
        fixture("compact.csv").as_slice(),
        &all_fixture_underlyings(),
    )
    .unwrap();
    let summary = master.bad_rows_summary().unwrap();
    assert!(
        summary.starts_with(
            "line 29 (NIFTY index option): SEM_STRIKE_PRICE \"abc\" is not a positive strike; \
             line 30 (NIFTY index option): SEM_OPTION_TYPE \"XX\" is not CE or PE"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("SEM_EXPIRY_DATE \"0001-01-01\" gives no expiry"),
        "{summary}"
    );
    let clean = parse(fixture("compact.csv").as_slice(), &Filter::new(["SENSEX"])).unwrap();
    assert_eq!(clean.bad_rows_summary(), None);
}
