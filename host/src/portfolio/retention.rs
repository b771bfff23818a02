//! M2M history retention: at start and then hourly, deletes points past the retention
//! age and thins points past the downsampling age to one per bucket (the last, which is
//! what the time-series route shows at that interval anyway).
//!
//! The worker appends a point per open strategy per cycle (every 5 s by default, 17,280
//! a day each), so without this the table grows without bound. Thinning is idempotent;
//! the task remembers how far it has thinned so each pass after the first only reads
//! the hour that aged past the threshold since.

use std::time::Duration;

use crate::config::PortfolioConfig;
use crate::store::{Store, StoreError, now_ms};

/// How often retention runs (and once at start), as chain history's does.
const EVERY: Duration = Duration::from_secs(3600);

/// The ages that bound M2M history, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M2mRetention {
    pub keep_ms: i64,
    /// `(age, bucket)`: points older than `age` keep one per `bucket`.
    pub downsample: Option<(i64, i64)>,
}

impl M2mRetention {
    pub fn from_config(config: &PortfolioConfig) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self {
            keep_ms: ms(config.m2m_retention),
            downsample: config
                .m2m_downsample_after
                .map(|after| (ms(after), ms(config.m2m_downsample_bucket).max(1))),
        }
    }

    /// One pass at `now`: deletes, then thins `[thinned_to, now - age)` (from the
    /// retention cutoff on the first pass). Returns how far it thinned, for the next
    /// pass, and the points deleted by each step.
    pub async fn pass(
        &self,
        store: &Store,
        now: i64,
        thinned_to: Option<i64>,
    ) -> Result<(Option<i64>, u64, u64), StoreError> {
        let cutoff = now.saturating_sub(self.keep_ms);
        let expired = store.m2m().delete_before(cutoff).await?;
        let Some((age, bucket)) = self.downsample else {
            return Ok((None, expired, 0));
        };
        let until = now.saturating_sub(age);
        let from = thinned_to.unwrap_or(cutoff).max(cutoff);
        let thinned = store.m2m().downsample(from, until, bucket).await?;
        Ok((Some(until), expired, thinned))
    }
}

/// Runs [`M2mRetention::pass`] at start and then hourly until the task is aborted.
pub fn spawn(store: Store, retention: M2mRetention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut thinned_to = None;
        loop {
            every.tick().await;
            match retention.pass(&store, now_ms(), thinned_to).await {
                Ok((to, expired, thinned)) => {
                    thinned_to = to;
                    if expired + thinned > 0 {
                        tracing::info!(expired, thinned, "old M2M points deleted");
                    }
                }
                Err(error) => tracing::warn!(%error, "M2M retention failed; retrying later"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::m2m::M2mRow;
    use crate::store::strategies::NewStrategy;
    use crate::store::testing::stores;

    const MINUTE: i64 = 60_000;
    const DAY: i64 = 24 * 60 * MINUTE;

    #[tokio::test]
    async fn old_points_are_deleted_and_older_ones_thinned_on_every_backend() {
        for (store, _dir) in stores().await {
            let mut ids = Vec::new();
            for name in ["a", "b"] {
                let created = store
                    .strategies()
                    .create(NewStrategy {
                        owner: "alice",
                        name,
                        underlying: "NIFTY",
                        account_id: None,
                    })
                    .await
                    .unwrap();
                ids.push(created.id);
            }
            let now = 100 * DAY;
            // Each strategy: a point a minute for the first 20 minutes of each of days
            // 5 (past the retention), 50 (past the downsampling age) and 99 (recent).
            let mut points = Vec::new();
            for &id in &ids {
                for day in [5, 50, 99] {
                    for minute in 0..20 {
                        let at_ms = day * DAY + minute * MINUTE;
                        let row = M2mRow {
                            at_ms,
                            m2m_paise: at_ms / MINUTE,
                            strategy_version: 1,
                        };
                        points.push((id, row));
                    }
                }
            }
            for chunk in points.chunks(2) {
                store.m2m().append_all(chunk).await.unwrap();
            }
            let retention = M2mRetention {
                keep_ms: 90 * DAY,
                downsample: Some((7 * DAY, 5 * MINUTE)),
            };
            let (to, expired, thinned) = retention.pass(&store, now, None).await.unwrap();
            assert_eq!(to, Some(93 * DAY));
            assert_eq!(expired, 2 * 20, "day 5 of both strategies");
            // Day 50: 20 minutes are 4 buckets of 5; each keeps its last point.
            assert_eq!(thinned, 2 * (20 - 4));
            for &id in &ids {
                let kept = store
                    .m2m()
                    .series("alice", id, 0, i64::MAX, 1_000)
                    .await
                    .unwrap()
                    .unwrap();
                let day_50: Vec<i64> = kept
                    .iter()
                    .filter(|p| p.at_ms < 60 * DAY)
                    .map(|p| (p.at_ms - 50 * DAY) / MINUTE)
                    .collect();
                assert_eq!(day_50, [4, 9, 14, 19], "the last of each bucket");
                assert_eq!(kept.iter().filter(|p| p.at_ms >= 99 * DAY).count(), 20);
                assert!(kept.iter().all(|p| p.at_ms >= 10 * DAY), "nothing expired");
            }
            // Idempotent: a second pass over the same span removes nothing.
            let again = retention.pass(&store, now, None).await.unwrap();
            assert_eq!((again.1, again.2), (0, 0));
            // Downsampling off: only the retention applies.
            let keep_all = M2mRetention {
                downsample: None,
                ..retention
            };
            let off = keep_all.pass(&store, now + 60 * DAY, to).await.unwrap();
            assert_eq!((off.0, off.1, off.2), (None, 2 * 4, 0));
        }
    }

    #[test]
    fn the_config_becomes_milliseconds() {
        let retention = M2mRetention::from_config(&PortfolioConfig::default());
        assert_eq!(retention.keep_ms, 90 * DAY);
        assert_eq!(retention.downsample, Some((7 * DAY, 5 * MINUTE)));
    }
}
