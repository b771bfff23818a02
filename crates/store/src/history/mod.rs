//! Chain history in SQL: appending snapshot rows in batches, the reads the history
//! endpoints need (one chain's rows over a time range, the OI of a chain at a past
//! instant), and retention by age.
//!
//! On SQLite, rows go in as multi-row `INSERT`s inside one transaction per batch: one
//! commit (one fsync) per batch instead of per row, each statement under SQLite's
//! 32,766 bind parameters. On PostgreSQL a batch is one `COPY … FROM STDIN` (text
//! format) on the store's native pool: about three times the rows per second of multi-row
//! `INSERT`s through the `Any` driver, and atomic by itself.
//! The domain side (what a row holds, when snapshots are taken) lives in
//! `crate::history`; this module only moves rows in and out.

use std::sync::Arc;

use sqlx::{AnyPool, Row};

use super::StoreError;

mod write;

/// One contract of one chain at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub ts_ms: i64,
    pub underlying: Arc<str>,
    /// YYYY-MM-DD.
    pub expiry: Arc<str>,
    pub strike: f64,
    pub is_call: bool,
    pub security_id: u32,
    /// The underlying's value at the snapshot.
    pub spot: f64,
    pub ltp: f64,
    pub bid: f64,
    pub ask: f64,
    /// `None` for all five when the model has not priced this contract.
    pub greeks: Option<RowGreeks>,
    pub oi: u64,
    pub volume: u64,
    /// `name@version` of the greeks-model plugin that computed `greeks`.
    pub plugin: Option<Arc<str>>,
}

/// The model outputs kept per row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowGreeks {
    pub iv: f64,
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
}

/// A column the series endpoint may read: a whitelist, so a request never names SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesColumn {
    Iv,
    Delta,
    Gamma,
    Theta,
    Vega,
    Oi,
}

impl SeriesColumn {
    fn sql(self) -> &'static str {
        match self {
            Self::Iv => "iv",
            Self::Delta => "delta",
            Self::Gamma => "gamma",
            Self::Theta => "theta",
            Self::Vega => "vega",
            // Cast so both backends hand back the same (floating) type.
            Self::Oi => "CAST(oi AS DOUBLE PRECISION)",
        }
    }
}

/// One strike of one chain at one instant, for series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesPoint {
    pub ts_ms: i64,
    pub spot: f64,
    pub strike: f64,
    pub value: Option<f64>,
}

/// What [`History::series`] reads: one side of one chain over `[from_ms, to_ms]`, one
/// snapshot per `interval_ms` slot, strikes in `strikes` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRead<'a> {
    pub underlying: &'a str,
    pub expiry: &'a str,
    pub is_call: bool,
    pub column: SeriesColumn,
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval_ms: i64,
    pub strikes: (f64, f64),
}

/// A contract's OI and last price at a past snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastContract {
    pub security_id: u32,
    pub oi: u64,
    pub ltp: f64,
}

/// History queries.
#[derive(Debug)]
pub struct History<'p> {
    pool: &'p AnyPool,
    /// PostgreSQL's native pool, for `COPY`; `None` on SQLite.
    copy: Option<&'p sqlx::PgPool>,
}

impl<'p> History<'p> {
    pub(super) fn new(pool: &'p AnyPool, copy: Option<&'p sqlx::PgPool>) -> Self {
        Self { pool, copy }
    }

    /// Whether any snapshot of any chain was taken at or after `since_ms`.
    pub async fn any_since(&self, since_ms: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM chain_snapshots WHERE ts_ms >= $1")
            .bind(since_ms)
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Rows held in all.
    pub async fn count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM chain_snapshots")
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The lowest and highest spot of one chain's snapshots in `[from_ms, to_ms]`;
    /// `None` when there are none.
    pub async fn spot_range(
        &self,
        underlying: &str,
        expiry: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<(f64, f64)>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(spot) AS lo, MAX(spot) AS hi FROM chain_snapshots \
             WHERE underlying = $1 AND expiry = $2 AND ts_ms >= $3 AND ts_ms <= $4",
        )
        .bind(underlying)
        .bind(expiry)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(self.pool)
        .await?;
        let lo: Option<f64> = row.try_get("lo")?;
        let hi: Option<f64> = row.try_get("hi")?;
        Ok(lo.zip(hi))
    }

    /// One side of one chain, as [`SeriesRead`] says: the latest snapshot of each
    /// interval slot only (chosen in SQL, so the skipped snapshots never leave the
    /// database), strikes in the band, ordered by time then strike. `None` when that
    /// is more than `max_rows` rows: at most `max_rows + 1` are ever read.
    pub async fn series(
        &self,
        read: &SeriesRead<'_>,
        max_rows: u32,
    ) -> Result<Option<Vec<SeriesPoint>>, StoreError> {
        // Slots are counted from `from_ms`, as `history::series` counts them.
        let sql = format!(
            "SELECT ts_ms, spot, strike, {} AS value FROM chain_snapshots \
             WHERE underlying = $1 AND expiry = $2 AND is_call = $5 \
             AND strike >= $6 AND strike <= $7 AND ts_ms IN (\
                 SELECT MAX(ts_ms) FROM chain_snapshots \
                 WHERE underlying = $1 AND expiry = $2 AND ts_ms >= $3 AND ts_ms <= $4 \
                 GROUP BY (ts_ms - $3) / $8) \
             ORDER BY ts_ms, strike LIMIT $9",
            read.column.sql()
        );
        let (lo, hi) = read.strikes;
        let rows = sqlx::query(&sql)
            .bind(read.underlying)
            .bind(read.expiry)
            .bind(read.from_ms)
            .bind(read.to_ms)
            .bind(i16::from(read.is_call))
            .bind(lo)
            .bind(hi)
            .bind(read.interval_ms.max(1))
            .bind(i64::from(max_rows) + 1)
            .fetch_all(self.pool)
            .await?;
        if rows.len() > usize::try_from(max_rows).unwrap_or(usize::MAX) {
            return Ok(None);
        }
        rows.iter()
            .map(|r| {
                Ok(SeriesPoint {
                    ts_ms: r.try_get("ts_ms")?,
                    spot: r.try_get("spot")?,
                    strike: r.try_get("strike")?,
                    value: r.try_get("value")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(Some)
    }

    /// The latest snapshot of one chain taken at or before `at_ms`: its time and every
    /// contract's OI and last price. `None` when there is none that old.
    pub async fn chain_at(
        &self,
        underlying: &str,
        expiry: &str,
        at_ms: i64,
    ) -> Result<Option<(i64, Vec<PastContract>)>, StoreError> {
        let latest = sqlx::query(
            "SELECT MAX(ts_ms) AS ts FROM chain_snapshots \
             WHERE underlying = $1 AND expiry = $2 AND ts_ms <= $3",
        )
        .bind(underlying)
        .bind(expiry)
        .bind(at_ms)
        .fetch_one(self.pool)
        .await?;
        let Some(ts) = latest.try_get::<Option<i64>, _>("ts")? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT security_id, oi, ltp FROM chain_snapshots \
             WHERE underlying = $1 AND expiry = $2 AND ts_ms = $3",
        )
        .bind(underlying)
        .bind(expiry)
        .bind(ts)
        .fetch_all(self.pool)
        .await?;
        let contracts = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("security_id")?;
                let oi: i64 = r.try_get("oi")?;
                Ok(PastContract {
                    security_id: u32::try_from(id)
                        .map_err(|_| StoreError::Corrupt(format!("security id {id}")))?,
                    oi: u64::try_from(oi).unwrap_or(0),
                    ltp: r.try_get("ltp")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some((ts, contracts)))
    }

    /// Deletes every snapshot older than `before_ms`; returns how many rows went.
    pub async fn delete_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM chain_snapshots WHERE ts_ms < $1")
            .bind(before_ms)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stores;

    pub(super) fn row(ts_ms: i64, strike: f64, is_call: bool, oi: u64) -> SnapshotRow {
        SnapshotRow {
            ts_ms,
            underlying: "NIFTY".into(),
            expiry: "2026-11-24".into(),
            strike,
            is_call,
            security_id: 1000 + strike as u32 / 50 * 2 + u32::from(is_call),
            spot: 24_010.0,
            ltp: 100.0,
            bid: 99.5,
            ask: 100.5,
            greeks: (strike > 23_950.0).then_some(RowGreeks {
                iv: 0.12,
                delta: 0.5,
                gamma: 0.001,
                theta: -10.0,
                vega: 12.0,
            }),
            oi,
            volume: 500,
            plugin: Some("greeks-black76@1.0.0".into()),
        }
    }

    #[tokio::test]
    async fn rows_round_trip_on_every_backend() {
        for (store, _dir) in stores().await {
            let history = store.history();
            assert!(!history.any_since(0).await.unwrap());
            // More than one chunk, so the chunking and the transaction are exercised.
            let mut rows = Vec::new();
            for t in 0..3 {
                for k in 0..700 {
                    let strike = 23_000.0 + f64::from(k) * 50.0;
                    rows.push(row(t * 60_000, strike, true, 10 + t as u64));
                    rows.push(row(t * 60_000, strike, false, 20));
                }
            }
            history.insert(&rows).await.unwrap();
            assert_eq!(
                history.count().await.unwrap(),
                4_200,
                "{:?}",
                store.backend()
            );
            assert!(history.any_since(120_000).await.unwrap());
            assert!(!history.any_since(120_001).await.unwrap());

            let range = history
                .spot_range("NIFTY", "2026-11-24", 0, 60_000)
                .await
                .unwrap();
            assert_eq!(range, Some((24_010.0, 24_010.0)));
            let read = SeriesRead {
                underlying: "NIFTY",
                expiry: "2026-11-24",
                is_call: true,
                column: SeriesColumn::Iv,
                from_ms: 0,
                to_ms: 60_000,
                interval_ms: 60_000,
                strikes: (23_900.0, 24_000.0),
            };
            let points = history.series(&read, 100).await.unwrap().unwrap();
            assert_eq!(points.len(), 6);
            assert_eq!(points[0].strike, 23_900.0);
            assert_eq!(points[0].value, None, "unpriced rows read back as null");
            assert_eq!(points[2].value, Some(0.12));
            assert_eq!(points[3].ts_ms, 60_000);
            let oi = SeriesRead {
                column: SeriesColumn::Oi,
                from_ms: 60_000,
                strikes: (23_000.0, 23_000.0),
                ..read
            };
            let oi = history.series(&oi, 100).await.unwrap().unwrap();
            assert_eq!(oi[0].value, Some(11.0));

            let (ts, past) = history
                .chain_at("NIFTY", "2026-11-24", 90_000)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((ts, past.len()), (60_000, 1_400));
            assert!(past.iter().any(|c| c.oi == 11));
            assert_eq!(
                history.chain_at("NIFTY", "2026-11-24", -1).await.unwrap(),
                None
            );
            assert_eq!(
                history
                    .chain_at("BANKNIFTY", "2026-11-24", 90_000)
                    .await
                    .unwrap(),
                None
            );

            assert_eq!(history.delete_before(60_000).await.unwrap(), 1_400);
            assert_eq!(history.count().await.unwrap(), 2_800);
        }
    }

    #[tokio::test]
    async fn series_reads_one_snapshot_per_slot_and_at_most_the_bound_on_every_backend() {
        for (store, _dir) in stores().await {
            let history = store.history();
            // A snapshot every 10 s for 10 minutes, 5 strikes a side each.
            let mut rows = Vec::new();
            for t in 0..60 {
                for k in 0..5 {
                    let strike = 23_900.0 + f64::from(k) * 50.0;
                    rows.push(row(t * 10_000, strike, true, 100 + t as u64));
                    rows.push(row(t * 10_000, strike, false, 1));
                }
            }
            history.insert(&rows).await.unwrap();
            let read = SeriesRead {
                underlying: "NIFTY",
                expiry: "2026-11-24",
                is_call: true,
                column: SeriesColumn::Oi,
                from_ms: 0,
                to_ms: 599_999,
                interval_ms: 60_000,
                strikes: (0.0, 1e9),
            };
            // Ten slots of a minute, each its latest snapshot (at 50 s): 10 x 5 rows,
            // not the 60 x 5 in the range.
            let points = history.series(&read, 50).await.unwrap().unwrap();
            assert_eq!(points.len(), 50, "{:?}", store.backend());
            let times: std::collections::BTreeSet<i64> = points.iter().map(|p| p.ts_ms).collect();
            assert_eq!(
                times.into_iter().collect::<Vec<_>>(),
                (0..10).map(|m| m * 60_000 + 50_000).collect::<Vec<_>>()
            );
            assert_eq!(
                points[0].value,
                Some(105.0),
                "the OI of the slot's last snapshot"
            );
            // One row over the bound is no answer, not a truncated one.
            assert_eq!(history.series(&read, 49).await.unwrap(), None);
        }
    }
}
