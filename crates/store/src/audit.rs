//! The admin audit: the newest [`KEPT`] admin actions, allowed or refused, for
//! `GET /admin/audit`. Every action is also one log line (see `api::admin`); the table
//! is what an operator can read back without the log, and it never grows past its cap.

use sqlx::{AnyPool, Row};

use super::{StoreError, now_ms};

/// How many actions are kept; older rows are deleted as new ones are written.
pub const KEPT: usize = 1_000;

/// One recorded admin action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The token's user; `anonymous` without a token, `invalid-token` with a bad one.
    pub actor: String,
    /// The client's IP address.
    pub address: String,
    /// `plugin.upload`, `plugin.rollback` or `plugin.unload`.
    pub action: String,
    /// The plugin the action named, when it named one.
    pub target: Option<String>,
    /// SHA-256 (hex) of the component uploaded, rolled back to or unloaded, when known.
    pub content_hash: Option<String>,
    /// `allowed` or `refused`.
    pub outcome: String,
    /// The HTTP status of the answer.
    pub status: i64,
}

/// What recording an action takes.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub address: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub content_hash: Option<&'a str>,
    pub allowed: bool,
    pub status: u16,
}

/// Audit queries.
#[derive(Debug)]
pub struct AdminAudit<'p> {
    pool: &'p AnyPool,
}

impl<'p> AdminAudit<'p> {
    pub(super) fn new(pool: &'p AnyPool) -> Self {
        Self { pool }
    }

    /// Records an action and drops what falls beyond the newest [`KEPT`].
    pub async fn record(&self, entry: &NewAuditEntry<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO admin_audit (at_ms, actor, address, action, target, content_hash, \
             outcome, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now_ms())
        .bind(entry.actor)
        .bind(entry.address)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.content_hash)
        .bind(if entry.allowed { "allowed" } else { "refused" })
        .bind(i64::from(entry.status))
        .execute(&mut *tx)
        .await?;
        // Fewer than KEPT rows: the subquery is empty, the comparison NULL, nothing goes.
        sqlx::query(&format!(
            "DELETE FROM admin_audit WHERE id < \
             (SELECT id FROM admin_audit ORDER BY id DESC LIMIT 1 OFFSET {})",
            KEPT - 1
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The kept actions, newest first.
    pub async fn recent(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, address, action, target, content_hash, outcome, status \
             FROM admin_audit ORDER BY id DESC",
        )
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at_ms: row.try_get("at_ms")?,
                    actor: row.try_get("actor")?,
                    address: row.try_get("address")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    content_hash: row.try_get("content_hash")?,
                    outcome: row.try_get("outcome")?,
                    status: row.try_get("status")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stores;

    fn entry(actor: &str, allowed: bool) -> NewAuditEntry<'_> {
        NewAuditEntry {
            actor,
            address: "10.0.0.7",
            action: "plugin.upload",
            target: Some("probe"),
            content_hash: Some("ab12"),
            allowed,
            status: if allowed { 201 } else { 403 },
        }
    }

    #[tokio::test]
    async fn keeps_the_newest_thousand_actions_newest_first() {
        for (store, _dir) in stores().await {
            let audit = store.audit();
            audit.record(&entry("first", false)).await.unwrap();
            let listed = audit.recent().await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(
                (listed[0].actor.as_str(), listed[0].outcome.as_str()),
                ("first", "refused")
            );
            assert_eq!(listed[0].status, 403);
            for n in 0..KEPT {
                let actor = format!("admin-{n}");
                audit.record(&entry(&actor, true)).await.unwrap();
            }
            let listed = audit.recent().await.unwrap();
            assert_eq!(listed.len(), KEPT, "{:?}", store.backend());
            assert_eq!(listed[0].actor, format!("admin-{}", KEPT - 1));
            assert_eq!(listed[KEPT - 1].actor, "admin-0");
            assert!(listed.iter().all(|e| e.actor != "first"), "the oldest went");
        }
    }
}
