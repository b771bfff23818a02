//! `POST /api/v2/strategies/evaluate`: stateless valuation of a multi-leg strategy
//! against the live market by the active `strategy-valuation` plugin: leg and total
//! mark-to-market, net premium, payoff curves at the nearest expiry and at a target
//! date, breakevens, max profit and loss (`"unlimited"` where the plugin says so),
//! position Greeks, probability of profit and what-if scenarios.
//!
//! Nothing is stored: the body names the legs, the `strategy` crate checks it, reads
//! the market inputs and builds the plugin request, and this module runs it off the
//! async runtime and shapes the answer. Answers depend on the
//! body and the moment, so they are not cached.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::AppError;
use crate::api::error::ErrorBody;
use crate::api::extract::ApiJson;
use crate::plugins::PluginStamp;
use crate::plugins::strategy::{self, LegKind};
use crate::store::strategies::Side;
use ::strategy::{
    EvaluateRequest, LegRequest, MarketInputs, ScenarioRequest, resolve, target_years,
    valuation_request,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/strategies/evaluate", post(evaluate))
}

/// The strategy route, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(evaluate),
    components(schemas(
        EvaluateRequest,
        LegRequest,
        Side,
        ScenarioRequest,
        EvaluateResponse,
        LegValuation,
        PayoffCurves,
        Bound,
        Unbounded,
        PositionGreeks,
        ScenarioResult,
        ErrorBody
    ))
)]
pub struct StrategiesApi;

/// `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unbounded {
    Unlimited,
}

/// Rupees, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Bound {
    Limited(f64),
    Unlimited(Unbounded),
}

impl From<strategy::Extremum> for Bound {
    fn from(e: strategy::Extremum) -> Self {
        match e {
            strategy::Extremum::Limited(v) => Self::Limited(v),
            strategy::Extremum::Unlimited => Self::Unlimited(Unbounded::Unlimited),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LegValuation {
    pub security_id: u32,
    pub symbol: String,
    /// `call`, `put` or `future`.
    #[schema(example = "call")]
    pub kind: &'static str,
    /// Null for futures.
    pub strike: Option<f64>,
    pub expiry: Date,
    pub side: Side,
    pub lots: u32,
    pub lot_size: u32,
    /// Units, positive when bought.
    pub quantity: i64,
    pub entry_price: f64,
    /// Mid of bid and ask, else last price; the forward for futures.
    pub market_price: f64,
    pub forward: f64,
    /// Decimal; null for futures.
    pub iv: Option<f64>,
    pub time_to_expiry_years: f64,
    /// (market − entry) × quantity, rupees.
    pub mtm: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoffCurves {
    /// Underlying levels (x axis).
    pub spot: Vec<f64>,
    /// P&L at the nearest expiry, rupees.
    pub at_expiry: Vec<f64>,
    /// P&L at the target date, rupees.
    pub at_target: Vec<f64>,
}

/// Sum over legs of quantity × per-unit Greek (theta per day, vega per vol point, rho per
/// 1 % of rate).
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionGreeks {
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
    pub rho: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioResult {
    #[serde(flatten)]
    pub scenario: ScenarioRequest,
    /// P&L of the whole position, rupees.
    pub pnl: f64,
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluateResponse {
    pub underlying: String,
    pub spot: f64,
    pub rate: f64,
    /// The instant the legs were valued at (RFC 3339, UTC).
    pub as_of: String,
    pub target_date: Option<Date>,
    pub legs: Vec<LegValuation>,
    pub total_mtm: f64,
    /// Premium paid (positive) or received (negative) at entry, rupees.
    pub net_premium: f64,
    pub payoff: PayoffCurves,
    /// Underlying levels at the nearest expiry where P&L crosses zero, ascending.
    pub breakevens: Vec<f64>,
    pub max_profit: Bound,
    /// A positive amount of rupees, or `"unlimited"`.
    pub max_loss: Bound,
    pub greeks: PositionGreeks,
    /// Probability that P&L at the nearest expiry is positive.
    pub probability_of_profit: f64,
    pub scenarios: Vec<ScenarioResult>,
    /// The `strategy-valuation` version that computed this.
    pub plugin: PluginStamp,
}

/// Values a strategy against the live market.
#[utoipa::path(
    post,
    path = "/api/v2/strategies/evaluate",
    tag = "strategies",
    request_body(content = EvaluateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The valuation", body = EvaluateResponse),
        (status = 400, description = "Not JSON, or a malformed date", body = ErrorBody),
        (status = 404, description = "No contract has a leg's security id (`unknown_contract`)", body = ErrorBody),
        (status = 422, description = "JSON of the wrong shape, a value out of range, legs on different underlyings, or a leg with no price yet", body = ErrorBody),
        (status = 503, description = "Greeks or the spot not known yet, or no strategy-valuation plugin loaded", body = ErrorBody),
    )
)]
pub async fn evaluate(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EvaluateRequest>,
) -> Result<Json<EvaluateResponse>, AppError> {
    body.validate()?;
    let target = body.target()?;
    let market = resolve(&state.live_market(), &body.legs)?;
    let years = target_years(target, &market)?;
    let request = valuation_request(&body, &market, years);
    let stamped = state
        .plugins
        .blocking(move |host| host.call_strategy(&request))
        .await??;
    Ok(Json(response(
        &body,
        market,
        target,
        stamped.value,
        stamped.plugin,
    )))
}

fn response(
    body: &EvaluateRequest,
    market: MarketInputs,
    target_date: Option<Date>,
    r: strategy::ValuationResult,
    plugin: PluginStamp,
) -> EvaluateResponse {
    let as_of =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(market.as_of_ms) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
    let legs = leg_valuations(&market, &r.leg_mtm);
    let scenarios = scenario_results(body, &r.scenarios);
    EvaluateResponse {
        underlying: market.underlying,
        spot: market.spot,
        rate: market.rate,
        as_of,
        target_date,
        legs,
        total_mtm: r.total_mtm,
        net_premium: r.net_premium,
        payoff: PayoffCurves {
            spot: r.curve_spot,
            at_expiry: r.payoff_at_expiry,
            at_target: r.payoff_at_target,
        },
        breakevens: r.breakevens,
        max_profit: r.max_profit.into(),
        max_loss: r.max_loss.into(),
        greeks: PositionGreeks {
            delta: r.greeks.delta,
            gamma: r.greeks.gamma,
            theta: r.greeks.theta,
            vega: r.greeks.vega,
            rho: r.greeks.rho,
        },
        probability_of_profit: r.probability_of_profit,
        scenarios,
        plugin,
    }
}

/// Each leg as the answer shows it: what it is, how much of it, and its mark-to-market.
fn leg_valuations(market: &MarketInputs, leg_mtm: &[f64]) -> Vec<LegValuation> {
    market
        .legs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let units = i64::from(l.request.lots) * i64::from(l.lot_size);
            LegValuation {
                security_id: l.request.security_id,
                symbol: l.symbol.clone(),
                kind: match l.kind {
                    LegKind::Call => "call",
                    LegKind::Put => "put",
                    LegKind::Future => "future",
                },
                strike: l.strike,
                expiry: l.expiry,
                side: l.request.side,
                lots: l.request.lots,
                lot_size: l.lot_size,
                quantity: if l.request.side == Side::Buy {
                    units
                } else {
                    -units
                },
                entry_price: l.request.entry_price.0,
                market_price: l.market_price,
                forward: l.forward,
                iv: l.iv,
                time_to_expiry_years: l.time_to_expiry,
                mtm: leg_mtm.get(i).copied().unwrap_or(0.0),
            }
        })
        .collect()
}

/// Each requested what-if with the plugin's figures for it.
fn scenario_results(body: &EvaluateRequest, s: &strategy::ScenarioResults) -> Vec<ScenarioResult> {
    body.scenarios
        .iter()
        .enumerate()
        .map(|(i, scenario)| ScenarioResult {
            scenario: *scenario,
            pnl: s.pnl.get(i).copied().unwrap_or(0.0),
            delta: s.delta.get(i).copied().unwrap_or(0.0),
            gamma: s.gamma.get(i).copied().unwrap_or(0.0),
            theta: s.theta.get(i).copied().unwrap_or(0.0),
            vega: s.vega.get(i).copied().unwrap_or(0.0),
        })
        .collect()
}
