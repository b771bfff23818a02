//! Which of Dhan's two scrip-master layouts a header is, and where each column optionhub
//! reads sits in it. Columns are found by name, never by position: Dhan has reordered
//! and appended columns before (the detailed file grew `SM_UPPER_LIMIT` and friends and
//! ends every line with a comma).

use csv::StringRecord;

/// The two layouts Dhan publishes (reference `dhanhq.md` §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterFormat {
    /// `api-scrip-master.csv`: `SEM_*` column names.
    Compact,
    /// `api-scrip-master-detailed.csv` and `/v2/instrument/{segment}`.
    Detailed,
}

/// The header names of the columns optionhub reads, per layout.
#[derive(Debug, Clone, Copy)]
pub(super) struct ColumnNames {
    pub exchange: &'static str,
    pub segment: &'static str,
    pub security_id: &'static str,
    pub instrument: &'static str,
    /// Compact: the trading symbol; detailed: `SYMBOL_NAME`, which holds the same value.
    pub symbol: &'static str,
    /// Compact: `SM_SYMBOL_NAME`; detailed: `UNDERLYING_SYMBOL`.
    pub name: &'static str,
    pub lot_size: &'static str,
    pub expiry: &'static str,
    pub strike: &'static str,
    pub option_type: &'static str,
    pub tick_size: &'static str,
    pub expiry_flag: &'static str,
}

impl ColumnNames {
    const fn all(&self) -> [&'static str; 12] {
        [
            self.exchange,
            self.segment,
            self.security_id,
            self.instrument,
            self.symbol,
            self.name,
            self.lot_size,
            self.expiry,
            self.strike,
            self.option_type,
            self.tick_size,
            self.expiry_flag,
        ]
    }
}

pub(super) const COMPACT: ColumnNames = ColumnNames {
    exchange: "SEM_EXM_EXCH_ID",
    segment: "SEM_SEGMENT",
    security_id: "SEM_SMST_SECURITY_ID",
    instrument: "SEM_INSTRUMENT_NAME",
    symbol: "SEM_TRADING_SYMBOL",
    name: "SM_SYMBOL_NAME",
    lot_size: "SEM_LOT_UNITS",
    expiry: "SEM_EXPIRY_DATE",
    strike: "SEM_STRIKE_PRICE",
    option_type: "SEM_OPTION_TYPE",
    tick_size: "SEM_TICK_SIZE",
    expiry_flag: "SEM_EXPIRY_FLAG",
};

pub(super) const DETAILED: ColumnNames = ColumnNames {
    exchange: "EXCH_ID",
    segment: "SEGMENT",
    security_id: "SECURITY_ID",
    instrument: "INSTRUMENT",
    symbol: "SYMBOL_NAME",
    name: "UNDERLYING_SYMBOL",
    lot_size: "LOT_SIZE",
    expiry: "SM_EXPIRY_DATE",
    strike: "STRIKE_PRICE",
    option_type: "OPTION_TYPE",
    tick_size: "TICK_SIZE",
    expiry_flag: "EXPIRY_FLAG",
};

impl MasterFormat {
    pub(super) const fn names(self) -> &'static ColumnNames {
        match self {
            Self::Compact => &COMPACT,
            Self::Detailed => &DETAILED,
        }
    }
}

/// Positions of the columns optionhub reads, in one file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns {
    pub format: MasterFormat,
    pub exchange: usize,
    pub segment: usize,
    pub security_id: usize,
    pub instrument: usize,
    pub symbol: usize,
    pub name: usize,
    pub lot_size: usize,
    pub expiry: usize,
    pub strike: usize,
    pub option_type: usize,
    pub tick_size: usize,
    pub expiry_flag: usize,
}

impl Columns {
    /// Locates the columns, choosing the layout whose names the header has more of.
    /// On failure returns that layout and the names it lacks.
    pub(super) fn locate(header: &StringRecord) -> Result<Self, (MasterFormat, Vec<&'static str>)> {
        let positions = |names: &ColumnNames| {
            names
                .all()
                .map(|name| header.iter().position(|cell| cell.trim() == name))
        };
        let found = |positions: &[Option<usize>; 12]| positions.iter().flatten().count();
        let (compact, detailed) = (positions(&COMPACT), positions(&DETAILED));
        let (format, positions) = if found(&compact) > found(&detailed) {
            (MasterFormat::Compact, compact)
        } else {
            (MasterFormat::Detailed, detailed)
        };
        let [
            Some(exchange),
            Some(segment),
            Some(security_id),
            Some(instrument),
            Some(symbol),
            Some(name),
            Some(lot_size),
            Some(expiry),
            Some(strike),
            Some(option_type),
            Some(tick_size),
            Some(expiry_flag),
        ] = positions
        else {
            let missing = format
                .names()
                .all()
                .into_iter()
                .zip(positions)
                .filter_map(|(name, position)| position.is_none().then_some(name))
                .collect();
            return Err((format, missing));
        };
        Ok(Self {
            format,
            exchange,
            segment,
            security_id,
            instrument,
            symbol,
            name,
            lot_size,
            expiry,
            strike,
            option_type,
            tick_size,
            expiry_flag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> StringRecord {
        StringRecord::from(line.split(',').collect::<Vec<_>>())
    }

    #[test]
    fn detects_each_layout_by_names_in_any_order() {
        let compact = header(
            "SM_SYMBOL_NAME,SEM_SEGMENT,SEM_EXM_EXCH_ID,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,\
             SEM_TRADING_SYMBOL,SEM_LOT_UNITS,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,\
             SEM_TICK_SIZE,SEM_EXPIRY_FLAG",
        );
        let columns = Columns::locate(&compact).unwrap();
        assert_eq!(columns.format, MasterFormat::Compact);
        assert_eq!(
            (columns.name, columns.exchange, columns.expiry_flag),
            (0, 2, 11)
        );

        let detailed = header(
            "EXCH_ID,SEGMENT,SECURITY_ID,ISIN,INSTRUMENT,UNDERLYING_SECURITY_ID,UNDERLYING_SYMBOL,\
             SYMBOL_NAME,DISPLAY_NAME,INSTRUMENT_TYPE,SERIES,LOT_SIZE,SM_EXPIRY_DATE,STRIKE_PRICE,\
             OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG,SM_FREEZE_QTY,",
        );
        let columns = Columns::locate(&detailed).unwrap();
        assert_eq!(columns.format, MasterFormat::Detailed);
        assert_eq!(
            (columns.security_id, columns.name, columns.symbol),
            (2, 6, 7)
        );
    }

    #[test]
    fn names_the_missing_columns() {
        let short = header(
            "EXCH_ID,SEGMENT,SECURITY_ID,INSTRUMENT,SYMBOL_NAME,LOT_SIZE,SM_EXPIRY_DATE,TICK_SIZE",
        );
        let (format, missing) = Columns::locate(&short).unwrap_err();
        assert_eq!(format, MasterFormat::Detailed);
        assert_eq!(
            missing,
            [
                "UNDERLYING_SYMBOL",
                "STRIKE_PRICE",
                "OPTION_TYPE",
                "EXPIRY_FLAG"
            ]
        );
    }
}
