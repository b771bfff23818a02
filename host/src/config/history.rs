//! Configuration of chain history: how often every live chain is snapshotted, how many
//! rows may wait for the database, how long rows are kept, and the simulator's backfill.

use std::time::Duration;

/// Knobs of the snapshot recorder (`crate::history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Every live chain is snapshotted this often; `Duration::ZERO` turns recording off.
    pub interval: Duration,
    /// Rows that may wait for the database. Beyond it the oldest are dropped (and
    /// counted): a slow or absent database must never stall the feed or the API.
    pub queue_rows: usize,
    /// Rows per write transaction.
    pub batch_rows: usize,
    /// Rows older than this are deleted.
    pub retention: Duration,
    /// The most snapshot rows one `/fo/moneyness-series` request may read (after
    /// keeping one snapshot per interval in SQL); a request that could need more is
    /// refused with the ranges and intervals that fit.
    pub max_series_rows: u32,
    /// In simulator mode with no history for the current session yet: replay the
    /// simulator from the session's open (09:15 IST), but at most this far back, up to
    /// now. `None` turns backfill off.
    pub backfill: Option<Duration>,
}

impl HistoryConfig {
    pub fn enabled(&self) -> bool {
        !self.interval.is_zero()
    }
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            queue_rows: 500_000,
            batch_rows: 20_000,
            retention: Duration::from_secs(30 * 24 * 3600),
            max_series_rows: 200_000,
            // A whole session: 09:15 to 15:30.
            backfill: Some(Duration::from_secs(6 * 3600 + 15 * 60)),
        }
    }
}
