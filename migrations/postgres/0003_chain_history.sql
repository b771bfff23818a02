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
    strike      DOUBLE PRECISION NOT NULL,
    is_call     SMALLINT NOT NULL,
    security_id BIGINT  NOT NULL,
    spot        DOUBLE PRECISION NOT NULL,
    ltp         DOUBLE PRECISION NOT NULL,
    bid         DOUBLE PRECISION NOT NULL,
    ask         DOUBLE PRECISION NOT NULL,
    iv          DOUBLE PRECISION,
    delta       DOUBLE PRECISION,
    gamma       DOUBLE PRECISION,
    theta       DOUBLE PRECISION,
    vega        DOUBLE PRECISION,
    oi          BIGINT  NOT NULL,
    volume      BIGINT  NOT NULL,
    plugin      TEXT
);
-- Range reads per chain; retention deletes by time alone.
CREATE INDEX chain_snapshots_chain_ts ON chain_snapshots (underlying, expiry, ts_ms);
CREATE INDEX chain_snapshots_ts ON chain_snapshots (ts_ms);
