//! Chains that break the contract are refused with `InvalidInput`, never answered with
//! NaNs.

use greeks_black76::compute;
use optionhub_pricing::chain::{ChainSnapshot, Date, PluginError};

use crate::common::{CLOSE_MS, DAY_MS, Quote, chain};

fn good() -> ChainSnapshot {
    chain(
        Some(25_000.0),
        25_000.0,
        0.065,
        CLOSE_MS - DAY_MS,
        &[
            Quote::at(25_000.0, true, 120.0),
            Quote::at(25_000.0, false, 118.0),
        ],
    )
}

#[track_caller]
fn assert_invalid(chain: &ChainSnapshot, mentions: &str) {
    match compute(chain) {
        Err(PluginError::InvalidInput(message)) => {
            assert!(message.contains(mentions), "{message:?} lacks {mentions:?}")
        }
        other => panic!("expected InvalidInput mentioning {mentions:?}, got {other:?}"),
    }
}

#[test]
fn the_baseline_chain_is_valid() {
    assert!(compute(&good()).is_ok());
}

#[test]
fn ragged_columns() {
    let mut c = good();
    c.contracts.bid.pop();
    assert_invalid(&c, "bid");
    let mut c = good();
    c.contracts.previous_volume.push(1);
    assert_invalid(&c, "previous-volume");
}

#[test]
fn spot_and_rate_must_be_finite_and_sane() {
    for spot in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_invalid(&ChainSnapshot { spot, ..good() }, "spot");
    }
    for rate in [f64::NAN, f64::INFINITY, 1.5, -2.0] {
        assert_invalid(&ChainSnapshot { rate, ..good() }, "rate");
    }
}

#[test]
fn strikes_must_be_positive_finite_levels() {
    for bad in [0.0, -100.0, f64::NAN, f64::INFINITY, 1e16] {
        let mut c = good();
        c.contracts.strike[1] = bad;
        assert_invalid(&c, "row 1");
    }
}

#[test]
fn expiry_must_be_a_real_date_within_a_century() {
    assert_invalid(
        &ChainSnapshot {
            expiry: Date {
                year: 2025,
                month: 2,
                day: 30,
            },
            ..good()
        },
        "not a valid date",
    );
    assert_invalid(
        &ChainSnapshot {
            expiry: Date {
                year: 2025,
                month: 13,
                day: 1,
            },
            ..good()
        },
        "not a valid date",
    );
    assert_invalid(
        &ChainSnapshot {
            as_of_ms: CLOSE_MS - 101 * 366 * DAY_MS,
            ..good()
        },
        "years away",
    );
    assert_invalid(
        &ChainSnapshot {
            as_of_ms: i64::MIN,
            ..good()
        },
        "years away",
    );
}
