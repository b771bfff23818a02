//! Where and how often options trade and are requoted in one step. Trades arrive as a
//! Poisson stream per live expiry, faster in nearer expiries, on strikes drawn around
//! the forward (so activity thins away from the money), more often on the
//! out-of-the-money side as in real index option flow. Requotes walk all options
//! round-robin so that every book follows the index within a few seconds even when
//! nothing trades in it.

use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use super::{Row, SimMarket, Slot, TRADE_RATE_DECAY, mark_changed};

/// Trades per second in the nearest live expiry of each underlying.
const NEAREST_TRADES_PER_SECOND: f64 = 8.0;
/// Every option's book is rebuilt at least this often (seconds), traded or not.
const REQUOTE_PERIOD_SECONDS: f64 = 10.0;

/// Where one step's trades in one book go: see [`SimMarket::trade`].
#[derive(Debug, Clone, Copy)]
struct TradePlan {
    expected: f64,
    forward: f64,
    /// The forward's place on the strike grid, in strikes from the lowest.
    at_the_money: f64,
    /// One standard deviation, in strikes.
    width: f64,
}

impl SimMarket {
    /// A Poisson number of trades per live expiry, on strikes drawn around the forward
    /// (a normal of one standard deviation of the expiry's terminal distribution, at
    /// least two strikes wide), out-of-the-money sides more often.
    pub(super) fn trade(&mut self, seconds: f64) {
        let ltt = self.now.unix_timestamp();
        for book_index in 0..self.books.len() {
            let Some(plan) = self.trade_plan(book_index, seconds) else {
                continue;
            };
            let trades = if plan.expected > 0.0 {
                Poisson::new(plan.expected).map_or(0.0, |p| p.sample(&mut self.rng))
            } else {
                0.0
            };
            for _ in 0..trades as u64 {
                let shock: f64 = self.rng.sample(StandardNormal);
                let place = (plan.at_the_money + plan.width * shock).round();
                let chosen = (place >= 0.0).then_some(place as usize);
                let row = chosen.and_then(|r| {
                    self.books
                        .get(book_index)
                        .and_then(|b| b.rows.get(r))
                        .copied()
                });
                let Some(row) = row else {
                    continue;
                };
                let out_of_the_money_call = row.strike >= plan.forward;
                let is_call = self.rng.random_bool(0.7) == out_of_the_money_call;
                let position = if is_call { row.call } else { row.put };
                self.trade_one(book_index, row, is_call, position, ltt);
            }
        }
    }

    /// How many trades a live book expects in `seconds`, and where they cluster.
    fn trade_plan(&self, book: usize, seconds: f64) -> Option<TradePlan> {
        let book = self.books.get(book).filter(|b| b.live)?;
        let state = self.underlyings.get(book.underlying)?;
        let first = book.rows.first()?;
        let rate = NEAREST_TRADES_PER_SECOND * TRADE_RATE_DECAY.powi(book.rank);
        let forward = book.market.forward();
        Some(TradePlan {
            // Large steps (tests, catch-up) trade at most about twice per strike.
            expected: (rate * seconds).min(2.0 * book.rows.len() as f64),
            forward,
            at_the_money: (forward - first.strike) / book.strike_step,
            width: (forward * state.atm_vol * book.market.years().sqrt() / book.strike_step)
                .max(2.0),
        })
    }

    /// One option trades: its book is rebuilt at the model price and a trade prints at
    /// the touch.
    fn trade_one(&mut self, book: usize, row: Row, is_call: bool, position: usize, ltt: i64) {
        let Some((price, vol, shape)) = self.price(book, row.strike, is_call) else {
            return;
        };
        let buyer_initiated = self.rng.random_bool(0.5);
        // Mostly one or two lots, occasionally up to nine.
        let lots = 1 + (self.rng.random::<f64>().powi(2) * 9.0) as u32;
        let fate: f64 = self.rng.random();
        let oi_lots = if fate < 0.45 {
            i64::from(lots)
        } else if fate < 0.75 {
            -i64::from(lots)
        } else {
            0
        };
        let Some(quote) = self.quotes.get_mut(position) else {
            return;
        };
        quote.requote(price, shape, &mut self.rng);
        quote.trade(buyer_initiated, lots, oi_lots, shape.lot, ltt);
        quote.iv = vol;
        mark_changed(
            &mut self.stamps,
            &mut self.changed,
            &self.universe,
            self.step_count,
            position,
        );
    }

    /// Rebuilds the books of the next slice of options in round-robin order, sized so
    /// that every option is requoted once per [`REQUOTE_PERIOD_SECONDS`].
    pub(super) fn requote_slice(&mut self, seconds: f64) {
        let total = self.options.len();
        let slice = ((total as f64) * seconds / REQUOTE_PERIOD_SECONDS).ceil();
        let slice = if slice > 0.0 {
            (slice as usize).min(total)
        } else {
            0
        };
        for _ in 0..slice {
            let Some(&position) = self.options.get(self.requote_cursor) else {
                self.requote_cursor = 0;
                continue;
            };
            self.requote_cursor = (self.requote_cursor + 1) % total;
            let Some(&Slot::Option { book, row, is_call }) = self.slots.get(position) else {
                continue;
            };
            let Some(strike) = self
                .books
                .get(book)
                .filter(|b| b.live)
                .and_then(|b| b.rows.get(row))
                .map(|r| r.strike)
            else {
                continue;
            };
            let Some((price, vol, shape)) = self.price(book, strike, is_call) else {
                continue;
            };
            let Some(quote) = self.quotes.get_mut(position) else {
                continue;
            };
            let before = *quote;
            quote.requote(price, shape, &mut self.rng);
            quote.iv = vol;
            if *quote != before {
                mark_changed(
                    &mut self.stamps,
                    &mut self.changed,
                    &self.universe,
                    self.step_count,
                    position,
                );
            }
        }
    }
}
