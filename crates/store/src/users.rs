//! Users: who may log in, with which role and tier.

use sqlx::{AnyPool, Row};

use super::{StoreError, now_ms};
use auth::{Principal, Role, Tier};

/// A stored user. The password hash never leaves the store except to be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub tier: Tier,
    pub password_hash: Option<String>,
    pub created_at_ms: i64,
}

impl User {
    pub fn principal(&self) -> Principal {
        Principal {
            user: self.username.clone(),
            role: self.role,
            tier: self.tier,
        }
    }
}

/// What creating a user takes.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: Role,
    pub tier: Tier,
    /// An argon2 hash (see `auth::hash_password`); `None` for token-only users.
    pub password_hash: Option<&'a str>,
}

/// User queries.
#[derive(Debug)]
pub struct Users<'p> {
    pool: &'p AnyPool,
}

const COLUMNS: &str = "id, username, password_hash, role, tier, created_at_ms";

impl<'p> Users<'p> {
    pub(super) fn new(pool: &'p AnyPool) -> Self {
        Self { pool }
    }

    /// A user name is 1–64 characters of letters, digits, `.`, `_`, `-` and `@`.
    pub fn valid_name(name: &str) -> bool {
        (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    }

    pub async fn add(&self, new: NewUser<'_>) -> Result<User, StoreError> {
        let created = now_ms();
        let result = sqlx::query(
            "INSERT INTO users (username, password_hash, role, tier, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.username)
        .bind(new.password_hash)
        .bind(new.role.as_str())
        .bind(new.tier.as_str())
        .bind(created)
        .execute(self.pool)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("user {:?}", new.username)));
            }
            Err(other) => return Err(other.into()),
        }
        self.get(new.username)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("user {:?} vanished", new.username)))
    }

    pub async fn get(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| user_from(&r)).transpose()
    }

    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
            .fetch_all(self.pool)
            .await?;
        rows.iter().map(user_from).collect()
    }

    /// Changes role, tier and (when given) password. `Ok(false)` when there is no such user.
    pub async fn update(
        &self,
        username: &str,
        role: Role,
        tier: Tier,
        password_hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET role = $1, tier = $2, \
             password_hash = COALESCE($3, password_hash) WHERE username = $4",
        )
        .bind(role.as_str())
        .bind(tier.as_str())
        .bind(password_hash)
        .bind(username)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    let tier: String = row.try_get("tier")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        tier: Tier::parse(&tier).ok_or_else(|| StoreError::Corrupt(format!("tier {tier:?}")))?,
        password_hash: row.try_get("password_hash")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stores;

    #[tokio::test]
    async fn add_get_update_list_on_every_backend() {
        for (store, _dir) in stores().await {
            let users = store.users();
            let alice = users
                .add(NewUser {
                    username: "alice",
                    role: Role::Trader,
                    tier: Tier::Free,
                    password_hash: Some("$argon2id$fake"),
                })
                .await
                .unwrap();
            assert_eq!(alice.role, Role::Trader);
            assert!(alice.id > 0);
            let again = users
                .add(NewUser {
                    username: "alice",
                    role: Role::Viewer,
                    tier: Tier::Free,
                    password_hash: None,
                })
                .await;
            assert!(
                matches!(again, Err(StoreError::Conflict(_))),
                "{:?}",
                store.backend()
            );
            assert!(
                users
                    .update("alice", Role::Admin, Tier::Pro, None)
                    .await
                    .unwrap()
            );
            let got = users.get("alice").await.unwrap().unwrap();
            assert_eq!((got.role, got.tier), (Role::Admin, Tier::Pro));
            assert_eq!(got.password_hash.as_deref(), Some("$argon2id$fake"));
            assert!(
                !users
                    .update("bob", Role::Admin, Tier::Pro, None)
                    .await
                    .unwrap()
            );
            assert_eq!(users.get("bob").await.unwrap(), None);
            assert_eq!(users.list().await.unwrap().len(), 1);
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(Users::valid_name("ops.team-1@desk"));
        assert!(!Users::valid_name(""));
        assert!(!Users::valid_name("a b"));
        assert!(!Users::valid_name("x'; DROP TABLE users; --"));
    }
}
