//! The M2M worker's [`Valuer`]: values saved strategies through exactly the path
//! `POST /api/v2/strategies/evaluate` uses (market inputs from [`crate::legs`], the
//! request from [`crate::valuation`], the active `strategy-valuation` plugin), with the
//! curves cut to two points and no scenarios since only the marks are kept.
//!
//! Two things make a cycle of many strategies cheap. Chains are read once per cycle for
//! all strategies. And strategies whose legs share one underlying and one expiry are
//! valued together, up to [`BATCH_LEGS`] legs per plugin call: a leg's mark-to-market,
//! (market − entry) × quantity, does not depend on the other legs in the request, and
//! every call pays a fixed instantiation cost that would otherwise dominate. Each
//! strategy's legs are still resolved on their own, so a leg with no price fails only
//! its strategy; and a batch call that fails on something a leg could cause (the plugin
//! refuses a leg, traps or answers badly on one) is split in halves and retried, down to
//! single strategies, so one bad leg fails its own strategy and never its neighbours.
//! Strategies spanning expiries are valued one per call: mixed expiries send the plugin
//! down its slower scanning path, which must not grow with a batch.

use std::collections::HashMap;

use time::Date;

use plugin_host::CallError;
use store::strategies::StrategyRow;

use crate::legs::{Chains, LiveMarket, MarketInputs, resolve_with};
use crate::money::Money;
use crate::refusal::{Reason, Refusal};
use crate::request::{EvaluateRequest, LegRequest, Price};
use crate::valuation::valuation_request;
use crate::worker::{PluginValuation, Valuer};

/// Most legs valued in one plugin call.
pub const BATCH_LEGS: usize = 64;

/// Values strategies against the live market.
#[derive(Debug, Clone)]
pub struct MarketValuer {
    live: LiveMarket,
}

type Answer = Result<PluginValuation, String>;

impl MarketValuer {
    pub fn new(live: LiveMarket) -> Self {
        Self { live }
    }

    /// The market inputs of one strategy's legs.
    fn resolve(
        &self,
        strategy: &StrategyRow,
        chains: &mut Chains,
    ) -> Result<MarketInputs, Refusal> {
        let legs = strategy
            .legs
            .iter()
            .map(|leg| {
                Ok(LegRequest {
                    security_id: u32::try_from(leg.security_id).map_err(|_| corrupt(leg.id))?,
                    side: leg.side,
                    lots: u32::try_from(leg.lots).map_err(|_| corrupt(leg.id))?,
                    entry_price: Price(Money::from_paise(leg.entry_price_paise).to_rupees_f64()),
                })
            })
            .collect::<Result<Vec<_>, Refusal>>()?;
        resolve_with(&self.live, &legs, chains)
    }

    /// Values a batch of strategies (of one underlying), splitting it when a call fails
    /// on something one strategy's legs could cause (see [`in_halves`]).
    fn call(&self, batch: &[(usize, MarketInputs)], out: &mut [Option<Answer>]) {
        let failed = in_halves(batch, &mut |part| self.call_once(part, out));
        for (part, error) in failed {
            let error = error.to_string();
            for (index, _) in part {
                if let Some(slot) = out.get_mut(*index) {
                    *slot = Some(Err(error.clone()));
                }
            }
        }
    }

    /// One plugin call over the legs of several strategies; the answer split back per
    /// strategy into `out`.
    fn call_once(
        &self,
        batch: &[(usize, MarketInputs)],
        out: &mut [Option<Answer>],
    ) -> Result<(), CallError> {
        let Some((_, first)) = batch.first() else {
            return Ok(());
        };
        let market = MarketInputs {
            underlying: first.underlying.clone(),
            spot: first.spot,
            rate: first.rate,
            as_of_ms: first.as_of_ms,
            legs: batch
                .iter()
                .flat_map(|(_, m)| m.legs.iter().cloned())
                .collect(),
        };
        let body = EvaluateRequest {
            legs: Vec::new(),
            range_pct: 10.0,
            points: 2,
            target_date: None,
            pop_volatility: None,
            scenarios: Vec::new(),
        };
        let request = valuation_request(&body, &market, 0.0);
        let stamped = self.live.plugins.call_strategy(&request)?;
        let mut at = 0;
        for (index, inputs) in batch {
            let end = at + inputs.legs.len();
            let leg_mtm = stamped.value.leg_mtm.get(at..end).map(<[f64]>::to_vec);
            at = end;
            if let Some(slot) = out.get_mut(*index) {
                *slot = Some(
                    leg_mtm
                        .map(|leg_mtm| PluginValuation {
                            leg_mtm,
                            plugin: stamped.plugin.clone(),
                        })
                        .ok_or_else(|| "the plugin answered too few legs".to_string()),
                );
            }
        }
        Ok(())
    }
}

/// Runs `call` on `batch`; when it fails on something one strategy's legs could cause
/// ([`legs_could_cause`]), runs it on each half instead, down to single strategies, so
/// one bad strategy costs about two calls per halving rather than its neighbours'
/// answers (at most `2n - 1` calls when every strategy is bad). Returns the parts that
/// failed for good, with their errors.
fn in_halves<'a, T>(
    batch: &'a [T],
    call: &mut impl FnMut(&'a [T]) -> Result<(), CallError>,
) -> Vec<(&'a [T], CallError)> {
    match call(batch) {
        Ok(()) => Vec::new(),
        Err(error) if batch.len() > 1 && legs_could_cause(&error) => {
            let (left, right) = batch.split_at(batch.len() / 2);
            let mut failed = in_halves(left, call);
            failed.extend(in_halves(right, call));
            failed
        }
        Err(error) => vec![(batch, error)],
    }
}

/// Whether a failed batch may have failed on one strategy's legs, so that valuing its
/// halves apart can save the rest. Not so when the plugin did not run (busy, missing) or
/// was stopped by a limit that retrying smaller batches would only hit more often.
fn legs_could_cause(error: &CallError) -> bool {
    match error {
        CallError::InvalidInput { .. }
        | CallError::NumericalFailure { .. }
        | CallError::Unsupported { .. }
        | CallError::Trap { .. }
        | CallError::MalformedOutput { .. } => true,
        CallError::Timeout { .. }
        | CallError::Blocked { .. }
        | CallError::MemoryLimit { .. }
        | CallError::ResultTooLarge { .. }
        | CallError::ResultOverCap { .. }
        | CallError::WrongWorld { .. }
        | CallError::NotFound { .. }
        | CallError::NoPluginForWorld { .. }
        | CallError::Scheduling(_)
        | CallError::Busy { .. } => false,
    }
}

fn corrupt(leg: i64) -> Refusal {
    Refusal::new(Reason::Corrupt, format!("stored leg {leg} is out of range"))
}

/// The one expiry all the legs share, if they do.
fn single_expiry(market: &MarketInputs) -> Option<Date> {
    let first = market.legs.first()?.expiry;
    market
        .legs
        .iter()
        .all(|l| l.expiry == first)
        .then_some(first)
}

impl Valuer for MarketValuer {
    fn value(&self, strategies: &[StrategyRow]) -> Vec<Answer> {
        let mut chains = Chains::default();
        let mut out: Vec<Option<Answer>> = vec![None; strategies.len()];
        // Batches by underlying and expiry, in the order strategies came.
        let mut batches: HashMap<(String, Date), Vec<(usize, MarketInputs)>> = HashMap::new();
        let mut order: Vec<(String, Date)> = Vec::new();
        for (index, strategy) in strategies.iter().enumerate() {
            let market = match self.resolve(strategy, &mut chains) {
                Ok(market) => market,
                Err(error) => {
                    out[index] = Some(Err(error.to_string()));
                    continue;
                }
            };
            let Some(expiry) = single_expiry(&market) else {
                self.call(&[(index, market)], &mut out);
                continue;
            };
            let key = (market.underlying.clone(), expiry);
            let batch = batches.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Vec::new()
            });
            let legs: usize = batch.iter().map(|(_, m)| m.legs.len()).sum();
            if !batch.is_empty() && legs + market.legs.len() > BATCH_LEGS {
                let full = std::mem::take(batch);
                self.call(&full, &mut out);
            }
            batch.push((index, market));
        }
        for key in order {
            if let Some(batch) = batches.remove(&key) {
                self.call(&batch, &mut out);
            }
        }
        out.into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err("not valued".to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A call over `part` that fails with `error` when `part` holds strategy 5.
    fn failing_on_five(
        calls: &mut usize,
        error: CallError,
    ) -> impl FnMut(&[usize]) -> Result<(), CallError> + '_ {
        move |part| {
            *calls += 1;
            if part.contains(&5) {
                Err(error.clone())
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn a_batch_failing_on_one_strategy_fails_that_strategy_alone() {
        let batch: Vec<usize> = (0..8).collect();
        let mut calls = 0;
        let refused = CallError::InvalidInput {
            plugin: "p".into(),
            message: "leg 5".into(),
        };
        let failed = in_halves(&batch, &mut failing_on_five(&mut calls, refused));
        let failed: Vec<&[usize]> = failed.iter().map(|(part, _)| *part).collect();
        assert_eq!(failed, vec![&[5][..]]);
        assert_eq!(calls, 7, "one call, then two per halving of 8");
    }

    #[test]
    fn a_batch_stopped_by_a_limit_is_not_split() {
        let batch: Vec<usize> = (0..8).collect();
        let mut calls = 0;
        let timeout = CallError::Timeout {
            plugin: "p".into(),
            deadline: Duration::from_millis(100),
        };
        let failed = in_halves(&batch, &mut failing_on_five(&mut calls, timeout));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0.len(), 8);
        assert_eq!(calls, 1);
    }
}
