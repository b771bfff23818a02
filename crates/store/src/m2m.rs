//! M2M history: one row per valuation of a strategy by the M2M worker.
//!
//! Points are appends, not edits: they leave the strategy's version alone and record
//! which version they valued. A point for a strategy deleted meanwhile is dropped, so
//! no history outlives its strategy. Money is integer paise (see `portfolio::money`).
//!
//! History is bounded by age (see `portfolio::retention`): points past the retention are
//! deleted, and points past a younger age are thinned to the last of each bucket, the
//! same point the time-series route keeps when asked for that interval.

use sqlx::{Any, AnyPool, Executor, Row};

use super::{Backend, StoreError, values_list};

/// Rows per multi-row insert: 4 parameters each, 4,000 in all, below both backends'
/// limits (SQLite 32,766, PostgreSQL 65,535); a cycle of 1,000 points is one statement.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Downsampling works through at most this much time per statement, so no single
/// statement holds SQLite's write lock (and the M2M worker's appends) for long.
const DOWNSAMPLE_CHUNK_MS: i64 = 24 * 3_600_000;

/// One M2M valuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M2mRow {
    pub at_ms: i64,
    pub m2m_paise: i64,
    pub strategy_version: i64,
}

/// M2M point queries.
#[derive(Debug)]
pub struct M2mPoints<'p> {
    pool: &'p AnyPool,
    backend: Backend,
}

impl<'p> M2mPoints<'p> {
    pub(super) fn new(pool: &'p AnyPool, backend: Backend) -> Self {
        Self { pool, backend }
    }

    /// Appends an M2M point; `Ok(false)` when the strategy no longer exists (deleted while
    /// it was being valued) or already has a point at that instant.
    pub async fn append(&self, strategy_id: i64, point: M2mRow) -> Result<bool, StoreError> {
        match insert(self.pool, strategy_id, point).await {
            Ok(kept) => Ok(kept),
            // PostgreSQL enforces the foreign key: a delete that won the race.
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Appends one cycle's points with a few multi-row statements in one transaction:
    /// one commit (one fsync) and a handful of round trips per cycle instead of one of
    /// each per strategy, which would be most of a cycle's cost. For each point, whether
    /// it was kept ([`append`](Self::append)'s rules). If the batch fails (on
    /// PostgreSQL, a strategy deleted mid-batch aborts the transaction), the points are
    /// appended one by one instead.
    pub async fn append_all(&self, points: &[(i64, M2mRow)]) -> Result<Vec<bool>, StoreError> {
        let batch = async {
            let mut tx = self.pool.begin().await?;
            let mut kept = std::collections::HashSet::new();
            for chunk in points.chunks(ROWS_PER_STATEMENT) {
                kept.extend(insert_many(&mut *tx, self.backend, chunk).await?);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(kept)
        };
        if let Ok(kept) = batch.await {
            return Ok(points.iter().map(|(id, _)| kept.contains(id)).collect());
        }
        let mut kept = Vec::with_capacity(points.len());
        for (strategy_id, point) in points {
            kept.push(self.append(*strategy_id, *point).await?);
        }
        Ok(kept)
    }

    /// The owner's strategy's M2M points with `from_ms <= at_ms <= to_ms`, oldest first,
    /// at most `limit`; `None` when the owner has no such strategy.
    pub async fn series(
        &self,
        owner: &str,
        id: i64,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Option<Vec<M2mRow>>, StoreError> {
        let owned = sqlx::query("SELECT id FROM strategies WHERE id = $1 AND owner = $2")
            .bind(id)
            .bind(owner)
            .fetch_optional(self.pool)
            .await?;
        if owned.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT at_ms, m2m_paise, strategy_version FROM m2m_points \
             WHERE strategy_id = $1 AND at_ms >= $2 AND at_ms <= $3 ORDER BY at_ms LIMIT $4",
        )
        .bind(id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(M2mRow {
                    at_ms: r.try_get("at_ms")?,
                    m2m_paise: r.try_get("m2m_paise")?,
                    strategy_version: r.try_get("strategy_version")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(Some)
    }

    /// Deletes every point older than `before_ms`, of every strategy; returns how many.
    pub async fn delete_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM m2m_points WHERE at_ms < $1")
            .bind(before_ms)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Thins every strategy's points in `[from_ms, before_ms)` to the last point of each
    /// `bucket_ms` bucket (buckets counted from the epoch; both ends are rounded down to
    /// a bucket boundary so no bucket is thinned by halves). Idempotent; returns how
    /// many points went. Works a day at a time (see [`DOWNSAMPLE_CHUNK_MS`]).
    pub async fn downsample(
        &self,
        from_ms: i64,
        before_ms: i64,
        bucket_ms: i64,
    ) -> Result<u64, StoreError> {
        let bucket_ms = bucket_ms.max(1);
        let align = |ms: i64| ms.div_euclid(bucket_ms).saturating_mul(bucket_ms);
        let (mut start, end) = (align(from_ms), align(before_ms));
        // Chunks of whole buckets, so a bucket never straddles two statements.
        let chunk = align(DOWNSAMPLE_CHUNK_MS).max(bucket_ms);
        let mut deleted = 0;
        while start < end {
            let stop = start.saturating_add(chunk).min(end);
            // A point goes when a later point of its strategy falls in its bucket.
            let done = sqlx::query(
                "DELETE FROM m2m_points WHERE at_ms >= $1 AND at_ms < $2 AND EXISTS (\
                 SELECT 1 FROM m2m_points later \
                 WHERE later.strategy_id = m2m_points.strategy_id \
                 AND later.at_ms > m2m_points.at_ms \
                 AND later.at_ms < (m2m_points.at_ms / $3 + 1) * $3)",
            )
            .bind(start)
            .bind(stop)
            .bind(bucket_ms)
            .execute(self.pool)
            .await?;
            deleted += done.rows_affected();
            start = stop;
        }
        Ok(deleted)
    }
}

async fn insert<'e>(
    executor: impl Executor<'e, Database = Any>,
    strategy_id: i64,
    point: M2mRow,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO m2m_points (strategy_id, at_ms, m2m_paise, strategy_version) \
         SELECT id, $2, $3, $4 FROM strategies WHERE id = $1 \
         ON CONFLICT (strategy_id, at_ms) DO NOTHING",
    )
    .bind(strategy_id)
    .bind(point.at_ms)
    .bind(point.m2m_paise)
    .bind(point.strategy_version)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Inserts the points (one per strategy) whose strategies still exist; returns the ids
/// of the strategies that took theirs.
async fn insert_many<'e>(
    executor: impl Executor<'e, Database = Any>,
    backend: Backend,
    points: &[(i64, M2mRow)],
) -> Result<Vec<i64>, sqlx::Error> {
    // Both backends name a VALUES list's columns column1, column2, ...; the WHERE also
    // keeps SQLite from reading ON CONFLICT as part of the SELECT.
    let sql = format!(
        "INSERT INTO m2m_points (strategy_id, at_ms, m2m_paise, strategy_version) \
         SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES {}) AS v \
         WHERE EXISTS (SELECT 1 FROM strategies s WHERE s.id = v.column1) \
         ON CONFLICT (strategy_id, at_ms) DO NOTHING RETURNING strategy_id",
        values_list(backend, points.len(), 4)
    );
    let mut query = sqlx::query(&sql);
    for (strategy_id, point) in points {
        query = query
            .bind(*strategy_id)
            .bind(point.at_ms)
            .bind(point.m2m_paise)
            .bind(point.strategy_version);
    }
    let returned = query.fetch_all(executor).await?;
    returned.iter().map(|r| r.try_get("strategy_id")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::NewStrategy;
    use crate::testing::stores;

    #[tokio::test]
    async fn the_multi_row_insert_runs_on_every_backend() {
        for (store, _dir) in stores().await {
            let strategy = store
                .strategies()
                .create(NewStrategy {
                    owner: "alice",
                    name: "a",
                    underlying: "NIFTY",
                    account_id: None,
                })
                .await
                .unwrap();
            let point = M2mRow {
                at_ms: 7,
                m2m_paise: -5,
                strategy_version: 1,
            };
            // The statement itself, not the one-by-one fallback, must succeed.
            let kept = insert_many(
                store.pool(),
                store.backend(),
                &[(strategy.id, point), (strategy.id + 99, point)],
            )
            .await
            .unwrap();
            assert_eq!(kept, [strategy.id]);
            let again = insert_many(store.pool(), store.backend(), &[(strategy.id, point)])
                .await
                .unwrap();
            assert!(again.is_empty(), "one point per instant");
        }
    }
}
