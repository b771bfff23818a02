//! The universe on fixed dates: expiries and their flags, counts, id uniqueness,
//! the strike grid, and symbols.

use std::collections::HashSet;

use time::macros::date;

use super::{FIRST_BSE_FNO_ID, FIRST_NSE_FNO_ID, SimUniverseConfig, build_universe, strike_grid};
use instruments::{ExchangeSegment, ExpiryFlag, InstrumentKind, OptionRight};

#[test]
fn default_universe_on_a_wednesday() {
    // 2026-11-18 is a Wednesday; November's last Tuesday is the 24th and its last
    // Thursday the 26th.
    let universe = build_universe(&SimUniverseConfig::default(), date!(2026 - 11 - 18));
    let nifty = universe.expiries("NIFTY");
    assert_eq!(
        nifty,
        [
            date!(2026 - 11 - 24),
            date!(2026 - 12 - 01),
            date!(2026 - 12 - 08),
            date!(2026 - 12 - 15),
            date!(2026 - 12 - 29),
            date!(2027 - 01 - 26)
        ]
    );
    assert_eq!(
        universe.expiry_flag("NIFTY", date!(2026 - 11 - 24)),
        Some(ExpiryFlag::Monthly)
    );
    assert_eq!(
        universe.expiry_flag("NIFTY", date!(2026 - 12 - 01)),
        Some(ExpiryFlag::Weekly)
    );
    assert_eq!(
        universe.expiries("BANKNIFTY"),
        [
            date!(2026 - 11 - 24),
            date!(2026 - 12 - 29),
            date!(2027 - 01 - 26)
        ]
    );
    let sensex = universe.expiries("SENSEX");
    assert_eq!(sensex.first(), Some(&date!(2026 - 11 - 19)));
    assert_eq!(
        universe.expiry_flag("SENSEX", date!(2026 - 11 - 26)),
        Some(ExpiryFlag::Monthly)
    );
    assert_eq!(sensex.len(), 6);
    assert!(universe.expiries("NOSUCH").is_empty());

    // 5 indices; (6 + 6 + 3 × 3) expiries × 81 strikes × 2 rights.
    assert_eq!(universe.instruments.len(), 5 + 21 * 81 * 2);
    let indices: Vec<_> = universe
        .instruments
        .iter()
        .filter(|i| i.kind == InstrumentKind::Index)
        .map(|i| {
            (
                i.symbol.as_str(),
                i.key.segment,
                i.key.security_id,
                i.lot_size,
            )
        })
        .collect();
    assert_eq!(
        indices,
        [
            ("NIFTY", ExchangeSegment::IdxI, 13, 1),
            ("BANKNIFTY", ExchangeSegment::IdxI, 25, 1),
            ("FINNIFTY", ExchangeSegment::IdxI, 27, 1),
            ("MIDCPNIFTY", ExchangeSegment::IdxI, 442, 1),
            ("SENSEX", ExchangeSegment::IdxI, 51, 1),
        ]
    );
    assert_eq!(
        universe.underlying_by_index_id(51).map(|s| s.name.as_str()),
        Some("SENSEX")
    );
}

#[test]
fn todays_last_tuesday_is_todays_monthly_expiry() {
    let universe = build_universe(&SimUniverseConfig::default(), date!(2026 - 11 - 24));
    for name in ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY"] {
        let first = universe.expiries(name).first().copied();
        assert_eq!(first, Some(date!(2026 - 11 - 24)), "{name}");
        assert_eq!(
            universe.expiry_flag(name, date!(2026 - 11 - 24)),
            Some(ExpiryFlag::Monthly),
            "{name}"
        );
    }
    assert_eq!(universe.expiries("NIFTY").len(), 6);
}

#[test]
fn security_ids_are_unique_per_segment_and_sequential() {
    let universe = build_universe(&SimUniverseConfig::default(), date!(2026 - 11 - 18));
    let keys: HashSet<_> = universe.instruments.iter().map(|i| i.key).collect();
    assert_eq!(keys.len(), universe.instruments.len());
    for (segment, first) in [
        (ExchangeSegment::NseFno, FIRST_NSE_FNO_ID),
        (ExchangeSegment::BseFno, FIRST_BSE_FNO_ID),
    ] {
        let ids: Vec<u32> = universe
            .instruments
            .iter()
            .filter(|i| i.key.segment == segment)
            .map(|i| i.key.security_id)
            .collect();
        assert_eq!(ids.first(), Some(&first));
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{segment}");
    }
    let symbols: HashSet<_> = universe.instruments.iter().map(|i| &i.symbol).collect();
    assert_eq!(symbols.len(), universe.instruments.len());
    for (position, instrument) in universe.instruments.iter().enumerate() {
        assert_eq!(universe.position(&instrument.key), Some(position));
    }
}

#[test]
fn chains_are_centred_stepped_and_consistent_with_instruments() {
    let config = SimUniverseConfig::default();
    let universe = build_universe(&config, date!(2026 - 11 - 18));
    for spec in &config.underlyings {
        for &expiry in universe.expiries(&spec.name) {
            let chain = universe.chain(&spec.name, expiry);
            assert_eq!(chain.len(), 81, "{}", spec.name);
            assert_eq!(chain.get(40).map(|s| s.strike), Some(spec.spot));
            assert!(
                chain
                    .windows(2)
                    .all(|w| (w[1].strike - w[0].strike - spec.strike_step).abs() < 1e-9)
            );
            for row in chain {
                for (key, right) in [(row.call, OptionRight::Call), (row.put, OptionRight::Put)] {
                    assert_eq!(key.segment, spec.fno_segment);
                    let instrument = universe.instrument(&key).unwrap();
                    assert_eq!(instrument.underlying, spec.name);
                    assert_eq!(instrument.lot_size, spec.lot_size);
                    assert_eq!(instrument.tick_size, spec.tick_size);
                    let InstrumentKind::Option {
                        expiry: e,
                        strike,
                        right: r,
                        expiry_flag,
                    } = instrument.kind
                    else {
                        panic!("{} is not an option", instrument.symbol);
                    };
                    assert_eq!((e, strike, r), (expiry, row.strike, right));
                    assert_eq!(Some(expiry_flag), universe.expiry_flag(&spec.name, expiry));
                }
            }
        }
    }
    assert!(universe.chain("NIFTY", date!(2026 - 11 - 25)).is_empty());
}

#[test]
fn symbols_follow_dhan() {
    let universe = build_universe(&SimUniverseConfig::default(), date!(2026 - 11 - 18));
    let symbol = |expiry, strike: f64, call: bool| {
        let row = universe
            .chain("NIFTY", expiry)
            .iter()
            .find(|s| s.strike == strike)
            .unwrap();
        let key = if call { row.call } else { row.put };
        universe.instrument(&key).unwrap().symbol.clone()
    };
    assert_eq!(
        symbol(date!(2026 - 11 - 24), 26_000.0, true),
        "NIFTY-Nov2026-26000-CE"
    );
    assert_eq!(
        symbol(date!(2026 - 12 - 01), 25_950.0, false),
        "NIFTY-01Dec2026-25950-PE"
    );
}

#[test]
fn strike_grid_rounds_to_the_step_and_drops_non_positive_strikes() {
    assert_eq!(
        strike_grid(26_020.0, 50.0, 2),
        [25_900.0, 25_950.0, 26_000.0, 26_050.0, 26_100.0]
    );
    assert_eq!(
        strike_grid(26_030.0, 50.0, 1),
        [26_000.0, 26_050.0, 26_100.0]
    );
    assert_eq!(
        strike_grid(100.0, 50.0, 3),
        [50.0, 100.0, 150.0, 200.0, 250.0]
    );
    assert!(strike_grid(26_000.0, 0.0, 3).is_empty());
}

#[test]
fn expiry_weekdays_follow_the_configured_exchange_days() {
    use time::Weekday;
    let config =
        SimUniverseConfig::default().with_expiry_weekdays(Weekday::Monday, Weekday::Friday);
    let universe = build_universe(&config, time::macros::date!(2026 - 11 - 18));
    for name in ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY"] {
        assert!(
            universe
                .expiries(name)
                .iter()
                .all(|d| d.weekday() == Weekday::Monday),
            "{name}"
        );
    }
    assert!(
        universe
            .expiries("SENSEX")
            .iter()
            .all(|d| d.weekday() == Weekday::Friday)
    );
    assert!(!universe.expiries("SENSEX").is_empty());
}
