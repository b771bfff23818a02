//! The M2M worker: every interval, reads every open strategy with its legs (from memory
//! while none has changed, see `store::strategies::OpenSet`), has them valued (all in
//! one blocking task, so chain reads are shared across strategies), converts each leg's
//! value to exact paise, appends the totals to the strategies' M2M histories (in one
//! transaction per cycle) and publishes each valuation on the [`M2mHub`].
//!
//! A strategy that cannot be valued this cycle (no legs, no price yet, no plugin) is
//! skipped and tried again next cycle; it is logged at debug level, since a market that
//! has not opened yet would otherwise log every strategy every few seconds.

use std::sync::Arc;
use std::time::Duration;

use crate::hub::{LegM2m, M2mHub, M2mUpdate};
use crate::money::{Money, MoneyError};
use plugin_host::PluginStamp;
use store::m2m::M2mRow;
use store::strategies::StrategyRow;
use store::{Store, StoreError, now_ms};

/// Values strategies against the live market. Called off the async runtime.
pub trait Valuer: Send + Sync + 'static {
    /// One answer per strategy, in order: the value of each leg in rupees (as the
    /// plugin computed it) and the plugin that did, or why it could not be valued.
    fn value(&self, strategies: &[StrategyRow]) -> Vec<Result<PluginValuation, String>>;
}

/// What the plugin said about one strategy.
#[derive(Debug, Clone)]
pub struct PluginValuation {
    /// Rupees per leg, in the order of the strategy's legs.
    pub leg_mtm: Vec<f64>,
    pub plugin: PluginStamp,
}

/// A plugin valuation in exact money: each leg rounded to paise once, the total their
/// exact sum (the rules in [`crate::money`]).
pub fn to_update(
    strategy: &StrategyRow,
    valuation: PluginValuation,
    at_ms: i64,
) -> Result<M2mUpdate, MoneyError> {
    let legs = strategy
        .legs
        .iter()
        .zip(&valuation.leg_mtm)
        .map(|(leg, &rupees)| {
            Ok(LegM2m {
                leg_id: leg.id,
                m2m: Money::from_rupees_f64(rupees)?,
            })
        })
        .collect::<Result<Vec<_>, MoneyError>>()?;
    Ok(M2mUpdate {
        strategy_id: strategy.id,
        at_ms,
        strategy_version: strategy.version,
        m2m: Money::sum(legs.iter().map(|l| l.m2m))?,
        legs,
        plugin: valuation.plugin,
    })
}

/// What one cycle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub valued: usize,
    pub skipped: usize,
}

/// Why a cycle stopped early.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the valuation task failed: {0}")]
    Task(String),
}

/// One cycle: value every open strategy, append and publish.
pub async fn cycle(
    store: &Store,
    hub: &M2mHub,
    valuer: &Arc<dyn Valuer>,
) -> Result<CycleReport, CycleError> {
    let open = store.strategies().open().await?;
    // A strategy with no legs has nothing to value. The held set is shared, so it is
    // copied only when there is such a strategy to leave out.
    let strategies = if open.iter().all(|s| !s.legs.is_empty()) {
        open
    } else {
        Arc::new(
            open.iter()
                .filter(|s| !s.legs.is_empty())
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    if strategies.is_empty() {
        return Ok(CycleReport::default());
    }
    let at_ms = now_ms();
    let (strategies, answers) = {
        let valuer = Arc::clone(valuer);
        tokio::task::spawn_blocking(move || {
            let answers = valuer.value(&strategies);
            (strategies, answers)
        })
        .await
        .map_err(|e| CycleError::Task(e.to_string()))?
    };
    let mut report = CycleReport::default();
    let mut updates = Vec::with_capacity(strategies.len());
    for (strategy, answer) in strategies.iter().zip(answers) {
        match answer.and_then(|v| to_update(strategy, v, at_ms).map_err(|e| e.to_string())) {
            Ok(update) => updates.push(update),
            Err(reason) => {
                tracing::debug!(strategy = strategy.id, %reason, "strategy not valued this cycle");
                report.skipped += 1;
            }
        }
    }
    let rows: Vec<(i64, M2mRow)> = updates
        .iter()
        .map(|u| {
            let row = M2mRow {
                at_ms,
                m2m_paise: u.m2m.paise(),
                strategy_version: u.strategy_version,
            };
            (u.strategy_id, row)
        })
        .collect();
    let kept = store.m2m().append_all(&rows).await?;
    // A strategy deleted meanwhile took no point and publishes nothing.
    for (update, kept) in updates.into_iter().zip(kept) {
        if kept {
            hub.publish(update);
            report.valued += 1;
        }
    }
    Ok(report)
}

/// Runs [`cycle`] every `interval` until the task is aborted.
pub fn spawn(
    store: Store,
    hub: Arc<M2mHub>,
    valuer: Arc<dyn Valuer>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(interval.max(Duration::from_millis(10)));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match cycle(&store, &hub, &valuer).await {
                Ok(report) => {
                    tracing::trace!(
                        valued = report.valued,
                        skipped = report.skipped,
                        "M2M cycle"
                    );
                }
                Err(error) => tracing::warn!(%error, "M2M cycle failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::strategies::{NewLeg, NewStrategy, Side};
    use store::testing::stores;

    /// Values every leg at a fixed number of rupees; fails strategies named "broken".
    struct Fixed(f64);

    impl Valuer for Fixed {
        fn value(&self, strategies: &[StrategyRow]) -> Vec<Result<PluginValuation, String>> {
            strategies
                .iter()
                .map(|s| {
                    if s.name == "broken" {
                        return Err("no price yet".into());
                    }
                    Ok(PluginValuation {
                        leg_mtm: vec![self.0; s.legs.len()],
                        plugin: PluginStamp {
                            name: "fixed".into(),
                            version: "1".into(),
                            hash: "h".into(),
                        },
                    })
                })
                .collect()
        }
    }

    #[tokio::test]
    async fn a_cycle_appends_exact_totals_and_publishes() {
        for (store, _dir) in stores().await {
            let s = store.strategies();
            let mut ids = Vec::new();
            for name in ["a", "broken", "no legs"] {
                let created = s
                    .create(NewStrategy {
                        owner: "alice",
                        name,
                        underlying: "NIFTY",
                        account_id: None,
                    })
                    .await
                    .unwrap();
                if name != "no legs" {
                    for _ in 0..3 {
                        s.add_leg(
                            "alice",
                            created.id,
                            NewLeg {
                                security_id: 1,
                                side: Side::Buy,
                                lots: 1,
                                entry_price_paise: 100,
                                entry_time_ms: 0,
                            },
                            None,
                        )
                        .await
                        .unwrap();
                    }
                }
                ids.push(created.id);
            }
            let hub = M2mHub::default();
            let mut live = hub.subscribe(ids[0]);
            // 0.1 rupees per leg as a float; three legs are exactly 30 paise.
            let valuer: Arc<dyn Valuer> = Arc::new(Fixed(0.1));
            let report = cycle(&store, &hub, &valuer).await.unwrap();
            assert_eq!(
                report,
                CycleReport {
                    valued: 1,
                    skipped: 1
                }
            );
            let points = store
                .m2m()
                .series("alice", ids[0], 0, i64::MAX, 10)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(points.len(), 1);
            assert_eq!(points[0].m2m_paise, 30);
            assert_eq!(points[0].strategy_version, 4);
            live.changed().await.unwrap();
            let update = live.borrow().clone().unwrap();
            assert_eq!(update.m2m.to_string(), "0.30");
            assert_eq!(update.legs.len(), 3);
            assert!(
                hub.latest(ids[1]).is_none(),
                "the broken one published nothing"
            );
        }
    }

    #[test]
    fn leg_values_round_once_and_the_total_is_their_sum() {
        let strategy = StrategyRow {
            id: 1,
            owner: "a".into(),
            account_id: None,
            name: "n".into(),
            underlying: "NIFTY".into(),
            status: store::strategies::StrategyStatus::Open,
            version: 1,
            created_at_ms: 0,
            updated_at_ms: 0,
            legs: (0..2)
                .map(|id| store::strategies::LegRow {
                    id,
                    strategy_id: 1,
                    security_id: 1,
                    side: Side::Buy,
                    lots: 1,
                    entry_price_paise: 0,
                    entry_time_ms: 0,
                })
                .collect(),
        };
        let valuation = PluginValuation {
            // 0.125 → 12 paise, 0.375 → 38 paise (half to even); the raw sum 0.5 would
            // be 50, the rounded legs sum to 50 too, but each leg shows its own rounding.
            leg_mtm: vec![0.125, 0.375],
            plugin: PluginStamp {
                name: "p".into(),
                version: "1".into(),
                hash: "h".into(),
            },
        };
        let update = to_update(&strategy, valuation, 5).unwrap();
        assert_eq!(
            update
                .legs
                .iter()
                .map(|l| l.m2m.paise())
                .collect::<Vec<_>>(),
            [12, 38]
        );
        assert_eq!(update.m2m.paise(), 50);
        let bad = PluginValuation {
            leg_mtm: vec![f64::NAN, 0.0],
            plugin: update.plugin.clone(),
        };
        assert!(to_update(&strategy, bad, 5).is_err());
    }
}
