-- One counter for the whole set of saved strategies: every transaction that changes a
-- strategy or its legs (create, edit, delete, a leg added or removed, an account
-- deleted from under its strategies) adds one to it before it commits. The M2M worker
-- keeps the open strategies in memory and re-reads them only when this number moved,
-- which is one single-row read per cycle instead of every strategy and leg; because the
-- number lives in the database, an edit made through another server sharing it is seen
-- too. Bumping it last in each transaction keeps one lock order (the strategy's row,
-- then this row) so concurrent edits queue instead of deadlocking.
CREATE TABLE strategy_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT  NOT NULL
);
INSERT INTO strategy_generation (id, n) VALUES (1, 0);
