-- Chain history: one row per contract per snapshot (every N seconds, see
-- `history::recorder`). Times are milliseconds since the Unix epoch (UTC); the expiry is
-- YYYY-MM-DD text. Greeks are NULL for a contract the model has not priced; `plugin` is
-- the greeks-model version (name@version) that computed them. No primary key: rows are
-- only appended in batches and read by (underlying, expiry, time) range, and a key
-- would cost every insert an extra index probe.
CREATE TABLE chain_snapshots (
    ts_ms       BIGINT  NOT NULL,
    underlying  TEXT    NOT NULL,
    expiry      TEXT    NOT NULL,
    strike      REAL    NOT NULL,
    is_call     INTEGER NOT NULL,
    security_id BIGINT  NOT NULL,
    spot        REAL    NOT NULL,
    ltp         REAL    NOT NULL,
    bid         REAL    NOT NULL,
    ask         REAL    NOT NULL,
    iv          REAL,
    delta       REAL,
    gamma       REAL,
    theta       REAL,
    vega        REAL,
    oi          BIGINT  NOT NULL,
    volume      BIGINT  NOT NULL,
    plugin      TEXT
);
-- Range reads per chain; retention deletes by time alone.
CREATE INDEX chain_snapshots_chain_ts ON chain_snapshots (underlying, expiry, ts_ms);
CREATE INDEX chain_snapshots_ts ON chain_snapshots (ts_ms);
