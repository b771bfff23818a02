//! The M2M worker's [`Valuer`]: values saved strategies through exactly the path
//! `POST /api/v2/strategies/evaluate` uses (market inputs from [`super::strategy_legs`],
//! the request from [`super::strategies`], the active `strategy-valuation` plugin), with
//! the curves cut to two points and no scenarios since only the marks are kept. Chains
//! are read once per cycle for all strategies.

use super::AppState;
use super::strategies::valuation_request;
use super::strategy_legs::{Chains, resolve_with};
use super::strategy_request::{EvaluateRequest, LegRequest, Money as RequestMoney, Side};
use crate::error::AppError;
use crate::portfolio::Money;
use crate::portfolio::worker::{PluginValuation, Valuer};
use crate::store::strategies::{LegSide, StrategyRow};

/// Values strategies against the live market held in the API state.
#[derive(Debug, Clone)]
pub struct MarketValuer {
    state: AppState,
}

impl MarketValuer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    fn one(
        &self,
        strategy: &StrategyRow,
        chains: &mut Chains,
    ) -> Result<PluginValuation, AppError> {
        let legs = strategy
            .legs
            .iter()
            .map(|leg| {
                Ok(LegRequest {
                    security_id: u32::try_from(leg.security_id).map_err(|_| corrupt(leg.id))?,
                    side: match leg.side {
                        LegSide::Buy => Side::Buy,
                        LegSide::Sell => Side::Sell,
                    },
                    lots: u32::try_from(leg.lots).map_err(|_| corrupt(leg.id))?,
                    entry_price: RequestMoney(
                        Money::from_paise(leg.entry_price_paise).to_rupees_f64(),
                    ),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let body = EvaluateRequest {
            legs,
            range_pct: 10.0,
            points: 2,
            target_date: None,
            pop_volatility: None,
            scenarios: Vec::new(),
        };
        let market = resolve_with(&self.state, &body.legs, chains)?;
        let request = valuation_request(&body, &market, 0.0);
        let stamped = self.state.plugins.call_strategy(&request)?;
        Ok(PluginValuation {
            leg_mtm: stamped.value.leg_mtm,
            plugin: stamped.plugin,
        })
    }
}

fn corrupt(leg: i64) -> AppError {
    AppError::Internal(format!("stored leg {leg} is out of range"))
}

impl Valuer for MarketValuer {
    fn value(&self, strategies: &[StrategyRow]) -> Vec<Result<PluginValuation, String>> {
        let mut chains = Chains::default();
        strategies
            .iter()
            .map(|s| self.one(s, &mut chains).map_err(|e| e.to_string()))
            .collect()
    }
}
