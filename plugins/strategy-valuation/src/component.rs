//! The WebAssembly component boundary: wit-bindgen's `strategy-valuation` world bound to
//! [`crate::evaluate`].
//!
//! Only conversions live here. The maths stays in plain Rust so it is tested natively;
//! this module compiles for wasm32 only.
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../wit", world: "strategy-valuation" });

// For the `plugin-error` conversion; the chain conversions it also generates go unused.
optionhub_pricing::wit_chain_conversions!(self::optionhub::analytics::types);

use exports::optionhub::analytics::meta::{Guest as MetaGuest, PluginInfo};
use exports::optionhub::analytics::strategy as wit;

struct StrategyValuation;

impl MetaGuest for StrategyValuation {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "strategy-valuation".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Payoff, breakevens, max profit/loss, PoP, Greeks and what-ifs of a multi-leg strategy"
                .into(),
        }
    }
}

impl wit::Guest for StrategyValuation {
    fn evaluate(request: wit::ValuationRequest) -> Result<wit::ValuationResult, wit::PluginError> {
        crate::evaluate(&request.into())
            .map(Into::into)
            .map_err(Into::into)
    }
}

export!(StrategyValuation);

impl From<wit::LegKind> for crate::LegKind {
    fn from(k: wit::LegKind) -> Self {
        match k {
            wit::LegKind::Call => Self::Call,
            wit::LegKind::Put => Self::Put,
            wit::LegKind::Future => Self::Future,
        }
    }
}

impl From<wit::LegColumns> for crate::LegColumns {
    fn from(c: wit::LegColumns) -> Self {
        Self {
            security_id: c.security_id,
            kind: c.kind.into_iter().map(Into::into).collect(),
            strike: c.strike,
            is_buy: c.is_buy,
            lots: c.lots,
            lot_size: c.lot_size,
            entry_price: c.entry_price,
            market_price: c.market_price,
            forward: c.forward,
            iv: c.iv,
            time_to_expiry: c.time_to_expiry,
        }
    }
}

impl From<wit::ScenarioColumns> for crate::ScenarioColumns {
    fn from(s: wit::ScenarioColumns) -> Self {
        Self {
            spot_shift_pct: s.spot_shift_pct,
            iv_shift_points: s.iv_shift_points,
            days_forward: s.days_forward,
        }
    }
}

impl From<wit::ValuationRequest> for crate::ValuationRequest {
    fn from(r: wit::ValuationRequest) -> Self {
        Self {
            legs: r.legs.into(),
            spot: r.spot,
            rate: r.rate,
            range_pct: r.range_pct,
            points: r.points,
            target_years: r.target_years,
            pop_volatility: r.pop_volatility,
            scenarios: r.scenarios.into(),
        }
    }
}

impl From<crate::Extremum> for wit::Extremum {
    fn from(e: crate::Extremum) -> Self {
        match e {
            crate::Extremum::Limited(x) => Self::Limited(x),
            crate::Extremum::Unlimited => Self::Unlimited,
        }
    }
}

impl From<crate::PositionGreeks> for wit::PositionGreeks {
    fn from(g: crate::PositionGreeks) -> Self {
        Self {
            delta: g.delta,
            gamma: g.gamma,
            theta: g.theta,
            vega: g.vega,
            rho: g.rho,
        }
    }
}

impl From<crate::ScenarioResults> for wit::ScenarioResults {
    fn from(s: crate::ScenarioResults) -> Self {
        Self {
            pnl: s.pnl,
            delta: s.delta,
            gamma: s.gamma,
            theta: s.theta,
            vega: s.vega,
        }
    }
}

impl From<crate::ValuationResult> for wit::ValuationResult {
    fn from(r: crate::ValuationResult) -> Self {
        Self {
            leg_mtm: r.leg_mtm,
            total_mtm: r.total_mtm,
            net_premium: r.net_premium,
            curve_spot: r.curve_spot,
            payoff_at_expiry: r.payoff_at_expiry,
            payoff_at_target: r.payoff_at_target,
            breakevens: r.breakevens,
            max_profit: r.max_profit.into(),
            max_loss: r.max_loss.into(),
            greeks: r.greeks.into(),
            probability_of_profit: r.probability_of_profit,
            scenarios: r.scenarios.into(),
        }
    }
}
