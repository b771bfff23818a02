//! The simulator's market: a deterministic, evolving model of the indices and their
//! options over a [`SimUniverse`], which the loopback server reads to fill Dhan's
//! packets and option-chain answers. It does no I/O and reads no clock: time moves
//! only by [`SimMarket::step`], and the same (universe, seed, start) always gives the
//! same market, so tests and demos are reproducible.
//!
//! Each step moves every index by a geometric Brownian step at its (slowly drifting)
//! at-the-money volatility, then lets a random handful of options trade, more of them
//! near the money, and rebuilds the books of a rotating slice of the rest. Options are
//! priced with Black-76 on the forward of their expiry, at a skewed smile
//! ([`super::smile`]), only when they trade or are requoted: pricing the whole universe
//! every step would cost more than the packets it feeds.

mod opening;
mod option_chain;
#[cfg(test)]
mod tests;
mod trading;

use optionhub_pricing::black76::Market;
use optionhub_pricing::chain::Date as PricingDate;
use optionhub_pricing::expiry::{TimeToExpiry, time_to_expiry};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use time::{Date, OffsetDateTime};

use super::quote::BookShape;
pub use super::quote::{SimDepthLevel, SimQuote};
use super::smile::{RISK_FREE_RATE, forward, smile_vol, standardised_moneyness};
use super::universe::SimUniverse;
use instruments::InstrumentKey;
pub use option_chain::{SimChain, SimChainRow, SimGreeks};

/// Index volatility is quoted over trading time: 252 sessions of 6¼ hours a year.
const TRADING_SECONDS_PER_YEAR: f64 = 252.0 * 6.25 * 3600.0;
/// How fast the at-the-money volatility reverts to its configured level (per trading
/// year): a shock halves in about three sessions.
const VOL_REVERSION_PER_YEAR: f64 = 50.0;
/// Volatility of ln σ per √(trading year): about 5 % of the level per session.
const VOL_OF_VOL: f64 = 0.8;
/// Each later expiry trades this fraction as often as the one before it.
const TRADE_RATE_DECAY: f64 = 0.6;
/// Index values are quoted to the paisa.
const INDEX_TICK: f64 = 0.01;
/// Open interest at the money of the nearest expiry, in lots, before the smile of
/// positioning and noise.
const ATM_OPEN_INTEREST_LOTS: f64 = 60_000.0;

/// One underlying's evolving state.
#[derive(Debug, Clone)]
struct UnderlyingState {
    name: String,
    configured_vol: f64,
    atm_vol: f64,
    spot: f64,
    /// Position of the index in the quote table.
    index: usize,
}

/// One strike of a book: positions of its call and put in the quote table.
#[derive(Debug, Clone, Copy)]
struct Row {
    strike: f64,
    call: usize,
    put: usize,
}

/// One expiry of one underlying, with the Black-76 market of the current step.
#[derive(Debug, Clone)]
struct Book {
    underlying: usize,
    expiry: Date,
    /// Lowest strike first, evenly stepped.
    rows: Vec<Row>,
    strike_step: f64,
    tick: f64,
    lot: u32,
    /// 0 for the nearest live expiry of its underlying, 1 for the next, …
    rank: i32,
    market: Market,
    /// False once the expiry instant (15:30 IST) has passed.
    live: bool,
}

/// What sits at one position of the quote table.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// An index, or anything the model does not move.
    Passive,
    Option {
        book: usize,
        row: usize,
        is_call: bool,
    },
}

/// The simulated market. See the module docs.
#[derive(Debug)]
pub struct SimMarket {
    universe: SimUniverse,
    rng: ChaCha8Rng,
    now: OffsetDateTime,
    underlyings: Vec<UnderlyingState>,
    books: Vec<Book>,
    /// Parallel to `universe.instruments`, as are `quotes` and `stamps`.
    slots: Vec<Slot>,
    quotes: Vec<SimQuote>,
    /// The step in which each quote last changed, so a key is reported once a step.
    stamps: Vec<u64>,
    step_count: u64,
    /// Positions of all options, walked round-robin by the requote slice.
    options: Vec<usize>,
    requote_cursor: usize,
    /// Reused by every step so that steady-state stepping does not allocate.
    changed: Vec<InstrumentKey>,
}

impl SimMarket {
    /// A market over `universe` at `start`, with its day so far (open, high, low,
    /// volume, open interest) and the previous day (close, OI, volume) made up from the
    /// same model at nearby index levels.
    pub fn new(universe: SimUniverse, seed: u64, start: OffsetDateTime) -> SimMarket {
        let count = universe.instruments.len();
        let mut underlyings = Vec::new();
        let mut books = Vec::new();
        let mut slots = vec![Slot::Passive; count];
        for spec in universe.underlyings() {
            let Some(index) = universe
                .index_key(&spec.name)
                .and_then(|key| universe.position(&key))
            else {
                continue;
            };
            let underlying = underlyings.len();
            underlyings.push(UnderlyingState {
                name: spec.name.clone(),
                configured_vol: spec.atm_vol,
                atm_vol: spec.atm_vol,
                spot: spec.spot,
                index,
            });
            for &expiry in universe.expiries(&spec.name) {
                let book = books.len();
                let mut rows = Vec::new();
                for strike in universe.chain(&spec.name, expiry) {
                    let (Some(call), Some(put)) = (
                        universe.position(&strike.call),
                        universe.position(&strike.put),
                    ) else {
                        continue;
                    };
                    for (position, is_call) in [(call, true), (put, false)] {
                        if let Some(slot) = slots.get_mut(position) {
                            let row = rows.len();
                            *slot = Slot::Option { book, row, is_call };
                        }
                    }
                    rows.push(Row {
                        strike: strike.strike,
                        call,
                        put,
                    });
                }
                books.push(Book {
                    underlying,
                    expiry,
                    rows,
                    strike_step: spec.strike_step,
                    tick: spec.tick_size,
                    lot: spec.lot_size,
                    rank: 0,
                    market: Market::new(spec.spot, 0.0, RISK_FREE_RATE),
                    live: false,
                });
            }
        }
        let options = (0..count)
            .filter(|&i| matches!(slots.get(i), Some(Slot::Option { .. })))
            .collect();
        let mut market = SimMarket {
            universe,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: start,
            underlyings,
            books,
            slots,
            quotes: vec![SimQuote::default(); count],
            stamps: vec![0; count],
            step_count: 0,
            options,
            requote_cursor: 0,
            changed: Vec::new(),
        };
        market.refresh_books();
        market.open_day();
        market
    }

    /// The current state of one instrument.
    pub fn quote(&self, key: &InstrumentKey) -> Option<&SimQuote> {
        self.universe
            .position(key)
            .and_then(|position| self.quotes.get(position))
    }

    /// An underlying's index level now (unrounded).
    pub fn spot(&self, underlying: &str) -> Option<f64> {
        self.underlying(underlying).map(|(_, state)| state.spot)
    }

    /// The simulated clock.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The contracts this market quotes.
    pub fn universe(&self) -> &SimUniverse {
        &self.universe
    }

    /// Advances the clock by `dt`, moves the indices and trades and requotes some
    /// options. Returns the keys whose quotes changed in this step, each once (an index
    /// is there whenever its quoted level moved); the slice is valid until the next
    /// step and its buffer is reused.
    pub fn step(&mut self, dt: std::time::Duration) -> &[InstrumentKey] {
        self.step_count += 1;
        self.changed.clear();
        let advanced = time::Duration::try_from(dt)
            .ok()
            .and_then(|d| self.now.checked_add(d));
        // A clock at the end of time stands still rather than wrap.
        let seconds = advanced.map_or(0.0, |_| dt.as_secs_f64());
        if let Some(now) = advanced {
            self.now = now;
        }
        self.move_indices(seconds);
        self.refresh_books();
        self.trade(seconds);
        self.requote_slice(seconds);
        &self.changed
    }

    fn underlying(&self, name: &str) -> Option<(usize, &UnderlyingState)> {
        self.underlyings
            .iter()
            .enumerate()
            .find(|(_, state)| state.name == name)
    }

    /// Geometric Brownian step of each index at its current volatility, after a
    /// mean-reverting step of ln σ.
    fn move_indices(&mut self, seconds: f64) {
        let years = seconds / TRADING_SECONDS_PER_YEAR;
        let ltt = self.now.unix_timestamp();
        for state in &mut self.underlyings {
            let vol_shock: f64 = self.rng.sample(StandardNormal);
            let spot_shock: f64 = self.rng.sample(StandardNormal);
            let log_vol = state.atm_vol.ln()
                - VOL_REVERSION_PER_YEAR * (state.atm_vol / state.configured_vol).ln() * years
                + VOL_OF_VOL * years.sqrt() * vol_shock;
            state.atm_vol = log_vol
                .exp()
                .clamp(0.5 * state.configured_vol, 2.0 * state.configured_vol);
            let sigma = state.atm_vol;
            state.spot *= (-0.5 * sigma * sigma * years + sigma * years.sqrt() * spot_shock).exp();

            let level = round_index(state.spot);
            let Some(quote) = self.quotes.get_mut(state.index) else {
                continue;
            };
            if level != quote.ltp {
                quote.ltp = level;
                quote.ltt = ltt;
                quote.high = quote.high.max(level);
                quote.low = quote.low.min(level);
                mark_changed(
                    &mut self.stamps,
                    &mut self.changed,
                    &self.universe,
                    self.step_count,
                    state.index,
                );
            }
        }
    }

    /// Recomputes each expiry's forward, time to expiry and rank from the current spot
    /// and clock.
    fn refresh_books(&mut self) {
        let now_ms = epoch_ms(self.now);
        // Books are listed by underlying, nearest expiry first.
        let mut previous: Option<(usize, i32)> = None;
        for book in &mut self.books {
            let Some(state) = self.underlyings.get(book.underlying) else {
                continue;
            };
            let years = years_to_expiry(book.expiry, now_ms);
            book.live = years.is_some();
            let years = years.unwrap_or(0.0);
            book.market = Market::new(forward(state.spot, years), years, RISK_FREE_RATE);
            if book.live {
                book.rank = match previous {
                    Some((underlying, rank)) if underlying == book.underlying => rank + 1,
                    _ => 0,
                };
                previous = Some((book.underlying, book.rank));
            }
        }
    }

    /// Model price (unrounded), smile volatility and book shape of one option of
    /// `book` at the current state.
    fn price(&self, book: usize, strike: f64, is_call: bool) -> Option<(f64, f64, BookShape)> {
        let book = self.books.get(book)?;
        let state = self.underlyings.get(book.underlying)?;
        let (price, vol) = price_on(&book.market, state.atm_vol, strike, is_call);
        let f = book.market.forward();
        let distance = standardised_moneyness(state.atm_vol, strike, f, book.market.years()).abs();
        let shape = BookShape {
            tick: book.tick,
            lot: book.lot,
            distance,
        };
        Some((price, vol, shape))
    }
}

/// Black-76 price and smile volatility of one option in `market`.
fn price_on(market: &Market, atm_vol: f64, strike: f64, is_call: bool) -> (f64, f64) {
    let vol = smile_vol(atm_vol, strike, market.forward(), market.years());
    let (price, _) = market.price_and_greeks(strike, vol, is_call);
    (price, vol)
}

/// Records that the quote at `position` changed in step `step`, once per step.
fn mark_changed(
    stamps: &mut [u64],
    changed: &mut Vec<InstrumentKey>,
    universe: &SimUniverse,
    step: u64,
    position: usize,
) {
    let (Some(stamp), Some(instrument)) =
        (stamps.get_mut(position), universe.instruments.get(position))
    else {
        return;
    };
    if *stamp != step {
        *stamp = step;
        changed.push(instrument.key);
    }
}

/// Years from `now_ms` to the expiry instant of `expiry` (15:30 IST); `None` once it
/// has passed.
fn years_to_expiry(expiry: Date, now_ms: i64) -> Option<f64> {
    let date = PricingDate {
        year: u16::try_from(expiry.year()).ok()?,
        month: u8::from(expiry.month()),
        day: expiry.day(),
    };
    match time_to_expiry(date, now_ms)? {
        TimeToExpiry::Live { years } => Some(years),
        TimeToExpiry::Expired => None,
    }
}

fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn round_index(level: f64) -> f64 {
    (level / INDEX_TICK).round() * INDEX_TICK
}
