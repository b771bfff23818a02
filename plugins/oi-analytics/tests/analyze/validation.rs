//! Input the analytics must reject, with a message that names the problem.

use oi_analytics::{OiOptions, PluginError, PricedChain, analyze};

use crate::common::{call, chain, put};

fn valid() -> PricedChain {
    chain(&[call(100.0, 10), put(100.0, 20)], 100.0, 50)
}

fn rejection(input: &PricedChain, options: &OiOptions) -> String {
    match analyze(input, options) {
        Err(PluginError::InvalidInput(msg)) => msg,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn mismatched_contract_column_is_named() {
    let mut input = valid();
    input.chain.contracts.previous_oi.pop();
    let msg = rejection(&input, &OiOptions::default());
    assert!(msg.contains("previous-oi"), "{msg}");
}

#[test]
fn mismatched_greeks_column_is_named() {
    let mut input = valid();
    input.greeks.greeks.delta.push(0.5);
    let msg = rejection(&input, &OiOptions::default());
    assert!(msg.contains("delta"), "{msg}");

    let mut input = valid();
    input.greeks.greeks.status.clear();
    let msg = rejection(&input, &OiOptions::default());
    assert!(msg.contains("status"), "{msg}");
}

#[test]
fn non_finite_strike_or_forward_is_rejected() {
    let mut input = valid();
    input.chain.contracts.strike[1] = f64::NAN;
    let msg = rejection(&input, &OiOptions::default());
    assert!(msg.contains("strike") && msg.contains("row 1"), "{msg}");

    let mut input = valid();
    input.greeks.forward = f64::INFINITY;
    assert!(rejection(&input, &OiOptions::default()).contains("forward"));
}

#[test]
fn bad_dead_bands_are_rejected() {
    let negative = OiOptions {
        oi_dead_band: -0.01,
        ..OiOptions::default()
    };
    assert!(rejection(&valid(), &negative).contains("oi-dead-band"));
    let nan = OiOptions {
        price_dead_band: f64::NAN,
        ..OiOptions::default()
    };
    assert!(rejection(&valid(), &nan).contains("price-dead-band"));
}
