//! One tradable instrument as optionhub understands it: the index itself, a future or an
//! option, keyed as Dhan keys it, by (segment, security id); security ids are unique only
//! within a segment.

use serde::{Deserialize, Serialize};
use time::Date;

use super::ExchangeSegment;

/// How Dhan names one instrument on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstrumentKey {
    pub segment: ExchangeSegment,
    pub security_id: u32,
}

impl InstrumentKey {
    pub const fn new(segment: ExchangeSegment, security_id: u32) -> Self {
        Self {
            segment,
            security_id,
        }
    }
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionRight {
    Call,
    Put,
}

/// Weekly or monthly expiry, as the scrip master's `EXPIRY_FLAG` says (W / M).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryFlag {
    Weekly,
    Monthly,
}

/// What an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum InstrumentKind {
    /// The index itself (segment `IDX_I`): the spot of its options.
    Index,
    Future {
        expiry: Date,
    },
    Option {
        expiry: Date,
        strike: f64,
        right: OptionRight,
        expiry_flag: ExpiryFlag,
    },
}

/// One instrument from the scrip master.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    pub key: InstrumentKey,
    /// Dhan's trading symbol (e.g. `NIFTY-Nov2026-26000-CE`), or the index name.
    pub symbol: String,
    /// The underlying's name (`NIFTY`, `BANKNIFTY`, …); an index is its own underlying.
    pub underlying: String,
    pub kind: InstrumentKind,
    /// Units per lot (1 for an index).
    pub lot_size: u32,
    /// Price tick in rupees (0.05 for index options).
    pub tick_size: f64,
}
