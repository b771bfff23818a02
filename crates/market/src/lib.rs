//! The market: live state of every tracked instrument arranged as option chains
//! ([`state`], [`book`], [`view`]), fed by the ingest task ([`ingest`]) from the feed and
//! from REST snapshots ([`seed`]), and steering the feed's subscriptions toward the
//! money ([`subscriptions`]), and bringing further expiries live while clients ask for
//! them ([`demand`]). [`depth`] reads a contract's five-level book.
//!
//! The market sits above the feed (it consumes packets and drives subscriptions) and
//! below the plugins (which compute Greeks on its chains).
#![forbid(unsafe_code)]

pub mod book;
pub mod demand;
pub mod depth;
pub mod ingest;
pub mod on_demand;
pub mod on_demand_rest;
pub mod seed;
pub mod state;
pub mod subscriptions;
pub mod view;

#[cfg(test)]
mod tests;

pub use state::MarketState;
pub use subscriptions::{OnDemandConfig, TierConfig};

/// The underlyings tracked unless configured otherwise.
pub const DEFAULT_UNDERLYINGS: [&str; 5] =
    ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"];
pub use view::{ChainId, ChainView};
