//! The recorder's three loops: snapshotting every live chain each interval into the
//! queue, writing the queue to the database in batches, and deleting rows past the
//! retention age. Only the writer touches the database on the recording path, so a slow
//! or absent database delays nothing but the writer.

use std::sync::Arc;
use std::time::Duration;

use super::queue::SnapshotQueue;
use crate::market::{ChainView, MarketState};
use crate::plugins::live_greeks::{ChainGreeks, LiveGreeks};
use crate::store::Store;
use crate::store::history::{RowGreeks, SnapshotRow};

/// The writer's first retry delay after a failed write; doubles up to the maximum.
const RETRY_INITIAL: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How often retention runs (and once at start).
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// The rows of one chain at `ts_ms`: every contract with a price or a quote, with the
/// Greeks of `greeks` where the model solved them.
pub fn chain_rows(view: &ChainView, greeks: Option<&ChainGreeks>, ts_ms: i64) -> Vec<SnapshotRow> {
    let underlying: Arc<str> = view.underlying.as_str().into();
    let expiry: Arc<str> = view.expiry.to_string().into();
    let plugin: Option<Arc<str>> =
        greeks.map(|g| format!("{}@{}", g.plugin.name, g.plugin.version).into());
    let mut rows = Vec::with_capacity(view.rows.len() * 2);
    for row in &view.rows {
        for (contract, is_call) in [(&row.call, true), (&row.put, false)] {
            let Some(contract) = contract else { continue };
            let b = &contract.book;
            if b.ltp <= 0.0 && b.bid <= 0.0 && b.ask <= 0.0 {
                continue;
            }
            let solved = greeks
                .and_then(|g| g.contracts.get(&contract.security_id))
                .filter(|g| g.iv_status == "solved")
                .map(|g| RowGreeks {
                    iv: g.iv,
                    delta: g.delta,
                    gamma: g.gamma,
                    theta: g.theta,
                    vega: g.vega,
                });
            rows.push(SnapshotRow {
                ts_ms,
                underlying: underlying.clone(),
                expiry: expiry.clone(),
                strike: row.strike,
                is_call,
                security_id: contract.security_id,
                spot: view.spot,
                ltp: b.ltp,
                bid: b.bid,
                ask: b.ask,
                plugin: solved.and(plugin.clone()),
                greeks: solved,
                oi: b.oi,
                volume: b.volume,
            });
        }
    }
    rows
}

/// Every `interval`, queues a snapshot of every live chain. Reads in-memory state only.
/// Outside the session (IST hours, holidays) nothing is recorded: the books stand still
/// then, and rows of a market that is not trading are flat copies of the close. Chains
/// past their expiry are not recorded either.
pub async fn snapshot_loop(
    market: Arc<MarketState>,
    greeks: Arc<LiveGreeks>,
    queue: Arc<SnapshotQueue>,
    interval: Duration,
) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the market is still empty then.
    every.tick().await;
    loop {
        every.tick().await;
        let calendar = market.calendar();
        if !calendar.is_open() {
            continue;
        }
        let live_from = calendar.live_from();
        let ts_ms = crate::store::now_ms();
        let mut rows = Vec::new();
        for id in market
            .chain_ids()
            .into_iter()
            .filter(|id| id.expiry >= live_from)
        {
            let Some(view) = market.chain_view(&id) else {
                continue;
            };
            if view.spot <= 0.0 {
                continue;
            }
            rows.extend(chain_rows(&view, greeks.get(&id).as_deref(), ts_ms));
        }
        queue.push(rows);
    }
}

/// Writes queued rows in batches of `batch_rows`, retrying a failed batch with backoff
/// (the rows stay queued meanwhile). Logs an outage once when it starts and once when
/// it ends.
pub async fn write_loop(store: Store, queue: Arc<SnapshotQueue>, batch_rows: usize) {
    let mut retry = RETRY_INITIAL;
    let mut failing = false;
    loop {
        queue.wait_for_rows().await;
        let batch = queue.take(batch_rows.max(1));
        match store.history().insert(&batch).await {
            Ok(()) => {
                queue.written(batch.len());
                if failing {
                    tracing::info!(queued = queue.len(), "snapshot writes resumed");
                    failing = false;
                }
                retry = RETRY_INITIAL;
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, queued = queue.len() + batch.len(), "snapshot writes failing; rows stay queued");
                    failing = true;
                }
                queue.requeue(batch);
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Deletes rows older than `retention`, at start and then hourly.
pub async fn retention_loop(store: Store, retention: Duration) {
    let mut every = tokio::time::interval(RETENTION_EVERY);
    loop {
        every.tick().await;
        let keep_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let before = crate::store::now_ms().saturating_sub(keep_ms);
        match store.history().delete_before(before).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "old snapshot rows deleted"),
            Err(error) => tracing::warn!(%error, "snapshot retention failed; retrying later"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::instruments::{ExchangeSegment, ExpiryFlag};
    use crate::market::book::InstrumentBook;
    use crate::market::view::{ChainRowView, ContractView};
    use crate::plugins::PluginStamp;
    use crate::plugins::live_greeks::ContractGreeks;

    fn contract(security_id: u32, ltp: f64) -> Option<ContractView> {
        Some(ContractView {
            security_id,
            segment: ExchangeSegment::NseFno,
            book: InstrumentBook {
                ltp,
                oi: 100,
                volume: 7,
                ..InstrumentBook::default()
            },
        })
    }

    #[test]
    fn rows_keep_priced_contracts_and_solved_greeks_only() {
        let view = ChainView {
            underlying: "NIFTY".into(),
            expiry: time::macros::date!(2026 - 11 - 24),
            expiry_flag: ExpiryFlag::Weekly,
            lot_size: 75,
            strike_step: 50.0,
            tick_size: 0.05,
            spot: 24_000.0,
            seq: 3,
            as_of_ns: 0,
            rows: vec![ChainRowView {
                strike: 24_000.0,
                call: contract(1, 120.0),
                put: contract(2, 0.0),
            }],
        };
        let solved = ContractGreeks {
            price: 120.0,
            iv: 0.13,
            delta: 0.52,
            gamma: 0.001,
            theta: -9.0,
            vega: 11.0,
            rho: 1.0,
            iv_status: "solved",
        };
        let greeks = ChainGreeks {
            seq: 3,
            computed_at_ns: 0,
            plugin: PluginStamp {
                name: "greeks-black76".into(),
                version: "1.0.0".into(),
                hash: "h".into(),
            },
            model: "black76".into(),
            forward: 24_010.0,
            forward_source: "spot",
            time_to_expiry_years: 0.01,
            contracts: HashMap::from([(1, solved)]),
            last_error: None,
        };
        let rows = chain_rows(&view, Some(&greeks), 5);
        assert_eq!(rows.len(), 1, "the put has no price or quote");
        let row = &rows[0];
        assert_eq!((row.ts_ms, row.security_id, row.is_call), (5, 1, true));
        assert_eq!(row.greeks.map(|g| g.iv), Some(0.13));
        assert_eq!(row.plugin.as_deref(), Some("greeks-black76@1.0.0"));
        assert_eq!(&*row.expiry, "2026-11-24");

        let unsolved = ChainGreeks {
            contracts: HashMap::from([(
                1,
                ContractGreeks {
                    iv_status: "below_intrinsic",
                    ..solved
                },
            )]),
            ..greeks
        };
        let rows = chain_rows(&view, Some(&unsolved), 5);
        assert_eq!((rows[0].greeks, rows[0].plugin.clone()), (None, None));
        assert_eq!(chain_rows(&view, None, 5)[0].greeks, None);
    }
}
