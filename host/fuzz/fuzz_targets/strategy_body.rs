//! Fuzzes the strategy request bodies: any bytes sent to `POST
//! /api/v2/strategies/evaluate` or as a saved strategy's leg must be refused with an
//! error or accepted, never panic, and an accepted body must survive its range checks
//! without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optionhub::api::saved_strategy_body::{AddLeg, CreateStrategy, PatchStrategy};
use optionhub::api::strategy_request::EvaluateRequest;

/// 2026-11-20 09:20 IST, a fixed "now" so runs are reproducible.
const NOW_MS: i64 = 1_795_672_200_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<EvaluateRequest>(data) {
        if request.validate().is_ok() {
            let _ = request.target();
        }
    }
    if let Ok(leg) = serde_json::from_slice::<AddLeg>(data) {
        let _ = leg.validate(NOW_MS);
    }
    let _ = serde_json::from_slice::<CreateStrategy>(data);
    let _ = serde_json::from_slice::<PatchStrategy>(data);
});
