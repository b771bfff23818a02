//! One instrument's simulated market state ([`SimQuote`]: last trade, day statistics,
//! open interest and a five-level book) and the rules that move it: a requote rebuilds
//! the book around a model price, a trade prints at the touch and rolls the day's
//! statistics forward. Everything a Dhan Ticker, Quote, OI, Prev-close or Full packet
//! carries is here, so the server fills packets from a quote alone.

use rand::Rng;

/// Levels of the book, as in Dhan's Full packet.
pub const DEPTH_LEVELS: usize = 5;
/// The most orders one simulated level holds.
const MAX_ORDERS_PER_LEVEL: u32 = 20;
/// The most lots resting at one level at the money; fewer further out.
const MAX_LOTS_AT_THE_MONEY: f64 = 60.0;
/// Spread in rupees per rupee of premium, at the money; wider further out.
const SPREAD_PER_RUPEE: f64 = 0.0005;

/// One price level of each side of the book. An empty level (below one tick on the bid
/// side) is all zeros, as Dhan sends it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SimDepthLevel {
    pub bid_price: f64,
    pub ask_price: f64,
    pub bid_qty: u32,
    pub ask_qty: u32,
    pub bid_orders: u16,
    pub ask_orders: u16,
}

/// One instrument's market state. For an index only `ltp`, `ltt`, the day's OHLC and
/// `prev_close` mean anything; the rest stays zero.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SimQuote {
    pub ltp: f64,
    pub ltq: u32,
    /// Last trade time, true UTC epoch seconds.
    pub ltt: i64,
    /// Average traded price of the day.
    pub atp: f64,
    /// Cumulative day volume in units (not lots); never decreases.
    pub volume: u64,
    pub total_buy_qty: u64,
    pub total_sell_qty: u64,
    pub oi: u64,
    pub oi_day_high: u64,
    pub oi_day_low: u64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    /// The day's close: 0 while the session runs.
    pub close: f64,
    pub prev_close: f64,
    pub prev_oi: u64,
    pub prev_volume: u64,
    pub depth: [SimDepthLevel; DEPTH_LEVELS],
    /// The model's implied volatility at the last reprice, as a decimal.
    pub iv: f64,
}

/// How an option's book is drawn: its tick, lot, and how far from the money it is
/// (|ln(K/F)| in standard deviations), which widens spreads and thins the book.
#[derive(Debug, Clone, Copy)]
pub struct BookShape {
    pub tick: f64,
    pub lot: u32,
    pub distance: f64,
}

/// `price` rounded to the nearest tick, never below one tick: a listed option always
/// has a quotable price.
pub fn round_to_tick(price: f64, tick: f64) -> f64 {
    ticks_of(price, tick).max(1.0) * tick
}

/// `price` in ticks, rounded; 0 for a non-finite price.
fn ticks_of(price: f64, tick: f64) -> f64 {
    let ticks = (price / tick).round();
    if ticks.is_finite() { ticks } else { 0.0 }
}

impl SimQuote {
    /// Rebuilds the five-level book around `model` (the fair price): the touch straddles
    /// it, further levels step one tick outwards, sizes are random whole lots.
    pub fn requote(&mut self, model: f64, shape: BookShape, rng: &mut impl Rng) {
        let tick = shape.tick;
        let spread_ticks = (1.0
            + (model * SPREAD_PER_RUPEE * (1.0 + shape.distance) / tick).floor())
        .clamp(1.0, 200.0);
        let model_ticks = if (model / tick).is_finite() {
            model / tick
        } else {
            1.0
        };
        let best_bid = (model_ticks - spread_ticks / 2.0).floor().max(1.0);
        let best_ask = best_bid + spread_ticks;
        let max_lots = (MAX_LOTS_AT_THE_MONEY / (1.0 + shape.distance)).max(2.0) as u32;

        let (mut bid_total, mut ask_total) = (0_u64, 0_u64);
        for (level, slot) in self.depth.iter_mut().enumerate() {
            let step = level as f64;
            let bid_ticks = best_bid - step;
            let (bid_qty, bid_orders) = resting_size(shape.lot, max_lots, rng);
            let (ask_qty, ask_orders) = resting_size(shape.lot, max_lots, rng);
            *slot = SimDepthLevel {
                ask_price: (best_ask + step) * tick,
                ask_qty,
                ask_orders,
                ..SimDepthLevel::default()
            };
            if bid_ticks >= 1.0 {
                slot.bid_price = bid_ticks * tick;
                slot.bid_qty = bid_qty;
                slot.bid_orders = bid_orders;
            }
            bid_total += u64::from(slot.bid_qty);
            ask_total += u64::from(ask_qty);
        }
        // The whole book is deeper than its top five levels.
        self.total_buy_qty = bid_total * rng.random_range(2..=6);
        self.total_sell_qty = ask_total * rng.random_range(2..=6);
    }

    /// One trade at the touch (the ask if the buyer crossed, else the bid) of `lots`
    /// lots at `ltt`, with open interest moving by `oi_lots` lots (negative: positions
    /// closed).
    pub fn trade(&mut self, buyer_initiated: bool, lots: u32, oi_lots: i64, lot: u32, ltt: i64) {
        let touch = self.depth.first().copied().unwrap_or_default();
        let price = if buyer_initiated || touch.bid_price <= 0.0 {
            touch.ask_price
        } else {
            touch.bid_price
        };
        if price.is_nan() || price <= 0.0 {
            return;
        }
        let quantity = lots.saturating_mul(lot);
        let turnover_before = self.atp * self.volume as f64;
        self.ltp = price;
        self.ltq = quantity;
        self.ltt = ltt;
        self.volume = self.volume.saturating_add(u64::from(quantity));
        if self.volume > 0 {
            self.atp = (turnover_before + price * f64::from(quantity)) / self.volume as f64;
        }
        self.high = self.high.max(price);
        self.low = if self.low > 0.0 {
            self.low.min(price)
        } else {
            price
        };
        let oi_change = oi_lots.unsigned_abs().saturating_mul(u64::from(lot));
        self.oi = if oi_lots >= 0 {
            self.oi.saturating_add(oi_change)
        } else {
            self.oi.saturating_sub(oi_change)
        };
        self.oi_day_high = self.oi_day_high.max(self.oi);
        self.oi_day_low = self.oi_day_low.min(self.oi);
    }
}

/// Quantity (whole lots) and order count of one resting level.
fn resting_size(lot: u32, max_lots: u32, rng: &mut impl Rng) -> (u32, u16) {
    let lots = rng.random_range(1..=max_lots.max(1));
    let orders = rng.random_range(1..=lots.min(MAX_ORDERS_PER_LEVEL));
    // orders ≤ MAX_ORDERS_PER_LEVEL (20), so the conversion cannot fail.
    (
        lots.saturating_mul(lot),
        u16::try_from(orders).unwrap_or(u16::MAX),
    )
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::{BookShape, SimQuote, round_to_tick};

    fn on_grid(price: f64, tick: f64) -> bool {
        ((price / tick) - (price / tick).round()).abs() < 1e-6
    }

    #[test]
    fn rounding_floors_at_one_tick() {
        assert!((round_to_tick(152.33, 0.05) - 152.35).abs() < 1e-9);
        assert!((round_to_tick(0.01, 0.05) - 0.05).abs() < 1e-9);
        assert!((round_to_tick(f64::NAN, 0.05) - 0.05).abs() < 1e-9);
    }

    #[test]
    fn book_straddles_the_model_price_and_steps_outwards() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (model, distance) in [(152.3, 0.0), (1_250.0, 2.5), (0.05, 4.0), (3.2, 1.0)] {
            let mut quote = SimQuote::default();
            let shape = BookShape {
                tick: 0.05,
                lot: 75,
                distance,
            };
            quote.requote(model, shape, &mut rng);
            let [best, ..] = quote.depth;
            assert!(best.bid_price < best.ask_price, "{model}");
            if model > 1.0 {
                assert!(
                    best.bid_price <= model && model <= best.ask_price,
                    "{model}"
                );
            }
            for pair in quote.depth.windows(2) {
                assert!(pair[1].ask_price > pair[0].ask_price);
                if pair[1].bid_price > 0.0 {
                    assert!(pair[1].bid_price < pair[0].bid_price);
                }
            }
            for level in quote.depth {
                assert!(on_grid(level.bid_price, 0.05) && on_grid(level.ask_price, 0.05));
                assert_eq!(level.ask_qty % 75, 0);
                assert!(level.ask_qty > 0 && (1..=20).contains(&level.ask_orders));
                let empty = level.bid_price == 0.0;
                assert_eq!(empty, level.bid_qty == 0);
            }
            let shown: u64 = quote.depth.iter().map(|l| u64::from(l.ask_qty)).sum();
            assert!(quote.total_sell_qty >= 2 * shown);
        }
        // A wide, deep-in-the-money book has a spread of many ticks.
        let mut deep = SimQuote::default();
        let shape = BookShape {
            tick: 0.05,
            lot: 75,
            distance: 3.0,
        };
        deep.requote(2_000.0, shape, &mut rng);
        let [best, ..] = deep.depth;
        assert!(best.ask_price - best.bid_price > 1.0);
    }

    #[test]
    fn trades_print_at_the_touch_and_accumulate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut quote = SimQuote {
            oi: 750,
            oi_day_high: 750,
            oi_day_low: 750,
            ..SimQuote::default()
        };
        let shape = BookShape {
            tick: 0.05,
            lot: 75,
            distance: 0.0,
        };
        quote.requote(100.0, shape, &mut rng);
        let [best, ..] = quote.depth;
        quote.trade(true, 2, 1, 75, 1_000);
        assert_eq!(
            (quote.ltp, quote.ltq, quote.ltt),
            (best.ask_price, 150, 1_000)
        );
        quote.trade(false, 1, -20, 75, 1_001);
        assert_eq!(quote.ltp, best.bid_price);
        assert_eq!(quote.volume, 225);
        let expected_atp = (best.ask_price * 150.0 + best.bid_price * 75.0) / 225.0;
        assert!((quote.atp - expected_atp).abs() < 1e-9);
        assert_eq!(quote.oi, 0, "OI saturates at zero");
        assert_eq!((quote.oi_day_high, quote.oi_day_low), (825, 0));
        assert_eq!((quote.high, quote.low), (best.ask_price, best.bid_price));
    }
}
