//! Writing history: a batch as one `COPY` on PostgreSQL, or as chunked multi-row
//! `INSERT`s in one transaction on SQLite (see the parent module for why).

use sqlx::postgres::PgPoolCopyExt;

use super::{History, SnapshotRow};
use crate::{Backend, StoreError, values_list};

const COLUMNS: &str = "ts_ms, underlying, expiry, strike, is_call, security_id, spot, ltp, \
                       bid, ask, iv, delta, gamma, theta, vega, oi, volume, plugin";
const COLUMN_COUNT: usize = 18;
/// Rows per statement: SQLite allows 32,766 bind parameters in one statement.
const CHUNK_ROWS: usize = 32_766 / COLUMN_COUNT;

impl History<'_> {
    /// Appends `rows`: all or none.
    pub async fn insert(&self, rows: &[SnapshotRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        if let Some(pg) = self.copy {
            let mut copy = pg
                .copy_in_raw(&format!(
                    "COPY chain_snapshots ({COLUMNS}) FROM STDIN WITH (FORMAT text)"
                ))
                .await?;
            copy.send(copy_text(rows)).await?;
            copy.finish().await?;
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(CHUNK_ROWS) {
            let sql = insert_sql(chunk.len());
            // Not a cached prepared statement: sqlx 0.8's Any driver declares a NULL
            // f64 as float4 to PostgreSQL, and a statement prepared with that type
            // then refuses a real f64 in the same place on the next batch. One parse
            // per chunk of ~1,800 rows costs nothing next to the rows.
            let mut query = sqlx::query(&sql).persistent(false);
            for row in chunk {
                let g = row.greeks;
                query = query
                    .bind(row.ts_ms)
                    .bind(&*row.underlying)
                    .bind(&*row.expiry)
                    .bind(row.strike)
                    .bind(i16::from(row.is_call))
                    .bind(i64::from(row.security_id))
                    .bind(row.spot)
                    .bind(row.ltp)
                    .bind(row.bid)
                    .bind(row.ask)
                    .bind(g.map(|g| g.iv))
                    .bind(g.map(|g| g.delta))
                    .bind(g.map(|g| g.gamma))
                    .bind(g.map(|g| g.theta))
                    .bind(g.map(|g| g.vega))
                    .bind(saturating_i64(row.oi))
                    .bind(saturating_i64(row.volume))
                    .bind(row.plugin.as_deref());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `rows` in PostgreSQL's `COPY` text format: tab-separated, `\N` for NULL, one line
/// per row. Text fields are escaped (backslash, tab, newline, carriage return) though
/// they come from the registry and plugin names, not from requests.
fn copy_text(rows: &[SnapshotRow]) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows.len() * 160);
    let text = |out: &mut String, value: &str| {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    };
    for row in rows {
        let _ = write!(out, "{}\t", row.ts_ms);
        text(&mut out, &row.underlying);
        out.push('\t');
        text(&mut out, &row.expiry);
        let _ = write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            row.strike,
            i16::from(row.is_call),
            row.security_id,
            row.spot,
            row.ltp,
            row.bid,
            row.ask
        );
        match row.greeks {
            Some(g) => {
                let _ = write!(
                    out,
                    "\t{}\t{}\t{}\t{}\t{}",
                    g.iv, g.delta, g.gamma, g.theta, g.vega
                );
            }
            None => out.push_str("\t\\N\t\\N\t\\N\t\\N\t\\N"),
        }
        let _ = write!(
            out,
            "\t{}\t{}\t",
            saturating_i64(row.oi),
            saturating_i64(row.volume)
        );
        match &row.plugin {
            Some(plugin) => text(&mut out, plugin),
            None => out.push_str("\\N"),
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `INSERT … VALUES (?, …), (?, …)` for `rows` rows (SQLite only). Positional `?`, not
/// the usual `$N`: SQLite treats `$N` as a *named* parameter and looks each one up among
/// those seen so far, quadratic in the parameter count (some 50 s for a 20,000-row
/// batch, against well under a second with `?`).
fn insert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO chain_snapshots ({COLUMNS}) VALUES {}",
        values_list(Backend::Sqlite, rows, COLUMN_COUNT)
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::row;
    use super::*;

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sql(2);
        assert!(sql.ends_with("),(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        assert_eq!(sql.matches('?').count(), 36);
        const { assert!(CHUNK_ROWS * COLUMN_COUNT <= 32_766) };
    }

    #[test]
    fn copy_text_has_every_column_nulls_and_escapes() {
        let mut priced = row(60_000, 24_000.0, true, 11);
        priced.plugin = Some("a\tb\\c".into());
        let unpriced = row(60_000, 23_900.0, false, 20);
        let text = String::from_utf8(copy_text(&[priced, unpriced])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("60000\tNIFTY\t2026-11-24\t24000\t1\t"),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with("\t11\t500\ta\\tb\\\\c"), "{}", lines[0]);
        assert_eq!(lines[1].split('\t').count(), COLUMN_COUNT);
        assert!(lines[1].contains("\t0\t"), "puts are 0: {}", lines[1]);
        assert_eq!(
            lines[1].matches("\\N").count(),
            5,
            "no Greeks: {}",
            lines[1]
        );
    }
}
