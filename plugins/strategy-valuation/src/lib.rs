//! Valuation of a multi-leg options strategy: mark-to-market, payoff curves at the
//! nearest expiry and at a target date, breakevens, max profit and loss, position
//! Greeks, probability of profit and what-if scenarios (options-analytics reference
//! §3.7–§3.9).
//!
//! The public API works on plain Rust types so the maths is tested natively; the
//! `component` module (wasm32 only) converts the WIT `strategy` interface to and from
//! them. Every leg is valued with Black-76 on its own forward, so legs may span expiries.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

mod breakevens;
#[cfg(target_arch = "wasm32")]
mod component;
mod model;
mod payoff;
mod probability;
mod scenarios;
mod validate;

pub use optionhub_pricing::chain::PluginError;

/// What a leg is; mirrors the WIT `leg-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegKind {
    Call,
    Put,
    Future,
}

/// One leg per row; every column has the same length. Quantity = lots × lot size,
/// positive when bought. Mirrors the WIT `leg-columns`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegColumns {
    pub security_id: Vec<u64>,
    pub kind: Vec<LegKind>,
    /// Ignored for futures.
    pub strike: Vec<f64>,
    pub is_buy: Vec<bool>,
    pub lots: Vec<u32>,
    pub lot_size: Vec<u32>,
    pub entry_price: Vec<f64>,
    /// Current mark (mid or last price).
    pub market_price: Vec<f64>,
    /// Forward of the leg's expiry now.
    pub forward: Vec<f64>,
    /// Implied volatility (decimal); ignored for futures.
    pub iv: Vec<f64>,
    /// Years from now to the leg's expiry.
    pub time_to_expiry: Vec<f64>,
}

impl LegColumns {
    /// Number of legs, taken from the security-id column.
    pub fn len(&self) -> usize {
        self.security_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.security_id.is_empty()
    }
}

/// What-ifs, one per row: spot moved by `spot_shift_pct` percent, every IV shifted by
/// `iv_shift_points` volatility points, `days_forward` calendar days later.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioColumns {
    pub spot_shift_pct: Vec<f64>,
    pub iv_shift_points: Vec<f64>,
    pub days_forward: Vec<f64>,
}

/// Everything [`evaluate`] needs; mirrors the WIT `valuation-request`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuationRequest {
    pub legs: LegColumns,
    /// Underlying level now: the x-axis of the payoff curves. Each leg keeps its
    /// forward/spot ratio as the spot moves.
    pub spot: f64,
    pub rate: f64,
    /// The curves run from spot · (1 − range/100) to spot · (1 + range/100).
    pub range_pct: f64,
    /// Points on each curve, 2..=2001.
    pub points: u32,
    /// Years from now to the target date of the second curve (0 = now).
    pub target_years: f64,
    /// Volatility for the probability of profit; `None` = the IV of the option leg whose
    /// strike is nearest its own forward.
    pub pop_volatility: Option<f64>,
    pub scenarios: ScenarioColumns,
}

/// A bound that may not exist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extremum {
    Limited(f64),
    Unlimited,
}

/// Σ quantity × per-unit Greek, in the display units of the WIT `greeks-columns`
/// (delta per point of the leg's forward, gamma per point, theta per calendar day,
/// vega per volatility point, rho per 1 % of rate).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PositionGreeks {
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
    pub rho: f64,
}

/// One row per scenario, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioResults {
    /// P&L of the whole position against the entry prices, rupees.
    pub pnl: Vec<f64>,
    pub delta: Vec<f64>,
    pub gamma: Vec<f64>,
    pub theta: Vec<f64>,
    pub vega: Vec<f64>,
}

/// Everything [`evaluate`] reports; mirrors the WIT `valuation-result`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuationResult {
    /// Per leg: (market − entry) × signed quantity, rupees.
    pub leg_mtm: Vec<f64>,
    pub total_mtm: f64,
    /// Premium paid (positive) or received (negative) at entry, rupees.
    pub net_premium: f64,
    pub curve_spot: Vec<f64>,
    /// P&L at the nearest expiry (later legs valued by Black-76), rupees.
    pub payoff_at_expiry: Vec<f64>,
    /// P&L at the target date, rupees.
    pub payoff_at_target: Vec<f64>,
    /// Underlying levels at the nearest expiry where the P&L is zero, ascending.
    pub breakevens: Vec<f64>,
    /// The largest P&L at the nearest expiry.
    pub max_profit: Extremum,
    /// The largest loss at the nearest expiry as a positive number of rupees (−min P&L;
    /// negative only if the position cannot lose).
    pub max_loss: Extremum,
    /// Position Greeks now.
    pub greeks: PositionGreeks,
    /// Probability that the P&L at the nearest expiry is positive.
    pub probability_of_profit: f64,
    pub scenarios: ScenarioResults,
}

/// Values a strategy: see [`ValuationResult`] for what comes out and the module docs of
/// each step for the model.
///
/// # Errors
/// [`PluginError::InvalidInput`] naming the problem for mismatched column lengths, no
/// legs, `points` outside 2..=2001, a non-finite or out-of-range number (negative
/// prices, non-positive strikes, forwards or spot, negative times...).
/// [`PluginError::NumericalFailure`] if, despite valid input, a result is not finite
/// (e.g. quantities so large that the P&L overflows).
pub fn evaluate(request: &ValuationRequest) -> Result<ValuationResult, PluginError> {
    validate::request(request)?;
    let position = model::Position::new(request);

    let marks = payoff::marks(&position);
    let curves = payoff::curves(request, &position);
    let profile = breakevens::at_expiry(&position);
    let probability_of_profit =
        probability::of_profit(&position, &profile.breakevens, request.pop_volatility);

    let result = ValuationResult {
        leg_mtm: marks.leg_mtm,
        total_mtm: marks.total_mtm,
        net_premium: marks.net_premium,
        curve_spot: curves.spot,
        payoff_at_expiry: curves.at_expiry,
        payoff_at_target: curves.at_target,
        breakevens: profile.breakevens,
        max_profit: profile.max_profit,
        max_loss: profile.max_loss,
        greeks: position.greeks(request.spot, 0.0, 0.0),
        probability_of_profit,
        scenarios: scenarios::run(&request.scenarios, &position),
    };
    validate::finite_result(&result)?;
    Ok(result)
}
