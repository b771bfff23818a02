//! The market as a newly started simulator finds it: a session already under way, with
//! an open, a high and a low, some volume, open interest built up over earlier days,
//! and a previous close. All of it comes from the same pricing model at index levels a
//! little away from the start (yesterday's close, today's open), so the day's figures
//! agree with each other and with the live prices.

use optionhub_pricing::black76::Market;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{
    ATM_OPEN_INTEREST_LOTS, Book, SimMarket, SimQuote, TRADE_RATE_DECAY, price_on, round_index,
};
use crate::quote::{BookShape, round_to_tick};
use crate::smile::{RISK_FREE_RATE, forward, standardised_moneyness};

/// Trading sessions in a year: an index moves about σ/√252 from one close to the next.
const SESSIONS_PER_YEAR: f64 = 252.0;
/// Positions spread over at least this fraction of the spot either side of it, however
/// close the expiry (a one-day option's OI still sits on strikes placed weeks ago).
const MIN_OI_SPREAD: f64 = 0.015;
/// The OI bell is this many standard deviations of the terminal distribution wide.
const OI_SPREAD_IN_SDS: f64 = 1.5;

/// What every option of one book opens with.
#[derive(Debug, Clone, Copy)]
struct OpeningBook {
    now: Market,
    previous_close: Market,
    open: Market,
    atm_vol: f64,
    spot: f64,
    /// Width of the OI bell in index points.
    oi_width: f64,
    /// Mean OI at the money, in lots.
    oi_lots: f64,
    tick: f64,
    lot: u32,
    ltt: i64,
}

impl SimMarket {
    /// Fills every quote with its state at the simulator's start.
    pub(super) fn open_day(&mut self) {
        let ltt = self.now.unix_timestamp();
        for underlying in 0..self.underlyings.len() {
            let Some(state) = self.underlyings.get(underlying) else {
                continue;
            };
            let (spot, index) = (state.spot, state.index);
            let daily = state.atm_vol / SESSIONS_PER_YEAR.sqrt();
            let shocks: [f64; 4] = std::array::from_fn(|_| self.rng.sample(StandardNormal));
            let [close_shock, gap_shock, up_shock, down_shock] = shocks;
            let previous_spot = spot * (daily * close_shock).exp();
            let open_spot = previous_spot * (0.3 * daily * gap_shock).exp();
            let (ltp, open) = (round_index(spot), round_index(open_spot));
            if let Some(quote) = self.quotes.get_mut(index) {
                *quote = SimQuote {
                    ltp,
                    ltt,
                    open,
                    high: round_index(open.max(ltp) * (1.0 + 0.3 * daily * up_shock.abs())),
                    low: round_index(open.min(ltp) * (1.0 - 0.3 * daily * down_shock.abs())),
                    prev_close: round_index(previous_spot),
                    ..SimQuote::default()
                };
            }
            for book in 0..self.books.len() {
                let ours = self.books.get(book).map(|b| b.underlying) == Some(underlying);
                if ours {
                    self.open_book(book, previous_spot, open_spot, ltt);
                }
            }
        }
    }

    fn open_book(&mut self, book: usize, previous_spot: f64, open_spot: f64, ltt: i64) {
        let Some(Book {
            underlying,
            rows,
            tick,
            lot,
            rank,
            market,
            ..
        }) = self.books.get(book)
        else {
            return;
        };
        let Some(state) = self.underlyings.get(*underlying) else {
            return;
        };
        let years = market.years();
        let at = |spot| Market::new(forward(spot, years), years, RISK_FREE_RATE);
        let opening = OpeningBook {
            now: *market,
            previous_close: at(previous_spot),
            open: at(open_spot),
            atm_vol: state.atm_vol,
            spot: state.spot,
            oi_width: state.spot
                * (state.atm_vol * years.sqrt()).max(MIN_OI_SPREAD)
                * OI_SPREAD_IN_SDS,
            oi_lots: ATM_OPEN_INTEREST_LOTS * TRADE_RATE_DECAY.powi(*rank),
            tick: *tick,
            lot: *lot,
            ltt,
        };
        for row in rows {
            for (position, is_call) in [(row.call, true), (row.put, false)] {
                if let Some(quote) = self.quotes.get_mut(position) {
                    *quote = opening.quote(row.strike, is_call, &mut self.rng);
                }
            }
        }
    }
}

impl OpeningBook {
    fn quote(&self, strike: f64, is_call: bool, rng: &mut ChaCha8Rng) -> SimQuote {
        let (price, vol) = price_on(&self.now, self.atm_vol, strike, is_call);
        let (previous_price, _) = price_on(&self.previous_close, self.atm_vol, strike, is_call);
        let (open_price, _) = price_on(&self.open, self.atm_vol, strike, is_call);
        let (tick, lot) = (self.tick, u64::from(self.lot));
        let ltp = round_to_tick(price, tick);
        let open = round_to_tick(open_price, tick);
        let up: f64 = rng.sample(StandardNormal);
        let down: f64 = rng.sample(StandardNormal);
        let high = round_to_tick(open.max(ltp) * (1.0 + 0.05 * up.abs()), tick).max(open.max(ltp));
        let low = round_to_tick(open.min(ltp) * (1.0 - 0.05 * down.abs()), tick).min(open.min(ltp));

        // Writers sell out of the money: puts pile up below the spot, calls above.
        let d = (strike - self.spot) / self.oi_width;
        let lean = 0.55 * (2.0 * d).tanh();
        let side = if is_call { 1.05 + lean } else { 1.05 - lean };
        let noise: f64 = rng.sample(StandardNormal);
        let oi_lots = (self.oi_lots * (-0.5 * d * d).exp() * side * (0.25 * noise).exp()).round();
        let drift: f64 = rng.sample(StandardNormal);
        let previous_oi_lots = (oi_lots * (0.05 * drift).exp()).round();
        let ltq_lots = rng.random_range(1..=5_u64);
        let volume_lots = ((oi_lots * rng.random_range(0.1..0.6)).round() as u64).max(ltq_lots);
        let previous_volume_lots = (oi_lots * rng.random_range(0.3..1.2)).round() as u64;
        let (oi, previous_oi) = (oi_lots as u64 * lot, previous_oi_lots as u64 * lot);

        let mut quote = SimQuote {
            ltp,
            ltq: u32::try_from(ltq_lots * lot).unwrap_or(u32::MAX),
            ltt: self.ltt,
            atp: low + (high - low) * rng.random_range(0.3..0.7),
            volume: volume_lots * lot,
            oi,
            oi_day_high: oi.max(previous_oi),
            oi_day_low: oi.min(previous_oi),
            open,
            high,
            low,
            prev_close: round_to_tick(previous_price, tick),
            prev_oi: previous_oi,
            prev_volume: previous_volume_lots * lot,
            iv: vol,
            ..SimQuote::default()
        };
        let forward = self.now.forward();
        let distance =
            standardised_moneyness(self.atm_vol, strike, forward, self.now.years()).abs();
        let shape = BookShape {
            tick,
            lot: self.lot,
            distance,
        };
        quote.requote(price, shape, rng);
        quote
    }
}
