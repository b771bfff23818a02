//! The open strategies with their legs, kept in memory between reads.
//!
//! The M2M worker asks for every open strategy every cycle, and reading them all (1,000
//! strategies and their ~3,000 legs) cost about 20 ms of a 50 ms budget, although they
//! rarely change between two cycles five seconds apart. So the set is held here, tagged
//! with the database's strategy generation (a counter that every transaction changing
//! a strategy or a leg bumps before it commits; see `migrations/*/0004_*.sql`). A read
//! first reads that one row: the same number means the held set is still exact, another
//! means it is read again. Because the counter is in the database rather than in this
//! process, an edit made by another server on the same database is seen as well.

use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{Any, AnyPool, Row, Transaction};

use super::StrategyRow;

/// The held set and the generation it was read at.
#[derive(Debug, Default)]
pub struct OpenSet {
    held: Mutex<Option<Held>>,
}

#[derive(Debug)]
struct Held {
    generation: i64,
    strategies: Arc<Vec<StrategyRow>>,
}

impl OpenSet {
    /// The set read at `generation`, if that is the one held.
    pub(super) fn at(&self, generation: i64) -> Option<Arc<Vec<StrategyRow>>> {
        // A panic elsewhere while the lock was held leaves a complete value behind (it
        // is only ever replaced whole), so a poisoned lock is still safe to read.
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|h| h.generation == generation)
            .map(|h| Arc::clone(&h.strategies))
    }

    /// Holds `strategies`, read after `generation` was. A slower reader of an older
    /// generation never replaces a newer set.
    pub(super) fn hold(&self, generation: i64, strategies: Arc<Vec<StrategyRow>>) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.as_ref().is_none_or(|h| h.generation <= generation) {
            *held = Some(Held {
                generation,
                strategies,
            });
        }
    }
}

/// The current strategy generation.
pub(super) async fn generation(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT n FROM strategy_generation WHERE id = 1")
        .fetch_one(pool)
        .await?;
    row.try_get("n")
}

/// Bumps the strategy generation inside a transaction that changes strategies or legs.
/// Call it as the transaction's last write, so every transaction locks the strategy
/// rows before this one and none waits for the other in reverse.
pub(crate) async fn bump_generation(tx: &mut Transaction<'_, Any>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE strategy_generation SET n = n + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
