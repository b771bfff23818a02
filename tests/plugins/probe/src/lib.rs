//! Test fixture: a `custom-analytics` plugin that reports which build answered.
//!
//! The hot-swap test loads build 1, calls it from several threads, swaps in build 2
//! (the same crate with feature `v2`) and checks every answer came from exactly one build.
//! With the parameter `trap` it panics (a failure the caller's input causes); on a chain
//! whose underlying is `TRAP` it panics whatever the parameters (a failure of the version
//! on market data), so tests can drive a version into quarantine.
//! It also reports how many calls its instance has seen, which shows whether any state
//! survives from one call to the next (it must not).

// Only a component makes sense of this crate; natively its export names cannot even link.
#![cfg(target_arch = "wasm32")]
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

use std::sync::atomic::{AtomicU32, Ordering};

wit_bindgen::generate!({ path: "../../../wit", world: "custom-analytics" });

use exports::optionhub::analytics::custom::{
    AnalyticsResult, Guest as Custom, NamedScalar, ParamSpec, PluginError, PricedChain,
};
use exports::optionhub::analytics::meta::{Guest as Meta, PluginInfo};

const BUILD: f64 = if cfg!(feature = "v2") { 2.0 } else { 1.0 };

/// Calls this instance has served, counted in a static: every call must see 1, because
/// every call gets a fresh instance whose memory holds nothing from an earlier one.
static CALLS_SEEN: AtomicU32 = AtomicU32::new(0);

struct Probe;

impl Meta for Probe {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "probe".into(),
            version: if cfg!(feature = "v2") {
                "2.0.0"
            } else {
                "1.0.0"
            }
            .into(),
            description: "Answers with its build number and the chain size".into(),
        }
    }
}

impl Custom for Probe {
    fn params() -> Vec<ParamSpec> {
        Vec::new()
    }

    fn run(
        input: PricedChain,
        params: Vec<(String, String)>,
    ) -> Result<AnalyticsResult, PluginError> {
        let calls_seen = CALLS_SEEN.fetch_add(1, Ordering::Relaxed) + 1;
        // `trap` lets a test make one build fail on a caller's parameter; a chain of
        // underlying `TRAP` makes it fail on market data, parameters or not.
        if params.iter().any(|(name, _)| name == "trap") {
            panic!("probe build {BUILD} asked to trap");
        }
        if input.chain.underlying == "TRAP" {
            panic!("probe build {BUILD} asked to trap by the chain");
        }
        Ok(AnalyticsResult {
            scalars: vec![
                NamedScalar {
                    name: "build".into(),
                    unit: String::new(),
                    value: BUILD,
                },
                NamedScalar {
                    name: "calls_seen".into(),
                    unit: String::new(),
                    value: f64::from(calls_seen),
                },
                NamedScalar {
                    name: "contracts".into(),
                    unit: String::new(),
                    value: input.chain.contracts.strike.len() as f64,
                },
            ],
            series: Vec::new(),
            tables: Vec::new(),
        })
    }
}

export!(Probe);
