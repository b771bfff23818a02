//! The latest state of one instrument, and how each feed packet (or REST snapshot)
//! changes it.
//!
//! Prices arrive as float32 rupees; they are rounded to the instrument's tick here, once,
//! so that nothing downstream compares or stores values like 3537.10009765625
//! (reference `dhanhq.md` §10.9).

use serde::Serialize;

use dhan::packet::{DEPTH_LEVELS, DepthLevel, Full, PacketBody, Quote};
use dhan::rest::types::OptionSide;

/// One level of the book, both sides.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, utoipa::ToSchema)]
pub struct BookLevel {
    pub bid_price: f64,
    pub bid_qty: u64,
    pub bid_orders: u32,
    pub ask_price: f64,
    pub ask_qty: u64,
    pub ask_orders: u32,
}

/// Everything known about one instrument. Zero means "not yet known" for prices and
/// counts alike, as on Dhan's wire.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, utoipa::ToSchema)]
pub struct InstrumentBook {
    pub ltp: f64,
    pub ltq: u32,
    /// Last trade time, UTC epoch seconds.
    pub ltt: i64,
    pub atp: f64,
    pub volume: u64,
    pub total_buy_qty: u64,
    pub total_sell_qty: u64,
    pub oi: u64,
    pub oi_day_high: u64,
    pub oi_day_low: u64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub prev_close: f64,
    pub prev_oi: u64,
    pub prev_volume: u64,
    pub bid: f64,
    pub bid_qty: u64,
    pub ask: f64,
    pub ask_qty: u64,
    /// Five levels, from Full packets only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<BookLevel>>)]
    pub depth: Option<[BookLevel; DEPTH_LEVELS]>,
    /// When the feed last changed this instrument (ns since the epoch); 0 until then.
    pub feed_updated_ns: i64,
}

/// How to read one instrument's prices and times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceRules {
    /// Tick size in paise (5 for 0.05).
    pub tick_paise: i64,
    /// Seconds to subtract from the feed's LTT to get UTC (19,800 when Dhan sends IST
    /// wall-clock time as epoch seconds; reference `dhanhq.md` §10.8).
    pub ltt_shift_secs: i64,
}

impl PriceRules {
    pub fn new(tick_size: f64, ltt_shift_secs: i64) -> Self {
        // Truncation is intended: a tick is a whole number of paise.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "tick sizes are a few paise"
        )]
        let tick_paise = ((tick_size * 100.0).round() as i64).max(1);
        Self {
            tick_paise,
            ltt_shift_secs,
        }
    }

    /// A wire price rounded to the nearest tick, as the nearest f64 to that many paise.
    pub fn price(&self, wire: f32) -> f64 {
        let value = f64::from(wire);
        if !value.is_finite() || value <= 0.0 {
            return 0.0;
        }
        let paise = (value * 100.0).round();
        let ticks = (paise / self.tick_paise as f64).round();
        ticks * self.tick_paise as f64 / 100.0
    }

    fn time(&self, ltt: u32) -> i64 {
        if ltt == 0 {
            0
        } else {
            i64::from(ltt) - self.ltt_shift_secs
        }
    }
}

impl InstrumentBook {
    /// Applies one feed packet. Returns false for packets that carry nothing for a book
    /// (market status, disconnect, index).
    pub fn apply(&mut self, body: &PacketBody, rules: &PriceRules, received_at_ns: i64) -> bool {
        match body {
            PacketBody::Ticker(t) => {
                self.ltp = rules.price(t.ltp);
                self.ltt = rules.time(t.ltt);
            }
            PacketBody::PrevClose(p) => {
                self.prev_close = rules.price(p.close);
                self.prev_oi = u64::from(p.oi);
            }
            PacketBody::Oi(o) => self.oi = u64::from(o.oi),
            PacketBody::Quote(q) => self.apply_quote(q, rules),
            PacketBody::Full(f) => self.apply_full(f, rules),
            PacketBody::MarketStatus | PacketBody::Disconnect { .. } | PacketBody::Index => {
                return false;
            }
        }
        self.feed_updated_ns = received_at_ns;
        true
    }

    fn apply_quote(&mut self, q: &Quote, rules: &PriceRules) {
        self.trade(
            rules,
            Trade {
                ltp: q.ltp,
                ltq: q.ltq,
                ltt: q.ltt,
                atp: q.atp,
                volume: q.volume,
                total_sell_qty: q.total_sell_qty,
                total_buy_qty: q.total_buy_qty,
                ohlc: [q.open, q.high, q.low, q.close],
            },
        );
    }

    fn apply_full(&mut self, f: &Full, rules: &PriceRules) {
        self.trade(
            rules,
            Trade {
                ltp: f.ltp,
                ltq: f.ltq,
                ltt: f.ltt,
                atp: f.atp,
                volume: f.volume,
                total_sell_qty: f.total_sell_qty,
                total_buy_qty: f.total_buy_qty,
                ohlc: [f.open, f.high, f.low, f.close],
            },
        );
        self.oi = u64::from(f.oi);
        self.oi_day_high = u64::from(f.oi_day_high);
        self.oi_day_low = u64::from(f.oi_day_low);
        let depth = f.depth.map(|level| book_level(&level, rules));
        let best = depth[0];
        self.bid = best.bid_price;
        self.bid_qty = best.bid_qty;
        self.ask = best.ask_price;
        self.ask_qty = best.ask_qty;
        self.depth = Some(depth);
    }

    /// The fields Quote and Full share.
    fn trade(&mut self, rules: &PriceRules, t: Trade) {
        self.ltp = rules.price(t.ltp);
        self.ltq = u32::from(t.ltq);
        let ltt = rules.time(t.ltt);
        // Cumulative volume only falls at a new session; a drop within the same day is
        // the feed's pre-open or closing noise (reference §10.7) and is ignored.
        let new_day = ltt.div_euclid(86_400) > self.ltt.div_euclid(86_400);
        if u64::from(t.volume) >= self.volume || new_day {
            self.volume = u64::from(t.volume);
        }
        self.ltt = ltt;
        self.atp = rules.price(t.atp);
        self.total_sell_qty = u64::from(t.total_sell_qty);
        self.total_buy_qty = u64::from(t.total_buy_qty);
        let [open, high, low, close] = t.ohlc;
        self.open = rules.price(open);
        self.high = rules.price(high);
        self.low = rules.price(low);
        self.close = rules.price(close);
    }

    /// Applies one side of a REST option chain. Bid and ask always (the Ticker and
    /// Quote tiers have no other source of them); the rest only while the feed has not
    /// spoken for this instrument, because a REST snapshot is older than a live packet.
    pub fn apply_rest(&mut self, side: &OptionSide) {
        let price = |value: Option<f64>| value.filter(|v| v.is_finite() && *v >= 0.0);
        if let Some(bid) = price(side.top_bid_price) {
            self.bid = bid;
            self.bid_qty = side.top_bid_quantity.unwrap_or(0);
        }
        if let Some(ask) = price(side.top_ask_price) {
            self.ask = ask;
            self.ask_qty = side.top_ask_quantity.unwrap_or(0);
        }
        if let Some(prev_close) = price(side.previous_close_price) {
            self.prev_close = prev_close;
        }
        if let Some(prev_oi) = side.previous_oi {
            self.prev_oi = prev_oi;
        }
        if let Some(prev_volume) = side.previous_volume {
            self.prev_volume = prev_volume;
        }
        if self.feed_updated_ns == 0 {
            if let Some(ltp) = price(side.last_price) {
                self.ltp = ltp;
            }
            if let Some(atp) = price(side.average_price) {
                self.atp = atp;
            }
            if let Some(oi) = side.oi {
                self.oi = oi;
            }
            if let Some(volume) = side.volume {
                self.volume = volume;
            }
        }
    }
}

struct Trade {
    ltp: f32,
    ltq: u16,
    ltt: u32,
    atp: f32,
    volume: u32,
    total_sell_qty: u32,
    total_buy_qty: u32,
    ohlc: [f32; 4],
}

fn book_level(level: &DepthLevel, rules: &PriceRules) -> BookLevel {
    BookLevel {
        bid_price: rules.price(level.bid_price),
        bid_qty: u64::from(level.bid_qty),
        bid_orders: u32::from(level.bid_orders),
        ask_price: rules.price(level.ask_price),
        ask_qty: u64::from(level.ask_qty),
        ask_orders: u32::from(level.ask_orders),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhan::packet::{PrevClose, Ticker};

    const RULES: PriceRules = PriceRules {
        tick_paise: 5,
        ltt_shift_secs: 19_800,
    };

    #[test]
    fn float32_prices_round_to_the_tick() {
        // 152.30 as float32 is 152.3000030517578.
        assert_eq!(RULES.price(152.3_f32), 152.3);
        assert_eq!(RULES.price(3537.1_f32), 3537.1);
        // 25642.87 is not on the 0.05 grid: nearest tick.
        assert_eq!(RULES.price(25642.87_f32), 25642.85);
        assert_eq!(RULES.price(f32::NAN), 0.0);
        assert_eq!(RULES.price(-1.0), 0.0);
    }

    #[test]
    fn packets_update_their_fields_and_ltt_moves_to_utc() {
        let mut book = InstrumentBook::default();
        assert!(book.apply(
            &PacketBody::Ticker(Ticker {
                ltp: 101.05,
                ltt: 1_763_000_000
            }),
            &RULES,
            7
        ));
        assert_eq!(book.ltp, 101.05);
        assert_eq!(book.ltt, 1_763_000_000 - 19_800);
        assert_eq!(book.feed_updated_ns, 7);
        book.apply(
            &PacketBody::PrevClose(PrevClose {
                close: 99.5,
                oi: 1200,
            }),
            &RULES,
            8,
        );
        assert_eq!((book.prev_close, book.prev_oi), (99.5, 1200));
        assert!(!book.apply(&PacketBody::MarketStatus, &RULES, 9));
        assert_eq!(book.feed_updated_ns, 8);
    }

    #[test]
    fn volume_never_falls_within_a_day() {
        let mut book = InstrumentBook::default();
        let quote = |volume, ltt| {
            PacketBody::Quote(Quote {
                ltp: 10.0,
                volume,
                ltt,
                ..Quote::default()
            })
        };
        book.apply(&quote(5_000, 1_763_020_000), &RULES, 1);
        book.apply(&quote(0, 1_763_020_100), &RULES, 2);
        assert_eq!(book.volume, 5_000);
        // The next day starts from its own count.
        book.apply(&quote(10, 1_763_020_000 + 86_400), &RULES, 3);
        assert_eq!(book.volume, 10);
    }

    #[test]
    fn rest_fills_only_what_the_feed_has_not_said() {
        let side = OptionSide {
            last_price: Some(50.0),
            oi: Some(900),
            top_bid_price: Some(49.9),
            top_bid_quantity: Some(75),
            top_ask_price: Some(50.1),
            top_ask_quantity: Some(150),
            ..OptionSide::default()
        };
        let mut seeded = InstrumentBook::default();
        seeded.apply_rest(&side);
        assert_eq!(
            (seeded.ltp, seeded.oi, seeded.bid, seeded.ask),
            (50.0, 900, 49.9, 50.1)
        );

        let mut live = InstrumentBook::default();
        live.apply(&PacketBody::Ticker(Ticker { ltp: 52.0, ltt: 1 }), &RULES, 1);
        live.apply_rest(&side);
        assert_eq!(
            live.ltp, 52.0,
            "the feed's price wins over an older snapshot"
        );
        assert_eq!(live.bid, 49.9, "bid/ask always come from the refresh");
    }
}
