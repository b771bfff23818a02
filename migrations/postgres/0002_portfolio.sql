-- Saved strategies, their legs, their mark-to-market history, and trading accounts.
--
-- Money is BIGINT paise (1 rupee = 100 paise), never a float: see host/src/portfolio/money.rs
-- for the rounding rules. Times are milliseconds since the Unix epoch (UTC). `owner` is the
-- user name of the token that created the row (tokens may name users the users table does
-- not hold, so it is not a foreign key). Children are deleted explicitly by the store, in
-- the same transaction as their parent, so both backends behave the same whether or not
-- foreign keys are enforced.

-- A user's trading accounts. Broker credentials are kept only sealed (ChaCha20-Poly1305,
-- key from configuration): `credentials_sealed` is nonce || ciphertext, hex, or NULL.
CREATE TABLE accounts (
    id                 BIGSERIAL PRIMARY KEY,
    owner              TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    broker             TEXT    NOT NULL CHECK (broker IN ('dhan')),
    broker_client_id   TEXT    NOT NULL,
    credentials_sealed TEXT,
    created_at_ms      BIGINT  NOT NULL
);
CREATE INDEX accounts_by_owner ON accounts (owner);

-- `version` grows by one with every edit (rename, leg added or removed, status change):
-- writers compare it to refuse a stale edit, and M2M points name the version they valued.
CREATE TABLE strategies (
    id            BIGSERIAL PRIMARY KEY,
    owner         TEXT    NOT NULL,
    account_id    BIGINT  REFERENCES accounts (id),
    name          TEXT    NOT NULL,
    underlying    TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    version       BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL
);
CREATE INDEX strategies_by_owner ON strategies (owner);
CREATE INDEX strategies_by_status ON strategies (status);

CREATE TABLE strategy_legs (
    id                BIGSERIAL PRIMARY KEY,
    strategy_id       BIGINT  NOT NULL REFERENCES strategies (id),
    security_id       BIGINT  NOT NULL,
    side              TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    lots              BIGINT  NOT NULL CHECK (lots > 0),
    entry_price_paise BIGINT  NOT NULL CHECK (entry_price_paise >= 0),
    entry_time_ms     BIGINT  NOT NULL,
    created_at_ms     BIGINT  NOT NULL
);
CREATE INDEX strategy_legs_by_strategy ON strategy_legs (strategy_id);

-- One valuation of a strategy by the M2M worker.
CREATE TABLE m2m_points (
    strategy_id      BIGINT NOT NULL REFERENCES strategies (id),
    at_ms            BIGINT NOT NULL,
    m2m_paise        BIGINT NOT NULL,
    strategy_version BIGINT NOT NULL,
    PRIMARY KEY (strategy_id, at_ms)
);
