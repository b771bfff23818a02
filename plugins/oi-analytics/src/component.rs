//! The WebAssembly component boundary: wit-bindgen's `oi-analytics` world bound to
//! [`crate::analyze`].
//!
//! Only conversions live here. The maths stays in plain Rust so it is tested natively;
//! this module compiles for wasm32 only.
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../wit", world: "oi-analytics" });

optionhub_pricing::wit_chain_conversions!(self::optionhub::analytics::types);

use exports::optionhub::analytics::meta::{Guest as MetaGuest, PluginInfo};
use exports::optionhub::analytics::oi as wit;
use optionhub_pricing::chain::PricedChain;

struct OiAnalytics;

impl MetaGuest for OiAnalytics {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "oi-analytics".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Max pain, PCR, OI buildup, OI movers and support/resistance for one chain".into(),
        }
    }
}

impl wit::Guest for OiAnalytics {
    fn analyze(
        input: wit::PricedChain,
        options: wit::OiOptions,
    ) -> Result<wit::OiReport, wit::PluginError> {
        let input = PricedChain::from(input);
        crate::analyze(&input, &options.into())
            .map(Into::into)
            .map_err(Into::into)
    }
}

export!(OiAnalytics);

impl From<wit::OiOptions> for crate::OiOptions {
    fn from(o: wit::OiOptions) -> Self {
        Self {
            top_n: o.top_n,
            sr_window: o.sr_window,
            oi_dead_band: o.oi_dead_band,
            price_dead_band: o.price_dead_band,
        }
    }
}

impl From<crate::Buildup> for wit::Buildup {
    fn from(b: crate::Buildup) -> Self {
        match b {
            crate::Buildup::LongBuildup => Self::LongBuildup,
            crate::Buildup::ShortBuildup => Self::ShortBuildup,
            crate::Buildup::ShortCovering => Self::ShortCovering,
            crate::Buildup::LongUnwinding => Self::LongUnwinding,
            crate::Buildup::Neutral => Self::Neutral,
        }
    }
}

fn classes(b: Vec<crate::Buildup>) -> Vec<wit::Buildup> {
    b.into_iter().map(Into::into).collect()
}

impl From<crate::StrikeDistribution> for wit::StrikeDistribution {
    fn from(d: crate::StrikeDistribution) -> Self {
        Self {
            strike: d.strike,
            call_oi: d.call_oi,
            put_oi: d.put_oi,
            call_oi_change: d.call_oi_change,
            put_oi_change: d.put_oi_change,
            call_volume: d.call_volume,
            put_volume: d.put_volume,
            call_iv: d.call_iv,
            put_iv: d.put_iv,
            call_delta: d.call_delta,
            put_delta: d.put_delta,
            call_gamma: d.call_gamma,
            put_gamma: d.put_gamma,
            pain: d.pain,
        }
    }
}

impl From<crate::OiMovers> for wit::OiMovers {
    fn from(m: crate::OiMovers) -> Self {
        Self {
            row: m.row,
            security_id: m.security_id,
            strike: m.strike,
            is_call: m.is_call,
            oi: m.oi,
            oi_change: m.oi_change,
            oi_change_pct: m.oi_change_pct,
            price_change: m.price_change,
            buildup: classes(m.buildup),
        }
    }
}

impl From<crate::OiReport> for wit::OiReport {
    fn from(r: crate::OiReport) -> Self {
        Self {
            atm_strike: r.atm_strike,
            distribution: r.distribution.into(),
            gainers: r.gainers.into(),
            losers: r.losers.into(),
            pcr_oi: r.pcr_oi,
            pcr_volume: r.pcr_volume,
            max_pain: r.max_pain,
            support: r.support,
            resistance: r.resistance,
            total_call_oi: r.total_call_oi,
            total_put_oi: r.total_put_oi,
            total_call_volume: r.total_call_volume,
            total_put_volume: r.total_put_volume,
            buildup: classes(r.buildup),
        }
    }
}
