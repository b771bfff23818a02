//! Writing instruments as Dhan's detailed scrip master, so the simulator can serve a
//! file that optionhub's own loader reads exactly as it reads Dhan's.
//!
//! Values follow the live file's conventions (index rows dated `0001-01-01`, futures at
//! strike −0.01 with option type `XX`, tick sizes in paise, a trailing comma), so the
//! simulator exercises the same parsing paths as production.

use std::io::Write;

use super::columns::DETAILED;
use super::vocabulary::{
    FUTIDX, INDEX, INDEX_SEGMENT_LETTER, NO_DATE, NO_OPTION_TYPE, OPTIDX, PAISE_PER_RUPEE,
    exchange_and_letter, expiry_flag_code, format_date, month_abbreviation, option_type_code,
};
use crate::{ExchangeSegment, ExpiryFlag, Instrument, InstrumentKey, InstrumentKind, OptionRight};

/// An instrument list that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("writing scrip master CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing scrip master CSV: {0}")]
    Io(#[from] std::io::Error),
    /// The detailed layout has no way to say this (an index outside `IDX_I`, or a
    /// future or option inside it).
    #[error("{key:?} cannot be written as a scrip-master row: {reason}")]
    Unrepresentable {
        key: InstrumentKey,
        reason: &'static str,
    },
}

/// The time of day Dhan writes on derivative expiry dates.
const EXPIRY_TIME: &str = "14:30:00";

/// Writes `instruments`, in order, as a detailed-layout scrip master.
pub fn write_detailed(instruments: &[Instrument], out: impl Write) -> Result<(), WriteError> {
    let mut csv = csv::Writer::from_writer(out);
    // The trailing empty name reproduces the live file's trailing comma.
    csv.write_record([
        DETAILED.exchange,
        DETAILED.segment,
        DETAILED.security_id,
        "ISIN",
        DETAILED.instrument,
        "UNDERLYING_SECURITY_ID",
        DETAILED.name,
        DETAILED.symbol,
        "DISPLAY_NAME",
        "INSTRUMENT_TYPE",
        "SERIES",
        DETAILED.lot_size,
        DETAILED.expiry,
        DETAILED.strike,
        DETAILED.option_type,
        DETAILED.tick_size,
        DETAILED.expiry_flag,
        "",
    ])?;
    // An index row does not say its exchange through its segment (`IDX_I`); SENSEX's
    // derivatives trade on BSE, so an index is BSE's when its derivatives are.
    let bse_underlyings: Vec<&str> = instruments
        .iter()
        .filter(|i| i.key.segment == ExchangeSegment::BseFno)
        .map(|i| i.underlying.as_str())
        .collect();
    for instrument in instruments {
        let row = DetailedRow::of(
            instrument,
            bse_underlyings.contains(&instrument.underlying.as_str()),
        )?;
        let id = instrument.key.security_id.to_string();
        let lot = format!("{}.0", instrument.lot_size);
        // Dhan fills UNDERLYING_SECURITY_ID of derivatives with an exchange token that
        // matches no IDX_I id (reference §8); nothing may join on it, so it stays empty.
        let underlying_id = if row.instrument == INDEX {
            id.as_str()
        } else {
            ""
        };
        csv.write_record([
            row.exchange,
            row.letter,
            &id,
            "NA",
            row.instrument,
            underlying_id,
            &instrument.underlying,
            &instrument.symbol,
            &row.display_name,
            row.instrument_type,
            "NA",
            &lot,
            &row.expiry,
            &row.strike,
            row.option_type,
            &row.tick_size,
            row.expiry_flag,
            "",
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// The cells of one row that depend on the instrument's kind.
struct DetailedRow {
    exchange: &'static str,
    letter: &'static str,
    instrument: &'static str,
    instrument_type: &'static str,
    display_name: String,
    expiry: String,
    strike: String,
    option_type: &'static str,
    tick_size: String,
    expiry_flag: &'static str,
}

impl DetailedRow {
    fn of(instrument: &Instrument, on_bse: bool) -> Result<Self, WriteError> {
        let unrepresentable = |reason| WriteError::Unrepresentable {
            key: instrument.key,
            reason,
        };
        let name = &instrument.underlying;
        let paise = format!("{:.4}", instrument.tick_size * PAISE_PER_RUPEE);
        match instrument.kind {
            InstrumentKind::Index => {
                if instrument.key.segment != ExchangeSegment::IdxI {
                    return Err(unrepresentable("an index row is always in IDX_I"));
                }
                Ok(Self {
                    exchange: if on_bse { "BSE" } else { "NSE" },
                    letter: INDEX_SEGMENT_LETTER,
                    instrument: INDEX,
                    instrument_type: INDEX,
                    display_name: name.clone(),
                    expiry: NO_DATE.to_owned(),
                    strike: String::new(),
                    option_type: NO_OPTION_TYPE,
                    // Index rows carry rupees (see `PAISE_PER_RUPEE`).
                    tick_size: format!("{:.4}", instrument.tick_size),
                    expiry_flag: "N",
                })
            }
            InstrumentKind::Future { expiry } => {
                let (exchange, letter) = exchange_and_letter(instrument.key.segment)
                    .ok_or_else(|| unrepresentable("a future cannot be in IDX_I"))?;
                Ok(Self {
                    exchange,
                    letter,
                    instrument: FUTIDX,
                    instrument_type: "FUT",
                    display_name: format!("{name} {} FUT", month_abbreviation(expiry.month())),
                    expiry: format!("{} {EXPIRY_TIME}", format_date(expiry)),
                    // Dhan's placeholder strike on futures.
                    strike: "-0.01000".to_owned(),
                    option_type: NO_OPTION_TYPE,
                    tick_size: paise,
                    expiry_flag: expiry_flag_code(ExpiryFlag::Monthly),
                })
            }
            InstrumentKind::Option {
                expiry,
                strike,
                right,
                expiry_flag,
            } => {
                let (exchange, letter) = exchange_and_letter(instrument.key.segment)
                    .ok_or_else(|| unrepresentable("an option cannot be in IDX_I"))?;
                let side = match right {
                    OptionRight::Call => "CALL",
                    OptionRight::Put => "PUT",
                };
                Ok(Self {
                    exchange,
                    letter,
                    instrument: OPTIDX,
                    instrument_type: "OP",
                    display_name: format!(
                        "{name} {:02} {} {strike} {side}",
                        expiry.day(),
                        month_abbreviation(expiry.month()),
                    ),
                    expiry: format!("{} {EXPIRY_TIME}", format_date(expiry)),
                    strike: format!("{strike:.5}"),
                    option_type: option_type_code(right),
                    tick_size: paise,
                    expiry_flag: expiry_flag_code(expiry_flag),
                })
            }
        }
    }
}
