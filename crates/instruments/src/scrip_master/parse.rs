//! Reading a scrip master (either layout) into [`Instrument`]s, keeping only what the
//! [`Filter`] selects.
//!
//! The file is streamed through one reused CSV record: rows the filter rejects cost a
//! byte comparison or two and no allocation. A row that is selected but malformed is
//! reported with its line and skipped; it never aborts the load, because one odd row in
//! Dhan's daily file must not take the whole feed down.

use std::fmt::Write as _;
use std::io::Read;

use csv::ByteRecord;

use super::ScripMasterError;
use super::columns::{Columns, MasterFormat};
use super::filter::Filter;
use super::vocabulary::{
    self, InstrumentClass, PAISE_PER_RUPEE, expiry_flag_of, right_of, segment_of,
};
use crate::{ExchangeSegment, Instrument, InstrumentKey, InstrumentKind};

/// How many bad rows [`ParsedMaster::bad_rows`] keeps; all are counted.
pub const MAX_KEPT_BAD_ROWS: usize = 100;

/// The selected instruments of one scrip master, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMaster {
    pub format: MasterFormat,
    /// In file order.
    pub instruments: Vec<Instrument>,
    /// Rows the filter did not select.
    pub skipped_rows: usize,
    /// The first [`MAX_KEPT_BAD_ROWS`] selected rows that could not be read.
    pub bad_rows: Vec<BadRow>,
    /// Every selected row that could not be read.
    pub bad_row_count: usize,
}

impl ParsedMaster {
    fn record_bad(&mut self, row: BadRow) {
        self.bad_row_count += 1;
        if self.bad_rows.len() < MAX_KEPT_BAD_ROWS {
            self.bad_rows.push(row);
        }
    }

    /// A one-line account of the rejected rows (the first few, and how many in all),
    /// for logs and errors; `None` when no row was rejected.
    pub fn bad_rows_summary(&self) -> Option<String> {
        const SHOWN: usize = 5;
        let first = self.bad_rows.first()?;
        let mut text = first.to_string();
        for row in self.bad_rows.iter().skip(1).take(SHOWN - 1) {
            text.push_str("; ");
            text.push_str(&row.to_string());
        }
        let shown = self.bad_rows.len().min(SHOWN);
        if self.bad_row_count > shown {
            let _ = write!(text, "; and {} more", self.bad_row_count - shown);
        }
        Some(text)
    }
}

/// One selected row that could not be read: where, what it was meant to be, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// What the row's instrument column says it is, when that much could be read.
    pub class: Option<InstrumentClass>,
    /// The underlying the row was selected for, when its name could be read.
    pub underlying: Option<String>,
    /// Which cell, its value, and what was expected instead.
    pub reason: RowError,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        match (&self.underlying, self.class) {
            (Some(underlying), Some(class)) => write!(f, " ({underlying} {class})")?,
            (None, Some(class)) => write!(f, " ({class})")?,
            (Some(underlying), None) => write!(f, " ({underlying})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.reason)
    }
}

/// What is wrong with a row.
/// Every variant names the column, and the value where the row has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("the row ends before its {column} cell")]
    MissingCell { column: &'static str },
    #[error("{column} {value:?} is not UTF-8")]
    NotUtf8 { column: &'static str, value: String },
    #[error("{column} {value:?} is not {expected}")]
    Invalid {
        column: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "{exchange_column}/{segment_column} {exchange:?}/{segment:?} is not a known exchange and segment"
    )]
    UnknownSegment {
        exchange_column: &'static str,
        segment_column: &'static str,
        exchange: String,
        segment: String,
    },
    #[error("{column} {value:?} gives no expiry, but a derivative needs an expiry")]
    MissingExpiry { column: &'static str, value: String },
}

/// Reads a scrip master in either layout (detected from the header) and keeps the rows
/// `filter` selects.
///
/// Fails only if the CSV cannot be read or the header lacks a needed column.
pub fn parse(reader: impl Read, filter: &Filter) -> Result<ParsedMaster, ScripMasterError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let columns = Columns::locate(csv.headers()?)
        .map_err(|(format, missing)| ScripMasterError::MissingColumns { format, missing })?;
    // The CSV reader ends a CRLF record at its `\r` and counts the `\n` into the next
    // record, so that record's position is one line short. Dhan's files (and the
    // detailed fixture) are CRLF; the header shows which kind this file is: after a CRLF
    // header the reader is still on line 1.
    let crlf_lag = u64::from(csv.position().line() == 1);
    let mut master = ParsedMaster {
        format: columns.format,
        instruments: Vec::new(),
        skipped_rows: 0,
        bad_rows: Vec::new(),
        bad_row_count: 0,
    };
    let mut record = ByteRecord::new();
    while csv.read_byte_record(&mut record)? {
        let row = Row {
            record: &record,
            columns: &columns,
        };
        let line = record.position().map_or(0, csv::Position::line) + crlf_lag;
        match row.selection(filter) {
            Ok(None) => master.skipped_rows += 1,
            Ok(Some((class, underlying))) => match row.instrument(class, underlying) {
                Ok(instrument) => master.instruments.push(instrument),
                Err(reason) => master.record_bad(BadRow {
                    line,
                    class: Some(class),
                    underlying: Some(underlying.to_owned()),
                    reason,
                }),
            },
            Err((class, reason)) => master.record_bad(BadRow {
                line,
                class,
                underlying: None,
                reason,
            }),
        }
    }
    Ok(master)
}

/// Why a row was rejected before its underlying was known, with its class when that
/// much was read.
type Rejected = (Option<InstrumentClass>, RowError);

/// One CSV row seen through the located columns.
struct Row<'a> {
    record: &'a ByteRecord,
    columns: &'a Columns,
}

impl Row<'_> {
    /// The trimmed cell at `index`, named `column` in errors.
    fn cell(&self, index: usize, column: &'static str) -> Result<&str, RowError> {
        let raw = self
            .record
            .get(index)
            .ok_or(RowError::MissingCell { column })?;
        std::str::from_utf8(raw.trim_ascii()).map_err(|_| RowError::NotUtf8 {
            column,
            value: String::from_utf8_lossy(raw).into_owned(),
        })
    }

    fn names(&self) -> &'static super::columns::ColumnNames {
        self.columns.format.names()
    }

    fn invalid(column: &'static str, value: &str, expected: &'static str) -> RowError {
        RowError::Invalid {
            column,
            value: value.to_owned(),
            expected,
        }
    }

    /// A finite number; `expected` describes it for the error.
    fn number(
        &self,
        index: usize,
        column: &'static str,
        expected: &'static str,
    ) -> Result<f64, RowError> {
        let raw = self.cell(index, column)?;
        raw.parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| Self::invalid(column, raw, expected))
    }

    /// Whether the filter wants this row: its class and the selected underlying name, or
    /// `None` to skip it. Touches only the cells the decision needs. An error carries
    /// the class when that much was read.
    fn selection<'f>(
        &self,
        filter: &'f Filter,
    ) -> Result<Option<(InstrumentClass, &'f str)>, Rejected> {
        let names = self.names();
        let instrument = self.record.get(self.columns.instrument).ok_or((
            None,
            RowError::MissingCell {
                column: names.instrument,
            },
        ))?;
        let Some(class) = InstrumentClass::of(instrument) else {
            return Ok(None);
        };
        let name = self
            .underlying_name(class)
            .map_err(|reason| (Some(class), reason))?;
        Ok(filter.selected(name).map(|name| (class, name)))
    }

    /// The underlying's name as the row spells it. The detailed layout names it in
    /// `UNDERLYING_SYMBOL`; the compact layout's `SM_SYMBOL_NAME` is reliable only for
    /// index rows (live files leave it empty on index futures), so derivatives are named
    /// by their trading symbol's first part (`NIFTY-Nov2026-26000-CE` → `NIFTY`).
    fn underlying_name(&self, class: InstrumentClass) -> Result<&str, RowError> {
        let names = self.names();
        let is_index = class == InstrumentClass::Index;
        if self.columns.format == MasterFormat::Detailed || is_index {
            let named = self.cell(self.columns.name, names.name)?;
            if !named.is_empty() {
                return Ok(named);
            }
        }
        let symbol = self.cell(self.columns.symbol, names.symbol)?;
        Ok(if is_index {
            symbol
        } else {
            symbol
                .split_once('-')
                .map_or(symbol, |(first, _rest)| first)
        })
    }

    /// The full instrument of a selected row.
    fn instrument(&self, class: InstrumentClass, underlying: &str) -> Result<Instrument, RowError> {
        let (names, columns) = (self.names(), self.columns);
        let id_cell = self.cell(columns.security_id, names.security_id)?;
        let security_id = id_cell
            .parse::<u32>()
            .map_err(|_| Self::invalid(names.security_id, id_cell, "a security id"))?;
        let is_index = class == InstrumentClass::Index;
        let segment = if is_index {
            ExchangeSegment::IdxI
        } else {
            let exchange = self.cell(columns.exchange, names.exchange)?;
            let letter = self.cell(columns.segment, names.segment)?;
            segment_of(exchange, letter).ok_or_else(|| RowError::UnknownSegment {
                exchange_column: names.exchange,
                segment_column: names.segment,
                exchange: exchange.to_owned(),
                segment: letter.to_owned(),
            })?
        };
        let symbol = match self.cell(columns.symbol, names.symbol)? {
            "" => underlying,
            symbol => symbol,
        };
        let lot_size = self.lot_size()?;
        let tick = self.number(columns.tick_size, names.tick_size, "a positive tick size")?;
        if tick <= 0.0 {
            return Err(Self::invalid(
                names.tick_size,
                &tick.to_string(),
                "a positive tick size",
            ));
        }
        let tick_size = if is_index {
            tick
        } else {
            tick / PAISE_PER_RUPEE
        };
        let kind = match class {
            InstrumentClass::Index => InstrumentKind::Index,
            InstrumentClass::IndexFuture => InstrumentKind::Future {
                expiry: self.expiry()?,
            },
            InstrumentClass::IndexOption => self.option_kind()?,
        };
        Ok(Instrument {
            key: InstrumentKey::new(segment, security_id),
            symbol: symbol.to_owned(),
            underlying: underlying.to_owned(),
            kind,
            lot_size,
            tick_size,
        })
    }

    /// Units per lot; the files write whole numbers as `75.0`.
    fn lot_size(&self) -> Result<u32, RowError> {
        let column = self.names().lot_size;
        let expected = "a whole, positive lot size";
        let lot = self.number(self.columns.lot_size, column, expected)?;
        if lot >= 1.0 && lot.fract() == 0.0 && lot <= f64::from(u32::MAX) {
            // Exact: checked above to be a whole number within u32's range.
            Ok(lot as u32)
        } else {
            Err(Self::invalid(column, &lot.to_string(), expected))
        }
    }

    fn expiry(&self) -> Result<time::Date, RowError> {
        let column = self.names().expiry;
        let raw = self.cell(self.columns.expiry, column)?;
        match vocabulary::parse_expiry(raw) {
            Ok(Some(date)) => Ok(date),
            Ok(None) => Err(RowError::MissingExpiry {
                column,
                value: raw.to_owned(),
            }),
            Err(()) => Err(Self::invalid(column, raw, "a YYYY-MM-DD date")),
        }
    }

    fn option_kind(&self) -> Result<InstrumentKind, RowError> {
        let (names, columns) = (self.names(), self.columns);
        let expiry = self.expiry()?;
        let strike = self.number(columns.strike, names.strike, "a positive strike")?;
        if strike <= 0.0 {
            return Err(Self::invalid(
                names.strike,
                &strike.to_string(),
                "a positive strike",
            ));
        }
        let raw_right = self.cell(columns.option_type, names.option_type)?;
        let right = right_of(raw_right)
            .ok_or_else(|| Self::invalid(names.option_type, raw_right, "CE or PE"))?;
        let raw_flag = self.cell(columns.expiry_flag, names.expiry_flag)?;
        let expiry_flag = expiry_flag_of(raw_flag)
            .ok_or_else(|| Self::invalid(names.expiry_flag, raw_flag, "W or M"))?;
        Ok(InstrumentKind::Option {
            expiry,
            strike,
            right,
            expiry_flag,
        })
    }
}
