//! The instrument registry: which contracts exist, what they are (underlying, expiry,
//! strike, call or put, lot size, tick size) and how Dhan names them.
//!
//! This is domain data that both the feed (which subscribes by security id) and the
//! market (which arranges contracts into chains) need, so it sits below both. Everything
//! here comes from data (Dhan's scrip master), never from constants: lot sizes, strike
//! steps and expiries change and the registry follows.
#![forbid(unsafe_code)]

pub mod instrument;
pub mod registry;
pub mod scrip_master;
pub mod segment;

pub use instrument::{ExpiryFlag, Instrument, InstrumentKey, InstrumentKind, OptionRight};
pub use segment::ExchangeSegment;
