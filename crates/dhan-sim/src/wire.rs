//! How a simulated quote goes on Dhan's wire: the packet bodies for each feed mode, with
//! prices as float32 rupees and trade times as IST wall-clock seconds, as Dhan sends them
//! (reference `dhanhq.md` §10.8). The simulator's server and the ingest benchmarks both
//! build their packets here.

use super::model::SimQuote;
use dhan::packet::{DepthLevel, Full, OpenInterest, PacketBody, PrevClose, Quote, Ticker};

/// Dhan's feed sends trade times as IST wall-clock seconds; so does the simulator.
pub const IST_OFFSET_SECS: i64 = 19_800;

/// Code 6: sent on every subscribe.
pub fn prev_close(q: &SimQuote) -> PacketBody {
    PacketBody::PrevClose(PrevClose {
        close: wire_price(q.prev_close),
        oi: saturate(q.prev_oi),
    })
}

fn wire_time(utc_secs: i64) -> u32 {
    u32::try_from(utc_secs + IST_OFFSET_SECS).unwrap_or(0)
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "the wire carries float32 prices"
)]
fn wire_price(value: f64) -> f32 {
    value as f32
}

/// Code 2.
pub fn ticker(q: &SimQuote) -> PacketBody {
    PacketBody::Ticker(Ticker {
        ltp: wire_price(q.ltp),
        ltt: wire_time(q.ltt),
    })
}

/// Code 5.
pub fn oi(q: &SimQuote) -> PacketBody {
    PacketBody::Oi(OpenInterest { oi: saturate(q.oi) })
}

/// Code 4.
pub fn quote(q: &SimQuote) -> PacketBody {
    PacketBody::Quote(Quote {
        ltp: wire_price(q.ltp),
        ltq: u16::try_from(q.ltq).unwrap_or(u16::MAX),
        ltt: wire_time(q.ltt),
        atp: wire_price(q.atp),
        volume: saturate(q.volume),
        total_sell_qty: saturate(q.total_sell_qty),
        total_buy_qty: saturate(q.total_buy_qty),
        open: wire_price(q.open),
        close: wire_price(q.close),
        high: wire_price(q.high),
        low: wire_price(q.low),
    })
}

/// Code 8, with the five depth levels.
pub fn full(q: &SimQuote) -> PacketBody {
    PacketBody::Full(Full {
        ltp: wire_price(q.ltp),
        ltq: u16::try_from(q.ltq).unwrap_or(u16::MAX),
        ltt: wire_time(q.ltt),
        atp: wire_price(q.atp),
        volume: saturate(q.volume),
        total_sell_qty: saturate(q.total_sell_qty),
        total_buy_qty: saturate(q.total_buy_qty),
        oi: saturate(q.oi),
        oi_day_high: saturate(q.oi_day_high),
        oi_day_low: saturate(q.oi_day_low),
        open: wire_price(q.open),
        close: wire_price(q.close),
        high: wire_price(q.high),
        low: wire_price(q.low),
        depth: q.depth.map(|level| DepthLevel {
            bid_qty: level.bid_qty,
            ask_qty: level.ask_qty,
            bid_orders: level.bid_orders,
            ask_orders: level.ask_orders,
            bid_price: wire_price(level.bid_price),
            ask_price: wire_price(level.ask_price),
        }),
    })
}
