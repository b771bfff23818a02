//! Why a strategy cannot be valued, in words a caller can act on. Each [`Reason`] is one
//! stable error code of the API; the server's error type maps it to its status (see
//! `edge::error`), so this crate never speaks HTTP.

/// One refusal: its reason and a message naming the field or leg at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub reason: Reason,
    pub message: String,
}

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A value out of range (a count, a percentage, a volatility).
    InvalidStrategy,
    /// No legs at all.
    NoLegs,
    /// A date that is not one.
    MalformedDate,
    /// A target date outside the valuation date and the nearest expiry.
    InvalidTargetDate,
    /// Legs on more than one underlying.
    MixedUnderlyings,
    /// A security id that names no F&O contract.
    UnknownContract,
    /// A contract that exists but cannot be a leg (an index, an untracked underlying).
    UnusableContract,
    /// A contract with no quote or trade yet.
    NoMarketPrice,
    /// An option the Greeks model has not priced yet.
    NoIv,
    /// A chain the market does not hold.
    UnknownChain,
    /// A chain the market holds but could not be read.
    ChainUnavailable,
    /// A chain without Greeks yet (or no Greeks plugin).
    GreeksUnavailable,
    /// The underlying's index value is not known yet.
    NoSpot,
    /// A stored strategy that cannot be read back as it was written.
    Corrupt,
}

impl Refusal {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}
