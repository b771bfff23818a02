//! Reading strategy and leg rows: the legs of a set of strategies in one statement, and
//! the decoding of both kinds of row.

use sqlx::{AnyPool, Row};

use super::{LEG_COLUMNS, LegRow, Side, StoreError, StrategyRow, StrategyStatus};

/// Whose legs to read. The filter is the strategies' own, as a subquery, so the legs
/// come in one statement with at most one parameter: an `IN` list of ids would be a
/// parameter per strategy, which SQLite resolves in quadratic time.
#[derive(Debug, Clone, Copy)]
pub(super) enum LegsOf<'a> {
    Strategy(i64),
    Owner(&'a str),
    Open,
}

pub(super) async fn legs_of(pool: &AnyPool, which: LegsOf<'_>) -> Result<Vec<LegRow>, StoreError> {
    let filter = match which {
        LegsOf::Strategy(_) => "strategy_id = $1",
        LegsOf::Owner(_) => "strategy_id IN (SELECT id FROM strategies WHERE owner = $1)",
        LegsOf::Open => "strategy_id IN (SELECT id FROM strategies WHERE status = 'open')",
    };
    let sql = format!("SELECT {LEG_COLUMNS} FROM strategy_legs WHERE {filter} ORDER BY id");
    let query = sqlx::query(&sql);
    let query = match which {
        LegsOf::Strategy(id) => query.bind(id),
        LegsOf::Owner(owner) => query.bind(owner),
        LegsOf::Open => query,
    };
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(leg_from).collect()
}

/// Strategy rows with their legs (read with the same filter as the rows).
pub(super) async fn with_legs(
    pool: &AnyPool,
    rows: &[sqlx::any::AnyRow],
    which: LegsOf<'_>,
) -> Result<Vec<StrategyRow>, StoreError> {
    let mut strategies: Vec<StrategyRow> = rows
        .iter()
        .map(|r| strategy_from(r, Vec::new()))
        .collect::<Result<_, _>>()?;
    let index: std::collections::HashMap<i64, usize> = strategies
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    for leg in legs_of(pool, which).await? {
        // A leg of a strategy created between the two reads has no row here: skipped.
        if let Some(&at) = index.get(&leg.strategy_id) {
            strategies[at].legs.push(leg);
        }
    }
    Ok(strategies)
}

pub(super) fn strategy_from(
    row: &sqlx::any::AnyRow,
    legs: Vec<LegRow>,
) -> Result<StrategyRow, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(StrategyRow {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        underlying: row.try_get("underlying")?,
        status: StrategyStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("strategy status {status:?}")))?,
        version: row.try_get("version")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        legs,
    })
}

pub(super) fn leg_from(row: &sqlx::any::AnyRow) -> Result<LegRow, StoreError> {
    let side: String = row.try_get("side")?;
    Ok(LegRow {
        id: row.try_get("id")?,
        strategy_id: row.try_get("strategy_id")?,
        security_id: row.try_get("security_id")?,
        side: Side::parse(&side)
            .ok_or_else(|| StoreError::Corrupt(format!("leg side {side:?}")))?,
        lots: row.try_get("lots")?,
        entry_price_paise: row.try_get("entry_price_paise")?,
        entry_time_ms: row.try_get("entry_time_ms")?,
    })
}
