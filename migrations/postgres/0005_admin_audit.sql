-- The admin audit: one row per admin action (a plugin upload, rollback or unload),
-- allowed or refused, with who asked (`actor`: the token's user, or `anonymous` /
-- `invalid-token`), from where (`address`: the client's IP), what (`action`, and the
-- plugin it named in `target`), the SHA-256 of the component involved when there is one,
-- and the answer's status. Only the newest 1,000 rows are kept: the store deletes older
-- ones as it writes, so the table never grows past that. The log has every action too.
CREATE TABLE admin_audit (
    id           BIGSERIAL PRIMARY KEY,
    at_ms        BIGINT  NOT NULL,
    actor        TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT,
    content_hash TEXT,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('allowed', 'refused')),
    status       BIGINT  NOT NULL
);
