-- Per-owner quotas and M2M retention.
--
-- `owner_locks` holds one row per owner who has created a saved strategy or an account.
-- A create first upserts the owner's row, then counts what the owner already has: on
-- PostgreSQL the upsert locks that row until the transaction ends, so two concurrent
-- creates by one owner queue instead of both counting below the quota (SQLite has one
-- writer at a time anyway; the upsert takes its write lock before the count). The
-- timestamp is only there to give the update something to set.
CREATE TABLE owner_locks (
    owner         TEXT   NOT NULL PRIMARY KEY,
    touched_at_ms BIGINT NOT NULL
);

-- M2M retention deletes and downsamples by age across every strategy; without this the
-- hourly pass would read the whole table.
CREATE INDEX m2m_points_by_time ON m2m_points (at_ms);
