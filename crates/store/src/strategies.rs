//! Saved strategies and their legs (their M2M history is [`super::m2m`]).
//!
//! Every query is scoped to an owner, so another user's strategy reads as absent. Every
//! edit (rename, status, account, a leg added or removed) runs in one transaction that
//! starts by bumping the strategy's `version`: the bump takes the row's write lock first,
//! so concurrent edits serialize instead of overwriting each other, and a caller that
//! names the version it last saw gets [`WriteError::Stale`] instead of a lost update.
//! Deleting a strategy deletes its legs and M2M history in the same transaction. Money
//! is integer paise (see `portfolio::money`).
//!
//! Limits are checked inside the write transaction, after the write, so concurrent
//! requests cannot all pass a check made before any of them wrote: the leg cap after the
//! version bump has locked the strategy, the owner's strategy quota after
//! [`super::quota`]'s owner lock.

use std::sync::Arc;

use sqlx::{Any, AnyPool, Row, Transaction};

use super::quota::{self, Owned};
use super::{StoreError, now_ms};

mod open_set;
mod rows;

pub use open_set::OpenSet;
pub(crate) use open_set::bump_generation;
use rows::{LegsOf, leg_from, legs_of, strategy_from, with_legs};

/// The most legs one strategy may have. Valuing a strategy costs a plugin call per
/// leg every M2M cycle (market inputs, plugin work), so the cap bounds what one strategy
/// costs the worker.
pub const MAX_LEGS: usize = 20;

/// Buy or sell: one type for a leg as stored, as sent and as valued.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        }
    }
}

/// Whether the M2M worker values a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyStatus {
    Open,
    Closed,
}

impl StrategyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyStatus::Open => "open",
            StrategyStatus::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(StrategyStatus::Open),
            "closed" => Some(StrategyStatus::Closed),
            _ => None,
        }
    }
}

/// A stored leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegRow {
    pub id: i64,
    pub strategy_id: i64,
    pub security_id: i64,
    pub side: Side,
    pub lots: i64,
    pub entry_price_paise: i64,
    pub entry_time_ms: i64,
}

/// A stored strategy with its legs (in the order they were added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyRow {
    pub id: i64,
    pub owner: String,
    pub account_id: Option<i64>,
    pub name: String,
    pub underlying: String,
    pub status: StrategyStatus,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub legs: Vec<LegRow>,
}

/// What creating a strategy takes.
#[derive(Debug, Clone)]
pub struct NewStrategy<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub underlying: &'a str,
    pub account_id: Option<i64>,
}

/// What adding a leg takes.
#[derive(Debug, Clone, Copy)]
pub struct NewLeg {
    pub security_id: i64,
    pub side: Side,
    pub lots: i64,
    pub entry_price_paise: i64,
    pub entry_time_ms: i64,
}

/// The fields an edit changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct StrategyPatch {
    pub name: Option<String>,
    /// `Some(None)` ungroups the strategy.
    pub account_id: Option<Option<i64>>,
    pub status: Option<StrategyStatus>,
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The owner has no such strategy (or leg, or account): the caller says 404.
    #[error("no such {0}")]
    Missing(&'static str),
    /// The caller's version is not the stored one: someone else edited in between.
    #[error("the strategy is at version {current}, not {expected}")]
    Stale { expected: i64, current: i64 },
    /// The strategy already has [`MAX_LEGS`] legs; nothing was written.
    #[error("a strategy has at most {MAX_LEGS} legs")]
    TooManyLegs,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(error: sqlx::Error) -> Self {
        WriteError::Store(error.into())
    }
}

/// Strategy queries.
#[derive(Debug)]
pub struct Strategies<'p> {
    pool: &'p AnyPool,
    open_set: &'p OpenSet,
}

const COLUMNS: &str =
    "id, owner, account_id, name, underlying, status, version, created_at_ms, updated_at_ms";
const LEG_COLUMNS: &str =
    "id, strategy_id, security_id, side, lots, entry_price_paise, entry_time_ms";

impl<'p> Strategies<'p> {
    pub(super) fn new(pool: &'p AnyPool, open_set: &'p OpenSet) -> Self {
        Self { pool, open_set }
    }

    /// Creates a strategy with no legs, at version 1, with no quota (tools and tests;
    /// the API uses [`create_within_quota`](Self::create_within_quota)).
    pub async fn create(&self, new: NewStrategy<'_>) -> Result<StrategyRow, WriteError> {
        self.create_inner(new, None).await
    }

    /// [`create`](Self::create), refused with [`StoreError::QuotaExceeded`] when the
    /// owner would have more than `quota` strategies; race-free (see [`super::quota`]).
    pub async fn create_within_quota(
        &self,
        new: NewStrategy<'_>,
        quota: u32,
    ) -> Result<StrategyRow, WriteError> {
        self.create_inner(new, Some(quota)).await
    }

    async fn create_inner(
        &self,
        new: NewStrategy<'_>,
        quota: Option<u32>,
    ) -> Result<StrategyRow, WriteError> {
        let mut tx = self.pool.begin().await?;
        if quota.is_some() {
            quota::lock_owner(&mut tx, new.owner).await?;
        }
        // Before the write: the foreign key would refuse an unknown account with an
        // error that says nothing about which.
        if let Some(account) = new.account_id {
            check_account(&mut tx, new.owner, account).await?;
        }
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO strategies (owner, account_id, name, underlying, status, version, \
             created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, 'open', 1, $5, $5) \
             RETURNING {COLUMNS}"
        ))
        .bind(new.owner)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.underlying)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(limit) = quota {
            quota::over_quota(&mut tx, Owned::Strategies, new.owner, limit).await?;
        }
        let strategy = strategy_from(&row, Vec::new())?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(strategy)
    }

    pub async fn get(&self, owner: &str, id: i64) -> Result<Option<StrategyRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM strategies WHERE id = $1 AND owner = $2"
        ))
        .bind(id)
        .bind(owner)
        .fetch_optional(self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let legs = legs_of(self.pool, LegsOf::Strategy(id)).await?;
        strategy_from(&row, legs).map(Some)
    }

    /// The owner's strategies, oldest first.
    pub async fn list(&self, owner: &str) -> Result<Vec<StrategyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE owner = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(owner).fetch_all(self.pool).await?;
        with_legs(self.pool, &rows, LegsOf::Owner(owner)).await
    }

    /// Every open strategy of every owner, with legs, oldest first: the M2M worker's
    /// work list. Served from memory while the strategy generation has not moved (see
    /// [`OpenSet`]), so an unchanged set costs one single-row read.
    pub async fn open(&self) -> Result<Arc<Vec<StrategyRow>>, StoreError> {
        // The generation is read first: whatever the rows read next show is at least
        // that recent, so a set tagged with it is never older than its tag.
        let generation = open_set::generation(self.pool).await?;
        if let Some(held) = self.open_set.at(generation) {
            return Ok(held);
        }
        let sql = format!("SELECT {COLUMNS} FROM strategies WHERE status = 'open' ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(self.pool).await?;
        let strategies = Arc::new(with_legs(self.pool, &rows, LegsOf::Open).await?);
        self.open_set.hold(generation, Arc::clone(&strategies));
        Ok(strategies)
    }

    /// Applies `patch`; `expected` (when given) must be the stored version.
    pub async fn update(
        &self,
        owner: &str,
        id: i64,
        patch: &StrategyPatch,
        expected: Option<i64>,
    ) -> Result<StrategyRow, WriteError> {
        let mut tx = self.pool.begin().await?;
        // Before the write, as in `create_inner`.
        if let Some(Some(account)) = patch.account_id {
            check_account(&mut tx, owner, account).await?;
        }
        let mut sets = Vec::new();
        let mut next = 5;
        if patch.name.is_some() {
            sets.push(format!(", name = ${next}"));
            next += 1;
        }
        if patch.account_id.is_some() {
            sets.push(format!(", account_id = ${next}"));
            next += 1;
        }
        if patch.status.is_some() {
            sets.push(format!(", status = ${next}"));
        }
        let sql = format!(
            "UPDATE strategies SET version = version + 1, updated_at_ms = $1{} \
             WHERE id = $2 AND owner = $3 AND ($4 IS NULL OR version = $4) RETURNING version",
            sets.concat()
        );
        let mut query = sqlx::query(&sql)
            .bind(now_ms())
            .bind(id)
            .bind(owner)
            .bind(expected);
        if let Some(name) = &patch.name {
            query = query.bind(name.as_str());
        }
        if let Some(account) = patch.account_id {
            query = query.bind(account);
        }
        if let Some(status) = patch.status {
            query = query.bind(status.as_str());
        }
        let bumped = query.fetch_optional(&mut *tx).await?;
        if bumped.is_none() {
            return Err(why_not(&mut tx, owner, id, expected).await);
        }
        let strategy = get_in(&mut tx, owner, id).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(strategy)
    }

    /// Deletes a strategy with its legs and M2M history.
    pub async fn delete(
        &self,
        owner: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<(), WriteError> {
        let mut tx = self.pool.begin().await?;
        let bumped = bump(&mut tx, owner, id, expected).await?;
        if !bumped {
            return Err(why_not(&mut tx, owner, id, expected).await);
        }
        for sql in [
            "DELETE FROM m2m_points WHERE strategy_id = $1",
            "DELETE FROM strategy_legs WHERE strategy_id = $1",
            "DELETE FROM strategies WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a leg; returns the strategy as it now is and the new leg's id.
    pub async fn add_leg(
        &self,
        owner: &str,
        id: i64,
        leg: NewLeg,
        expected: Option<i64>,
    ) -> Result<(StrategyRow, i64), WriteError> {
        let mut tx = self.pool.begin().await?;
        if !bump(&mut tx, owner, id, expected).await? {
            return Err(why_not(&mut tx, owner, id, expected).await);
        }
        let row = sqlx::query(
            "INSERT INTO strategy_legs (strategy_id, security_id, side, lots, \
             entry_price_paise, entry_time_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(leg.security_id)
        .bind(leg.side.as_str())
        .bind(leg.lots)
        .bind(leg.entry_price_paise)
        .bind(leg.entry_time_ms)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let leg_id: i64 = row.try_get("id")?;
        let strategy = get_in(&mut tx, owner, id).await?;
        // Counted after the bump locked the strategy: a concurrent add waits for this
        // transaction and then counts this leg too.
        if strategy.legs.len() > MAX_LEGS {
            return Err(WriteError::TooManyLegs);
        }
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok((strategy, leg_id))
    }

    /// Removes a leg; returns the strategy as it now is.
    pub async fn remove_leg(
        &self,
        owner: &str,
        id: i64,
        leg_id: i64,
        expected: Option<i64>,
    ) -> Result<StrategyRow, WriteError> {
        let mut tx = self.pool.begin().await?;
        if !bump(&mut tx, owner, id, expected).await? {
            return Err(why_not(&mut tx, owner, id, expected).await);
        }
        let done = sqlx::query("DELETE FROM strategy_legs WHERE id = $1 AND strategy_id = $2")
            .bind(leg_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            // Dropping the transaction rolls the version bump back.
            return Err(WriteError::Missing("leg"));
        }
        let strategy = get_in(&mut tx, owner, id).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(strategy)
    }
}

/// Bumps the version of the owner's strategy (if at `expected`); `false` if nothing
/// matched.
async fn bump(
    tx: &mut Transaction<'_, Any>,
    owner: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE strategies SET version = version + 1, updated_at_ms = $1 \
         WHERE id = $2 AND owner = $3 AND ($4 IS NULL OR version = $4)",
    )
    .bind(now_ms())
    .bind(id)
    .bind(owner)
    .bind(expected)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Why a version bump matched nothing: no such strategy, or a stale version.
async fn why_not(
    tx: &mut Transaction<'_, Any>,
    owner: &str,
    id: i64,
    expected: Option<i64>,
) -> WriteError {
    let current = sqlx::query("SELECT version FROM strategies WHERE id = $1 AND owner = $2")
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await;
    match (current, expected) {
        (Ok(Some(row)), Some(expected)) => match row.try_get::<i64, _>("version") {
            Ok(current) => WriteError::Stale { expected, current },
            Err(error) => error.into(),
        },
        (Ok(_), _) => WriteError::Missing("strategy"),
        (Err(error), _) => error.into(),
    }
}

async fn check_account(
    tx: &mut Transaction<'_, Any>,
    owner: &str,
    account: i64,
) -> Result<(), WriteError> {
    let found = sqlx::query("SELECT id FROM accounts WHERE id = $1 AND owner = $2")
        .bind(account)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
    found.map(|_| ()).ok_or(WriteError::Missing("account"))
}

async fn get_in(
    tx: &mut Transaction<'_, Any>,
    owner: &str,
    id: i64,
) -> Result<StrategyRow, WriteError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM strategies WHERE id = $1 AND owner = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(WriteError::Missing("strategy"))?;
    let legs = sqlx::query(&format!(
        "SELECT {LEG_COLUMNS} FROM strategy_legs WHERE strategy_id = $1 ORDER BY id"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let legs = legs.iter().map(leg_from).collect::<Result<_, _>>()?;
    Ok(strategy_from(&row, legs)?)
}

#[cfg(test)]
mod tests;
