-- Users of the API: login name, argon2id hash (NULL: tokens only, from the CLI),
-- role and tier. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
    tier          TEXT    NOT NULL CHECK (tier IN ('free', 'pro')),
    created_at_ms BIGINT  NOT NULL
);
