//! Owned copies of a chain's state, taken under the read lock and used without it: the
//! API serialises them and the Greeks worker turns them into plugin input.

use serde::Serialize;
use time::Date;

use super::book::InstrumentBook;
use instruments::{ExchangeSegment, ExpiryFlag, InstrumentKey};

/// One (underlying, expiry) chain at one sequence number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainView {
    pub underlying: String,
    pub expiry: Date,
    pub expiry_flag: ExpiryFlag,
    pub lot_size: u32,
    pub strike_step: f64,
    pub tick_size: f64,
    /// The underlying index's last value (0 until known).
    pub spot: f64,
    /// Increases on every change to the chain or its underlying.
    pub seq: u64,
    /// Arrival time of the latest change, ns since the epoch.
    pub as_of_ns: i64,
    pub rows: Vec<ChainRowView>,
}

/// One strike: its call and its put, where they exist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainRowView {
    pub strike: f64,
    pub call: Option<ContractView>,
    pub put: Option<ContractView>,
}

/// One contract's key and latest state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractView {
    pub security_id: u32,
    pub segment: ExchangeSegment,
    #[serde(flatten)]
    pub book: InstrumentBook,
}

impl ContractView {
    pub fn key(&self) -> InstrumentKey {
        InstrumentKey::new(self.segment, self.security_id)
    }
}

/// Identifies one chain: an underlying name and an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ChainId {
    pub underlying: String,
    pub expiry: Date,
}
