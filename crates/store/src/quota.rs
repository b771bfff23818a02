//! Per-owner quotas, enforced inside the write transaction that would exceed them.
//!
//! A check before the transaction (count, then insert) lets concurrent creates each see
//! room and all commit. Here the create first locks the owner ([`lock_owner`]: an upsert
//! of the owner's row in `owner_locks`, which PostgreSQL keeps locked until commit and
//! which takes SQLite's single write lock), inserts, then counts what the owner now has
//! ([`over_quota`]); over the quota, the transaction is dropped and rolls back. A second
//! create by the same owner waits at the lock and counts after the first committed, so
//! the quota holds on both backends and across servers sharing the database.

use sqlx::{Any, Row, Transaction};

use super::{StoreError, now_ms};

/// What a quota counts: a fixed set of tables, so no request text ever names SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    Strategies,
    Accounts,
}

impl Owned {
    fn table(self) -> &'static str {
        match self {
            Owned::Strategies => "strategies",
            Owned::Accounts => "accounts",
        }
    }

    /// For messages: "saved strategies", "accounts".
    pub fn label(self) -> &'static str {
        match self {
            Owned::Strategies => "saved strategies",
            Owned::Accounts => "accounts",
        }
    }
}

/// Serializes the owner's quota-counted creates until the transaction ends.
pub(super) async fn lock_owner(
    tx: &mut Transaction<'_, Any>,
    owner: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO owner_locks (owner, touched_at_ms) VALUES ($1, $2) \
         ON CONFLICT (owner) DO UPDATE SET touched_at_ms = excluded.touched_at_ms",
    )
    .bind(owner)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `Err(QuotaExceeded)` when the owner now has more than `limit` rows of `what` (the
/// caller's own insert included). Call after [`lock_owner`] and the insert.
pub(super) async fn over_quota(
    tx: &mut Transaction<'_, Any>,
    what: Owned,
    owner: &str,
    limit: u32,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE owner = $1",
        what.table()
    );
    let row = sqlx::query(&sql).bind(owner).fetch_one(&mut **tx).await?;
    let held: i64 = row.try_get("n")?;
    if held > i64::from(limit) {
        return Err(StoreError::QuotaExceeded { what, limit });
    }
    Ok(())
}
