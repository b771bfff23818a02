//! The packets of Dhan's v2 binary market feed, as plain Rust values (reference
//! `dhanhq.md` §2). [`super::codec`] turns bytes into these and back; nothing else in
//! optionhub looks at feed bytes.
//!
//! Prices are rupees as the wire carries them (IEEE float32); counts, quantities and
//! times are the wire's unsigned integers. Converting to f64 or rounding to the tick
//! happens where the values are used, not here, so that encode → decode is exact.

use instruments::InstrumentKey;

/// Length of the header every packet starts with.
pub const HEADER_LEN: usize = 8;

/// The response codes of the main feed (first header byte).
pub mod code {
    /// Index packet: layout undocumented; skipped.
    pub const INDEX: u8 = 1;
    pub const TICKER: u8 = 2;
    pub const QUOTE: u8 = 4;
    pub const OI: u8 = 5;
    pub const PREV_CLOSE: u8 = 6;
    /// Market status: only the header is documented.
    pub const MARKET_STATUS: u8 = 7;
    pub const FULL: u8 = 8;
    pub const DISCONNECT: u8 = 50;
}

/// One decoded packet: which instrument it is about and what it says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packet {
    pub key: InstrumentKey,
    pub body: PacketBody,
}

/// What a packet says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PacketBody {
    Ticker(Ticker),
    PrevClose(PrevClose),
    Quote(Quote),
    Oi(OpenInterest),
    Full(Full),
    /// Code 7: the payload is undocumented, so only the fact is kept.
    MarketStatus,
    /// Code 50: the server is closing the connection, with a Data-API reason code
    /// (805 too many connections, 807 token expired, …; see [`super::disconnect`]).
    Disconnect {
        reason: u16,
    },
    /// Code 1 (index packet): its layout is undocumented; recognised and skipped.
    Index,
}

/// Code 2, 16 bytes: last traded price and time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ticker {
    pub ltp: f32,
    /// Last trade time, epoch seconds as Dhan sends them (see `dhanhq.md` §10.8).
    pub ltt: u32,
}

/// Code 6, 16 bytes: the previous session's close and open interest.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PrevClose {
    pub close: f32,
    pub oi: u32,
}

/// Code 5, 12 bytes: open interest.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OpenInterest {
    pub oi: u32,
}

/// Code 4, 50 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quote {
    pub ltp: f32,
    pub ltq: u16,
    pub ltt: u32,
    /// Average traded price.
    pub atp: f32,
    /// Cumulative volume for the day.
    pub volume: u32,
    pub total_sell_qty: u32,
    pub total_buy_qty: u32,
    pub open: f32,
    /// Day close: only meaningful after the market closes.
    pub close: f32,
    pub high: f32,
    pub low: f32,
}

/// One level of the 5-level book in a Full packet (20 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DepthLevel {
    pub bid_qty: u32,
    pub ask_qty: u32,
    pub bid_orders: u16,
    pub ask_orders: u16,
    pub bid_price: f32,
    pub ask_price: f32,
}

/// Number of depth levels in a Full packet.
pub const DEPTH_LEVELS: usize = 5;

/// Code 8, 162 bytes: a quote plus OI and five levels of depth, best level first.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Full {
    pub ltp: f32,
    pub ltq: u16,
    pub ltt: u32,
    pub atp: f32,
    pub volume: u32,
    pub total_sell_qty: u32,
    pub total_buy_qty: u32,
    pub oi: u32,
    /// Day's OI high (NSE F&O only).
    pub oi_day_high: u32,
    /// Day's OI low (NSE F&O only).
    pub oi_day_low: u32,
    pub open: f32,
    pub close: f32,
    pub high: f32,
    pub low: f32,
    pub depth: [DepthLevel; DEPTH_LEVELS],
}
