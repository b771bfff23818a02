//! Chain history: snapshots of every live chain (per contract: prices, IV, Greeks, OI,
//! volume, and the plugin version that computed the Greeks) taken every interval and
//! written to the database in batches, off the ingest path.
//!
//! Sits above `plugins` (rows carry the Greeks plugin's output) and below `api` (the
//! history endpoints read through [`crate::store::history`] and shape with [`series`]).
//! Between snapshotting and the database is a bounded [`queue::SnapshotQueue`]: when
//! the database is slow or down, rows wait there up to a limit, then the oldest are
//! dropped and counted; neither the feed nor the API ever waits for a write. In
//! simulator mode a first start also [`backfill`]s the session so far.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::task::JoinHandle;

use crate::config::HistoryConfig;
use crate::feed::sim::SimHandle;
use crate::market::MarketState;
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::LiveGreeks;
use crate::store::Store;

pub mod backfill;
pub mod queue;
pub mod recorder;
pub mod series;

pub use backfill::{BackfillState, BackfillStatus};
pub use queue::{QueueStats, SnapshotQueue};

/// How long stopping waits to write what is still queued.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// What `/status` and `/metrics` show of the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryStats {
    /// False when recording is configured off.
    pub enabled: bool,
    pub interval_secs: u64,
    #[serde(flatten)]
    pub queue: QueueStats,
    pub queue_limit: u64,
    pub backfill: BackfillStatus,
}

/// The running recorder. See the module docs.
#[derive(Debug)]
pub struct ChainHistory {
    config: HistoryConfig,
    store: Store,
    queue: Arc<SnapshotQueue>,
    backfill: Arc<Mutex<BackfillStatus>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// What the recorder reads from.
#[derive(Debug)]
pub struct Sources<'a> {
    pub market: &'a Arc<MarketState>,
    pub greeks: &'a Arc<LiveGreeks>,
    pub plugins: &'a Arc<PluginHost>,
    /// The in-process simulator, for the backfill.
    pub sim: Option<&'a SimHandle>,
}

impl ChainHistory {
    /// Starts the writer, retention, and (after deciding on the backfill) the snapshot
    /// loop. With recording off, only the handle exists (the endpoints still read).
    pub fn start(config: HistoryConfig, store: Store, sources: Sources<'_>) -> Arc<Self> {
        let history = Arc::new(Self {
            config,
            store: store.clone(),
            queue: Arc::new(SnapshotQueue::new(config.queue_rows)),
            backfill: Arc::new(Mutex::new(BackfillStatus::default())),
            tasks: Mutex::new(Vec::new()),
        });
        if !config.enabled() {
            return history;
        }
        let queue = history.queue.clone();
        let mut tasks = vec![
            tokio::spawn(recorder::write_loop(
                store.clone(),
                queue.clone(),
                config.batch_rows,
            )),
            tokio::spawn(recorder::retention_loop(store.clone(), config.retention)),
        ];
        // A backfill needs the simulator's market model, replayed from the span's start.
        let replay = match (config.backfill, sources.sim) {
            (Some(max_span), Some(sim)) => {
                let (start, end) = backfill::span(time::OffsetDateTime::now_utc(), max_span);
                Some((sim.replay_market(start), end))
            }
            _ => None,
        };
        let backfill_status = history.backfill.clone();
        let (market, greeks) = (sources.market.clone(), sources.greeks.clone());
        let plugins = sources.plugins.clone();
        tasks.push(tokio::spawn(async move {
            // Decide on the backfill before the first live snapshot lands, or the
            // live rows would make every start look like a restart.
            let backfill = match replay {
                Some((sim, end)) => {
                    let backfill = backfill::Backfill {
                        sim,
                        market: market.clone(),
                        plugins,
                        queue: queue.clone(),
                        interval: config.interval,
                        rate: greeks.rate(),
                        end,
                        status: backfill_status,
                    };
                    backfill_if_new(&store, backfill).await
                }
                None => None,
            };
            let live = tokio::spawn(recorder::snapshot_loop(
                market,
                greeks,
                queue,
                config.interval,
            ));
            if let Some(backfill) = backfill {
                run_backfill(backfill).await;
            }
            // Keep the live loop tied to this task: aborting this one aborts it.
            let mut live = LiveLoop(live);
            let _ = (&mut live.0).await;
        }));
        *history.tasks.lock() = tasks;
        history
    }

    pub fn config(&self) -> &HistoryConfig {
        &self.config
    }

    pub fn stats(&self) -> HistoryStats {
        HistoryStats {
            enabled: self.config.enabled(),
            interval_secs: self.config.interval.as_secs(),
            queue: self.queue.stats(),
            queue_limit: u64::try_from(self.queue.limit()).unwrap_or(u64::MAX),
            backfill: *self.backfill.lock(),
        }
    }

    /// Stops snapshotting and writes what is queued, for up to a few seconds.
    pub async fn stop(&self) {
        let tasks: Vec<JoinHandle<()>> = self.tasks.lock().drain(..).collect();
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
        let flush = async {
            while !self.queue.is_empty() {
                let batch = self.queue.take(self.config.batch_rows.max(1));
                let rows = batch.len();
                if let Err(error) = self.store.history().insert(&batch).await {
                    tracing::warn!(%error, rows, "final snapshot flush failed");
                    self.queue.requeue(batch);
                    return;
                }
                self.queue.written(rows);
            }
        };
        if tokio::time::timeout(FINAL_FLUSH, flush).await.is_err() {
            tracing::warn!(queued = self.queue.len(), "final snapshot flush timed out");
        }
    }
}

/// `backfill`, unless the store already holds rows from its span (a restart): then
/// the backfill is marked skipped, or incomplete when the store cannot tell.
async fn backfill_if_new(
    store: &Store,
    backfill: backfill::Backfill,
) -> Option<backfill::Backfill> {
    let since =
        i64::try_from(backfill.sim.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let state = match store.history().any_since(since).await {
        Ok(false) => return Some(backfill),
        Ok(true) => BackfillState::Skipped,
        Err(error) => {
            tracing::warn!(%error, "cannot read the history; no backfill");
            BackfillState::Incomplete
        }
    };
    backfill.status.lock().state = state;
    None
}

/// Runs the backfill to its end, keeping its status and logging the outcome.
async fn run_backfill(backfill: backfill::Backfill) {
    let status = backfill.status.clone();
    status.lock().state = BackfillState::Running;
    let began = std::time::Instant::now();
    let state = backfill.run().await;
    let done = {
        let mut s = status.lock();
        s.state = state;
        *s
    };
    tracing::info!(
        points = done.points,
        rows = done.rows,
        elapsed_ms = began.elapsed().as_millis(),
        state = ?state,
        "history backfill finished"
    );
}

/// Aborts the live snapshot loop when the task that owns it is aborted (dropped).
struct LiveLoop(JoinHandle<()>);

impl Drop for LiveLoop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
