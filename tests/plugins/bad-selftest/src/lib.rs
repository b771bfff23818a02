//! Test fixture: a `greeks-model` plugin (info name `bad-selftest`) whose output breaks
//! the contract in two ways, so the host's load-time self-test must reject it.
//!
//! The contract (`wit/types.wit`, `greeks-columns`) says: one row per input contract,
//! and no value is ever NaN or infinite. This plugin returns, for a chain of `n`
//! contracts:
//!
//! - greeks columns with `n - 1` rows (one row short); for `n <= 1` it returns one row
//!   instead, so the output is still malformed and still carries the NaN below;
//! - a NaN `delta` in row 0.
//!
//! Everything else is harmless: zero price, IV and Greeks with status `no-price`, the
//! given forward (or the spot), and a placeholder time to expiry of one day. The
//! component type-checks against the real world, so only the self-test's checks on the
//! output can catch it.

// Only a component makes sense of this crate; natively its export names cannot even link.
#![cfg(target_arch = "wasm32")]
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../../wit", world: "greeks-model" });

use exports::optionhub::analytics::greeks::{
    ChainSnapshot, GreeksResult, Guest as Greeks, PluginError,
};
use exports::optionhub::analytics::meta::{Guest as Meta, PluginInfo};
use optionhub::analytics::types::{ForwardSource, GreeksColumns, IvStatus};

struct BadSelftest;

impl Meta for BadSelftest {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bad-selftest".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Returns one greeks row too few and a NaN delta (test fixture)".into(),
        }
    }
}

impl Greeks for BadSelftest {
    fn compute(chain: ChainSnapshot) -> Result<GreeksResult, PluginError> {
        let contracts = chain.contracts.strike.len();
        // One row short; never zero rows, so the NaN below always has a row to live in.
        let rows = contracts.saturating_sub(1).max(1);
        let zeros = vec![0.0; rows];
        let mut delta = zeros.clone();
        delta[0] = f64::NAN;
        let (forward, forward_source) = match chain.forward {
            Some(forward) => (forward, ForwardSource::Given),
            None => (chain.spot, ForwardSource::Spot),
        };
        Ok(GreeksResult {
            model: "bad-selftest".into(),
            forward,
            forward_source,
            time_to_expiry: 1.0 / 365.0,
            greeks: GreeksColumns {
                price: zeros.clone(),
                iv: zeros.clone(),
                delta,
                gamma: zeros.clone(),
                theta: zeros.clone(),
                vega: zeros.clone(),
                rho: zeros,
                status: vec![IvStatus::NoPrice; rows],
            },
        })
    }
}

export!(BadSelftest);
