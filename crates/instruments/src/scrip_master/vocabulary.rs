//! The scrip master's vocabulary, in one place for both directions (reading Dhan's files
//! and writing the simulator's): the (exchange, segment letter) pairs, instrument names,
//! option types, expiry flags, the date format and the unit of `TICK_SIZE`.
//!
//! Keeping each spelling here once means the parser and the writer cannot drift apart.

use time::{Date, Month};

use crate::{ExchangeSegment, ExpiryFlag, OptionRight};

/// `(EXCH_ID, SEGMENT)` → segment, for every row that is not an index (index rows are
/// always `IDX_I`, whatever their exchange). Reference `dhanhq.md` §8.
const SEGMENTS: [(&str, &str, ExchangeSegment); 7] = [
    ("NSE", "E", ExchangeSegment::NseEq),
    ("NSE", "D", ExchangeSegment::NseFno),
    ("NSE", "C", ExchangeSegment::NseCurrency),
    ("BSE", "E", ExchangeSegment::BseEq),
    ("BSE", "D", ExchangeSegment::BseFno),
    ("BSE", "C", ExchangeSegment::BseCurrency),
    ("MCX", "M", ExchangeSegment::McxComm),
];

/// The segment letter index rows carry (`I`; the docs list only C/D/E/M).
pub(super) const INDEX_SEGMENT_LETTER: &str = "I";

/// The segment of a non-index row, if the pair is one Dhan uses.
pub(super) fn segment_of(exchange: &str, letter: &str) -> Option<ExchangeSegment> {
    SEGMENTS
        .iter()
        .find(|(exch, seg, _)| {
            exchange.eq_ignore_ascii_case(exch) && letter.eq_ignore_ascii_case(seg)
        })
        .map(|&(_, _, segment)| segment)
}

/// The `(EXCH_ID, SEGMENT)` pair of a non-index segment; `None` for `IDX_I`, whose
/// exchange the segment alone does not say.
pub(super) fn exchange_and_letter(
    segment: ExchangeSegment,
) -> Option<(&'static str, &'static str)> {
    SEGMENTS
        .iter()
        .find(|&&(_, _, candidate)| candidate == segment)
        .map(|&(exch, seg, _)| (exch, seg))
}

/// The rows optionhub keeps, by their `INSTRUMENT` column. Stock derivatives
/// (`FUTSTK`, `OPTSTK`), equities, commodities and currencies are not kept: optionhub
/// chains index options only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentClass {
    Index,
    IndexFuture,
    IndexOption,
}

impl std::fmt::Display for InstrumentClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Index => "index row",
            Self::IndexFuture => "index future",
            Self::IndexOption => "index option",
        })
    }
}

impl InstrumentClass {
    /// Classifies the raw column without allocating: this runs on every row of a
    /// ~200k-row file, most of which are dropped right here.
    pub(super) fn of(raw: &[u8]) -> Option<Self> {
        match raw.trim_ascii() {
            b"INDEX" => Some(Self::Index),
            b"FUTIDX" => Some(Self::IndexFuture),
            b"OPTIDX" => Some(Self::IndexOption),
            _ => None,
        }
    }
}

/// The `INSTRUMENT` names the writer emits.
pub(super) const INDEX: &str = "INDEX";
pub(super) const FUTIDX: &str = "FUTIDX";
pub(super) const OPTIDX: &str = "OPTIDX";

/// `OPTION_TYPE` of a call or a put; every other row says `XX`.
pub(super) fn right_of(raw: &str) -> Option<OptionRight> {
    if raw.eq_ignore_ascii_case("CE") {
        Some(OptionRight::Call)
    } else if raw.eq_ignore_ascii_case("PE") {
        Some(OptionRight::Put)
    } else {
        None
    }
}

pub(super) const fn option_type_code(right: OptionRight) -> &'static str {
    match right {
        OptionRight::Call => "CE",
        OptionRight::Put => "PE",
    }
}

/// `OPTION_TYPE` of rows that are not options.
pub(super) const NO_OPTION_TYPE: &str = "XX";

pub(super) fn expiry_flag_of(raw: &str) -> Option<ExpiryFlag> {
    if raw.eq_ignore_ascii_case("W") {
        Some(ExpiryFlag::Weekly)
    } else if raw.eq_ignore_ascii_case("M") {
        Some(ExpiryFlag::Monthly)
    } else {
        None
    }
}

pub(super) const fn expiry_flag_code(flag: ExpiryFlag) -> &'static str {
    match flag {
        ExpiryFlag::Weekly => "W",
        ExpiryFlag::Monthly => "M",
    }
}

/// Dhan's "no date" (index rows; some files leave the cell empty instead).
pub(super) const NO_DATE: &str = "0001-01-01";

/// The date of an expiry cell: `YYYY-MM-DD`, optionally followed by a time, which is
/// dropped (contracts are keyed by expiry day). `Ok(None)` for an empty cell or
/// [`NO_DATE`]; `Err(())` for anything else that is not a date.
pub(super) fn parse_expiry(raw: &str) -> Result<Option<Date>, ()> {
    let day = raw.split_once(' ').map_or(raw, |(day, _time)| day);
    if day.is_empty() || day == NO_DATE {
        return Ok(None);
    }
    let mut parts = day.splitn(3, '-');
    let (Some(year), Some(month), Some(dom)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(());
    };
    let year: i32 = year.parse().map_err(drop)?;
    let month: u8 = month.parse().map_err(drop)?;
    let dom: u8 = dom.parse().map_err(drop)?;
    let month = Month::try_from(month).map_err(drop)?;
    Date::from_calendar_date(year, month, dom)
        .map(Some)
        .map_err(drop)
}

/// `YYYY-MM-DD`.
pub(super) fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The three-letter upper-case month of Dhan's display names (`NIFTY 24 NOV 26000 CALL`).
pub(super) const fn month_abbreviation(month: Month) -> &'static str {
    match month {
        Month::January => "JAN",
        Month::February => "FEB",
        Month::March => "MAR",
        Month::April => "APR",
        Month::May => "MAY",
        Month::June => "JUN",
        Month::July => "JUL",
        Month::August => "AUG",
        Month::September => "SEP",
        Month::October => "OCT",
        Month::November => "NOV",
        Month::December => "DEC",
    }
}

/// Dhan's `TICK_SIZE` of traded contracts is in paise, not rupees: live files carry
/// `5.0000` for NIFTY options (₹0.05), `10.0000` for NIFTY futures (₹0.10), `100.0000`
/// for CRUDEOIL (₹1) and `0.2500` for USDINR (₹0.0025). Index rows, which are not
/// traded, carry `0.0500`, read as rupees. Reference `dhanhq.md` §8 does not state the
/// unit; this is inferred from those rows.
pub(super) const PAISE_PER_RUPEE: f64 = 100.0;
