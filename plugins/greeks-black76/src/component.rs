//! The WebAssembly component boundary: wit-bindgen's `greeks-model` world bound to
//! [`crate::compute`].
//!
//! Only conversions live here. The maths stays in plain Rust so it is tested natively;
//! this module compiles for wasm32 only.
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../wit", world: "greeks-model" });

optionhub_pricing::wit_chain_conversions!(self::optionhub::analytics::types);

use exports::optionhub::analytics::greeks::{
    ChainSnapshot, GreeksResult, Guest as GreeksGuest, PluginError,
};
use exports::optionhub::analytics::meta::{Guest as MetaGuest, PluginInfo};

struct GreeksBlack76;

impl MetaGuest for GreeksBlack76 {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "greeks-black76".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Black-76 implied volatility, price and Greeks per contract, on the chain's forward"
                    .into(),
        }
    }
}

impl GreeksGuest for GreeksBlack76 {
    fn compute(chain: ChainSnapshot) -> Result<GreeksResult, PluginError> {
        let chain = optionhub_pricing::chain::ChainSnapshot::from(chain);
        crate::compute(&chain).map(Into::into).map_err(Into::into)
    }
}

export!(GreeksBlack76);
