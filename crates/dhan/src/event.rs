//! What the feed hands up to the market: raw feed frames and REST option-chain
//! snapshots, each stamped with when it arrived.
//!
//! Frames stay raw here (decoding happens in the market's ingest task) so that recording
//! writes exactly the bytes Dhan sent, and a replay goes through the very decoder a live
//! run used.

use bytes::Bytes;
use time::Date;

use crate::rest::types::OptionChainData;
use instruments::InstrumentKey;

/// One input to the market, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// Arrival time, nanoseconds since the Unix epoch (UTC).
    pub received_at_ns: i64,
    pub payload: FeedPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeedPayload {
    /// One binary WebSocket message from the feed: one or more stacked packets.
    Frame(Bytes),
    /// One option chain from the REST API (seeding and bid/ask refresh).
    OptionChain {
        underlying: InstrumentKey,
        expiry: Date,
        data: Box<OptionChainData>,
    },
}

/// Now, as nanoseconds since the Unix epoch.
pub fn now_ns() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(now).unwrap_or(i64::MAX)
}
