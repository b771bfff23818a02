//! The bounded queue between snapshotting and the database writer.
//!
//! Snapshotting must never wait for the database, so pushing never blocks: past the
//! limit the oldest rows are dropped and counted (recent history is worth more than old
//! when the database comes back). The writer takes batches from the front; a batch whose
//! write failed goes back to the front, so nothing is lost to a failed write unless the
//! limit forces it. The backfill, which may wait, waits for room instead of overflowing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::store::history::SnapshotRow;

/// Counters of the queue and its writer, as `/metrics` and `/status` show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    /// Rows committed to the database.
    pub written: u64,
    /// Rows waiting for the database now.
    pub queued: u64,
    /// Rows dropped because the queue was full.
    pub dropped: u64,
    /// Write attempts that failed (each is retried).
    pub write_failures: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct SnapshotQueue {
    rows: Mutex<VecDeque<SnapshotRow>>,
    limit: usize,
    /// Wakes the writer when rows arrive.
    ready: Notify,
    /// Wakes whoever waits for room when the writer takes rows.
    taken: Notify,
    written: AtomicU64,
    dropped: AtomicU64,
    write_failures: AtomicU64,
}

impl SnapshotQueue {
    pub fn new(limit: usize) -> Self {
        Self {
            rows: Mutex::new(VecDeque::new()),
            limit: limit.max(1),
            ready: Notify::new(),
            taken: Notify::new(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            write_failures: AtomicU64::new(0),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn len(&self) -> usize {
        self.rows.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.lock().is_empty()
    }

    /// Appends `rows`, dropping the oldest beyond the limit. Never waits.
    pub fn push(&self, rows: Vec<SnapshotRow>) {
        if rows.is_empty() {
            return;
        }
        {
            let mut queue = self.rows.lock();
            queue.extend(rows);
            self.trim(&mut queue);
        }
        self.ready.notify_one();
    }

    /// Takes up to `max` rows from the front.
    pub fn take(&self, max: usize) -> Vec<SnapshotRow> {
        let batch: Vec<SnapshotRow> = {
            let mut queue = self.rows.lock();
            let n = max.min(queue.len());
            queue.drain(..n).collect()
        };
        self.taken.notify_waiters();
        batch
    }

    /// Puts a batch whose write failed back at the front, oldest first, then drops the
    /// oldest beyond the limit.
    pub fn requeue(&self, batch: Vec<SnapshotRow>) {
        self.write_failures.fetch_add(1, Ordering::Relaxed);
        let mut queue = self.rows.lock();
        for row in batch.into_iter().rev() {
            queue.push_front(row);
        }
        self.trim(&mut queue);
    }

    /// Counts a committed batch.
    pub fn written(&self, rows: usize) {
        self.written
            .fetch_add(u64::try_from(rows).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Waits until rows are queued.
    pub async fn wait_for_rows(&self) {
        loop {
            let notified = self.ready.notified();
            if !self.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// Waits until at most `rows` are queued (the backfill's back-pressure).
    pub async fn wait_for_room(&self, rows: usize) {
        loop {
            let notified = self.taken.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.len() <= rows {
                return;
            }
            notified.await;
        }
    }

    pub fn stats(&self) -> QueueStats {
        QueueStats {
            written: self.written.load(Ordering::Relaxed),
            queued: u64::try_from(self.len()).unwrap_or(u64::MAX),
            dropped: self.dropped.load(Ordering::Relaxed),
            write_failures: self.write_failures.load(Ordering::Relaxed),
        }
    }

    fn trim(&self, queue: &mut VecDeque<SnapshotRow>) {
        let excess = queue.len().saturating_sub(self.limit);
        if excess > 0 {
            queue.drain(..excess);
            self.dropped
                .fetch_add(u64::try_from(excess).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rows(from: i64, n: i64) -> Vec<SnapshotRow> {
        (from..from + n)
            .map(|ts_ms| SnapshotRow {
                ts_ms,
                underlying: "NIFTY".into(),
                expiry: "2026-11-24".into(),
                strike: 24_000.0,
                is_call: true,
                security_id: 1,
                spot: 24_000.0,
                ltp: 1.0,
                bid: 1.0,
                ask: 1.0,
                greeks: None,
                oi: 1,
                volume: 1,
                plugin: None,
            })
            .collect()
    }

    fn times(batch: &[SnapshotRow]) -> Vec<i64> {
        batch.iter().map(|r| r.ts_ms).collect()
    }

    #[test]
    fn the_oldest_are_dropped_and_counted() {
        let queue = SnapshotQueue::new(5);
        queue.push(rows(0, 3));
        queue.push(rows(3, 4));
        let stats = queue.stats();
        assert_eq!((stats.queued, stats.dropped), (5, 2));
        assert_eq!(times(&queue.take(10)), vec![2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_failed_batch_goes_back_in_front_within_the_limit() {
        let queue = SnapshotQueue::new(6);
        queue.push(rows(0, 4));
        let batch = queue.take(3);
        assert_eq!(times(&batch), vec![0, 1, 2]);
        // Rows arrive while the write is failing.
        queue.push(rows(4, 4));
        queue.requeue(batch);
        let stats = queue.stats();
        assert_eq!(
            (stats.queued, stats.dropped, stats.write_failures),
            (6, 2, 1)
        );
        assert_eq!(times(&queue.take(10)), vec![2, 3, 4, 5, 6, 7]);
        queue.written(6);
        assert_eq!(queue.stats().written, 6);
    }

    #[tokio::test]
    async fn room_is_signalled_when_rows_are_taken() {
        let queue = std::sync::Arc::new(SnapshotQueue::new(100));
        queue.push(rows(0, 50));
        let waiter = tokio::spawn({
            let queue = queue.clone();
            async move { queue.wait_for_room(10).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        let _ = queue.take(45);
        tokio::time::timeout(std::time::Duration::from_secs(2), waiter)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(2), queue.wait_for_rows())
            .await
            .unwrap();
    }
}
