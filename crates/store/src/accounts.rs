//! Trading accounts: a user's accounts at a broker, which strategies may be grouped by.
//!
//! Broker credentials reach this module already sealed (see `portfolio::credentials`);
//! the store never sees them in plain text and keeps only the sealed hex.

use sqlx::{AnyPool, Row};

use super::quota::{self, Owned};
use super::{StoreError, now_ms};

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub broker: String,
    pub broker_client_id: String,
    /// Nonce and ciphertext, hex; `None` when no credentials were given.
    pub credentials_sealed: Option<String>,
    pub created_at_ms: i64,
}

/// What creating an account takes.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub broker: &'a str,
    pub broker_client_id: &'a str,
    pub credentials_sealed: Option<&'a str>,
}

/// Account queries; every one is scoped to an owner, so another user's id reads as absent.
#[derive(Debug)]
pub struct Accounts<'p> {
    pool: &'p AnyPool,
}

const COLUMNS: &str =
    "id, owner, name, broker, broker_client_id, credentials_sealed, created_at_ms";

impl<'p> Accounts<'p> {
    pub(super) fn new(pool: &'p AnyPool) -> Self {
        Self { pool }
    }

    /// Adds an account, with no quota (tools and tests; the API uses
    /// [`add_within_quota`](Self::add_within_quota)).
    pub async fn add(&self, new: NewAccount<'_>) -> Result<AccountRow, StoreError> {
        self.add_inner(new, None).await
    }

    /// [`add`](Self::add), refused with [`StoreError::QuotaExceeded`] when the owner
    /// would have more than `quota` accounts; race-free (see [`super::quota`]).
    pub async fn add_within_quota(
        &self,
        new: NewAccount<'_>,
        quota: u32,
    ) -> Result<AccountRow, StoreError> {
        self.add_inner(new, Some(quota)).await
    }

    async fn add_inner(
        &self,
        new: NewAccount<'_>,
        quota: Option<u32>,
    ) -> Result<AccountRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        if quota.is_some() {
            quota::lock_owner(&mut tx, new.owner).await?;
        }
        let row = sqlx::query(&format!(
            "INSERT INTO accounts (owner, name, broker, broker_client_id, credentials_sealed, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(new.owner)
        .bind(new.name)
        .bind(new.broker)
        .bind(new.broker_client_id)
        .bind(new.credentials_sealed)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(limit) = quota {
            quota::over_quota(&mut tx, Owned::Accounts, new.owner, limit).await?;
        }
        let account = account_from(&row)?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn get(&self, owner: &str, id: i64) -> Result<Option<AccountRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND owner = $2"
        ))
        .bind(id)
        .bind(owner)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    pub async fn list(&self, owner: &str) -> Result<Vec<AccountRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM accounts WHERE owner = $1 ORDER BY id"
        ))
        .bind(owner)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(account_from).collect()
    }

    /// Stores sealed credentials on an existing account: they are sealed for the
    /// account's id, which exists only once the row does. `Ok(false)` when the owner has
    /// no such account.
    pub async fn set_credentials(
        &self,
        owner: &str,
        id: i64,
        sealed: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE accounts SET credentials_sealed = $1 WHERE id = $2 AND owner = $3")
                .bind(sealed)
                .bind(id)
                .bind(owner)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes an account; its strategies stay, ungrouped (each such edit bumps the
    /// strategy's version). `Ok(false)` when the owner has no such account.
    pub async fn delete(&self, owner: &str, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The write comes first so SQLite takes its write lock at once (a read-then-write
        // transaction can fail to upgrade under contention).
        sqlx::query(
            "UPDATE strategies SET account_id = NULL, version = version + 1, \
             updated_at_ms = $1 WHERE account_id = $2 AND owner = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM accounts WHERE id = $1 AND owner = $2")
            .bind(id)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        super::strategies::bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

fn account_from(row: &sqlx::any::AnyRow) -> Result<AccountRow, StoreError> {
    Ok(AccountRow {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        broker: row.try_get("broker")?,
        broker_client_id: row.try_get("broker_client_id")?,
        credentials_sealed: row.try_get("credentials_sealed")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stores;

    #[tokio::test]
    async fn accounts_are_per_owner_on_every_backend() {
        for (store, _dir) in stores().await {
            let accounts = store.accounts();
            let a = accounts
                .add(NewAccount {
                    owner: "alice",
                    name: "main",
                    broker: "dhan",
                    broker_client_id: "1000001",
                    credentials_sealed: Some("00ff"),
                })
                .await
                .unwrap();
            assert_eq!(a.credentials_sealed.as_deref(), Some("00ff"));
            assert_eq!(accounts.get("alice", a.id).await.unwrap(), Some(a.clone()));
            assert_eq!(accounts.get("bob", a.id).await.unwrap(), None);
            assert!(accounts.list("bob").await.unwrap().is_empty());
            assert_eq!(accounts.list("alice").await.unwrap().len(), 1);
            assert!(!accounts.delete("bob", a.id).await.unwrap());
            assert!(accounts.delete("alice", a.id).await.unwrap());
            assert_eq!(accounts.get("alice", a.id).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn concurrent_adds_never_pass_the_account_quota_on_every_backend() {
        for (store, _dir) in stores().await {
            let mut tasks = Vec::new();
            for i in 0..8 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let client_id = format!("c{i}");
                    store
                        .accounts()
                        .add_within_quota(
                            NewAccount {
                                owner: "alice",
                                name: "main",
                                broker: "dhan",
                                broker_client_id: &client_id,
                                credentials_sealed: None,
                            },
                            3,
                        )
                        .await
                }));
            }
            let mut outcomes = (0, 0);
            for task in tasks {
                match task.await.unwrap() {
                    Ok(_) => outcomes.0 += 1,
                    Err(StoreError::QuotaExceeded { limit: 3, .. }) => outcomes.1 += 1,
                    Err(other) => panic!("{:?}: {other}", store.backend()),
                }
            }
            assert_eq!(outcomes, (3, 5), "{:?}", store.backend());
            assert_eq!(store.accounts().list("alice").await.unwrap().len(), 3);
        }
    }
}
