//! The instrument registry: the configured underlyings, each with its index, futures
//! and option chain skeleton (expiries → strikes → call/put keys), built from the
//! scrip master's instruments.
//!
//! It answers two questions fast. `get` names what a key is; `locate` turns an option's
//! key into plain indices (underlying, expiry, strike, right) so the ingest path can
//! place a tick in its chain with one hash lookup and no strings. Lot sizes, tick sizes,
//! strike steps and expiry flags are all read from the contracts, never assumed.

mod build;
mod coverage;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use time::Date;

use super::{ExchangeSegment, ExpiryFlag, Instrument, InstrumentKey, OptionRight};

pub use coverage::MasterCoverageError;

/// The contracts optionhub follows, by underlying. Built once per scrip-master load.
#[derive(Debug, Clone)]
pub struct InstrumentRegistry {
    entries: HashMap<InstrumentKey, Entry>,
    /// In configured order; [`ContractLocation::underlying`] indexes this.
    underlyings: Vec<UnderlyingInfo>,
    warnings: Vec<RegistryWarning>,
}

#[derive(Debug, Clone)]
struct Entry {
    instrument: Instrument,
    /// Set for options placed in a chain.
    location: Option<ContractLocation>,
}

/// One underlying: its index, futures and option expiries.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderlyingInfo {
    /// Canonical upper-case name (`NIFTY`, `SENSEX`).
    pub name: String,
    /// The index row (segment `IDX_I`): the spot.
    pub index: InstrumentKey,
    /// Expiries that have options, earliest first.
    pub expiries: Vec<ExpiryInfo>,
    /// Index futures, earliest expiry first.
    pub futures: Vec<FutureContract>,
}

impl UnderlyingInfo {
    /// The expiries on or after `today`, nearest first.
    pub fn live_expiries(&self, today: Date) -> &[ExpiryInfo] {
        let first_live = self
            .expiries
            .partition_point(|expiry| expiry.expiry < today);
        self.expiries.get(first_live..).unwrap_or_default()
    }
}

/// One index future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FutureContract {
    pub expiry: Date,
    pub key: InstrumentKey,
}

/// One expiry of an underlying's options.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiryInfo {
    pub expiry: Date,
    pub flag: ExpiryFlag,
    /// Units per lot (the most common among the contracts; see [`RegistryWarning`]).
    pub lot_size: u32,
    /// Price tick in rupees.
    pub tick_size: f64,
    /// The most common gap between adjacent strikes (ties to the smaller); 0 with one
    /// strike.
    pub strike_step: f64,
    /// Ascending by strike.
    pub strikes: Vec<StrikeRow>,
}

/// One strike of an expiry and its two contracts, where listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrikeRow {
    pub strike: f64,
    pub call: Option<InstrumentKey>,
    pub put: Option<InstrumentKey>,
}

impl StrikeRow {
    /// The contract of one side.
    pub const fn side(&self, right: OptionRight) -> Option<InstrumentKey> {
        match right {
            OptionRight::Call => self.call,
            OptionRight::Put => self.put,
        }
    }
}

/// Where an option sits: `registry.underlyings()[underlying].expiries[expiry]
/// .strikes[strike]`, on side `right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContractLocation {
    pub underlying: usize,
    pub expiry: usize,
    pub strike: usize,
    pub right: OptionRight,
}

/// Something odd in the contracts of one expiry that the registry resolved rather than
/// failing on; logged at build time and kept for display.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryWarning {
    pub underlying: String,
    pub expiry: Date,
    pub issue: ExpiryIssue,
}

/// What was odd, and how it was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpiryIssue {
    /// Contracts disagreed on lot size; the most common (`chosen`) applies.
    LotSizes { chosen: u32, seen: Vec<u32> },
    /// Contracts disagreed on tick size; the most common (`chosen`) applies.
    TickSizes { chosen: f64, seen: Vec<f64> },
    /// Contracts disagreed on weekly/monthly; the most common (`chosen`) applies.
    ExpiryFlags {
        chosen: ExpiryFlag,
        seen: Vec<ExpiryFlag>,
    },
    /// Two contracts claim one strike and side; the first by key stays in the chain,
    /// the other is still known to [`InstrumentRegistry::get`] but has no location.
    DuplicateContract {
        strike: f64,
        right: OptionRight,
        kept: InstrumentKey,
        dropped: InstrumentKey,
    },
}

/// A registry that cannot be built from the given instruments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no index row (segment IDX_I) in the scrip master for {}", .0.join(", "))]
    MissingIndex(Vec<String>),
    #[error("no option contracts in the scrip master for {}", .0.join(", "))]
    MissingOptions(Vec<String>),
    #[error("{underlying} has more than one index row ({first:?} and {second:?})")]
    AmbiguousIndex {
        underlying: String,
        first: InstrumentKey,
        second: InstrumentKey,
    },
    #[error("instrument {0:?} is listed more than once")]
    DuplicateKey(InstrumentKey),
}

impl InstrumentRegistry {
    /// The derivative contract (option or future) with this security id, searching the
    /// F&O segments (ids are unique within a segment; NSE's are tried first).
    pub fn derivative(&self, security_id: u32) -> Option<&Instrument> {
        [ExchangeSegment::NseFno, ExchangeSegment::BseFno]
            .into_iter()
            .find_map(|segment| self.get(&InstrumentKey::new(segment, security_id)))
    }

    /// What the instrument with this key is, if the registry follows it.
    pub fn get(&self, key: &InstrumentKey) -> Option<&Instrument> {
        self.entries.get(key).map(|entry| &entry.instrument)
    }

    /// Where an option sits in its underlying's chain; `None` for anything else.
    pub fn locate(&self, key: &InstrumentKey) -> Option<ContractLocation> {
        self.entries.get(key).and_then(|entry| entry.location)
    }

    /// The underlyings, in configured order (the order of
    /// [`ContractLocation::underlying`]).
    pub fn underlyings(&self) -> impl ExactSizeIterator<Item = &UnderlyingInfo> {
        self.underlyings.iter()
    }

    /// One underlying by name (any case, aliases allowed: `Nifty 50` is NIFTY).
    pub fn underlying(&self, name: &str) -> Option<&UnderlyingInfo> {
        let name = super::scrip_master::canonical_underlying(name);
        self.underlyings
            .iter()
            .find(|underlying| underlying.name.eq_ignore_ascii_case(name))
    }

    /// The underlying's expiries on or after `today`, nearest first; empty for an
    /// unknown name.
    pub fn live_expiries(&self, name: &str, today: Date) -> &[ExpiryInfo] {
        self.underlying(name)
            .map_or(&[], |underlying| underlying.live_expiries(today))
    }

    /// Every instrument the registry follows (index rows, futures, options), in no
    /// particular order.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.entries.values().map(|entry| &entry.instrument)
    }

    /// How many instruments the registry follows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the build resolved rather than failed on.
    pub fn warnings(&self) -> &[RegistryWarning] {
        &self.warnings
    }
}
