//! Shared by the market benchmarks: the default simulator universe with its registry,
//! and the simulator's quotes encoded as Dhan v2 packets in a realistic mix of modes.
//!
//! Each option is given one subscription mode for the whole run, as the tiered
//! subscription planner would (a fixed hash of its security id: about 15 % Full, 40 %
//! Quote, which Dhan sends as a Quote packet followed by an OI packet, and 45 % Ticker);
//! indices are subscribed in Ticker mode. The bodies are filled exactly as the
//! simulator's server fills them (`crates/dhan-sim/src/tick.rs`): IST wall-clock trade times,
//! float32 prices.

use std::sync::Arc;

use optionhub::feed::dhan::codec::encode_packet;
use optionhub::feed::dhan::packet::{Packet, PacketBody};
use optionhub::feed::sim::model::{SimMarket, SimQuote};
use optionhub::feed::sim::universe::{SimUniverseConfig, build_universe};
use optionhub::feed::sim::wire::{self, full, oi, prev_close, quote, ticker};
use optionhub::feed::status::{FeedSource, FeedStatus};
use optionhub::instruments::registry::InstrumentRegistry;
use optionhub::instruments::{ExchangeSegment, InstrumentKey};
use optionhub::market::MarketState;
use time::OffsetDateTime;

/// The five default underlyings, every listed expiry and strike.
pub(crate) const UNDERLYINGS: [&str; 5] =
    ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"];

/// The simulator over the default universe as of `start`, and an empty market over the
/// registry of that universe.
pub(crate) fn sim_and_market(seed: u64, start: OffsetDateTime) -> (SimMarket, Arc<MarketState>) {
    let universe = build_universe(&SimUniverseConfig::default(), start.date());
    let names: Vec<String> = UNDERLYINGS.map(String::from).to_vec();
    let registry =
        InstrumentRegistry::build(universe.instruments.clone(), &names).expect("registry");
    let market = Arc::new(MarketState::new(
        Arc::new(registry),
        Arc::new(FeedStatus::new(FeedSource::Replay)),
        wire::IST_OFFSET_SECS,
    ));
    (SimMarket::new(universe, seed, start), market)
}

/// What one instrument is subscribed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Ticker,
    Quote,
    Full,
}

pub(crate) fn mode_of(key: &InstrumentKey) -> Mode {
    if key.segment == ExchangeSegment::IdxI {
        return Mode::Ticker;
    }
    // A fixed scramble of the id (Knuth's multiplicative hash), so that neighbouring
    // strikes do not share a mode.
    match key.security_id.wrapping_mul(2_654_435_761) % 100 {
        0..15 => Mode::Full,
        15..55 => Mode::Quote,
        _ => Mode::Ticker,
    }
}

/// Packets of each kind produced so far.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Mix {
    pub ticker: usize,
    pub index_ticker: usize,
    pub quote: usize,
    pub oi: usize,
    pub full: usize,
    pub prev_close: usize,
}

impl Mix {
    pub(crate) fn total(&self) -> usize {
        self.ticker + self.index_ticker + self.quote + self.oi + self.full + self.prev_close
    }

    pub(crate) fn describe(&self) -> String {
        let total = self.total().max(1) as f64;
        let pct = |n: usize| 100.0 * n as f64 / total;
        format!(
            "{} packets: Ticker {:.1} %, index Ticker {:.1} %, Quote {:.1} %, OI {:.1} %, \
             Full {:.1} %, PrevClose {:.1} %",
            self.total(),
            pct(self.ticker),
            pct(self.index_ticker),
            pct(self.quote),
            pct(self.oi),
            pct(self.full),
            pct(self.prev_close),
        )
    }
}

/// Appends the packets `key`'s subscription gets for its current quote, each as its own
/// encoded packet.
pub(crate) fn encode_update(
    key: &InstrumentKey,
    q: &SimQuote,
    mix: &mut Mix,
    out: &mut Vec<Vec<u8>>,
) {
    let mut push = |body: PacketBody| {
        let mut buf = Vec::with_capacity(162);
        encode_packet(&Packet { key: *key, body }, &mut buf);
        out.push(buf);
    };
    match mode_of(key) {
        Mode::Ticker if key.segment == ExchangeSegment::IdxI => {
            mix.index_ticker += 1;
            push(ticker(q));
        }
        Mode::Ticker => {
            mix.ticker += 1;
            push(ticker(q));
        }
        Mode::Quote => {
            mix.quote += 1;
            mix.oi += 1;
            push(quote(q));
            push(oi(q));
        }
        Mode::Full => {
            mix.full += 1;
            push(full(q));
        }
    }
}

/// What a fresh subscription gets: the previous close, then a Quote (so every option
/// has a price, whatever its tier) or, for a Full subscription, a Full packet.
pub(crate) fn encode_seed(
    key: &InstrumentKey,
    q: &SimQuote,
    mix: &mut Mix,
    out: &mut Vec<Vec<u8>>,
) {
    let mut push = |body: PacketBody| {
        let mut buf = Vec::with_capacity(162);
        encode_packet(&Packet { key: *key, body }, &mut buf);
        out.push(buf);
    };
    mix.prev_close += 1;
    push(prev_close(q));
    if key.segment == ExchangeSegment::IdxI {
        mix.index_ticker += 1;
        push(ticker(q));
    } else if mode_of(key) == Mode::Full {
        mix.full += 1;
        push(full(q));
    } else {
        mix.quote += 1;
        push(quote(q));
    }
}

/// Every instrument of the market's universe seeded once (see [`encode_seed`]).
pub(crate) fn seed_packets(sim: &SimMarket, mix: &mut Mix) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for instrument in &sim.universe().instruments {
        if let Some(q) = sim.quote(&instrument.key) {
            encode_seed(&instrument.key, q, mix, &mut out);
        }
    }
    out
}

/// Advances the simulator by `dt` and encodes what changed.
pub(crate) fn step_packets(
    sim: &mut SimMarket,
    dt: std::time::Duration,
    mix: &mut Mix,
    out: &mut Vec<Vec<u8>>,
) {
    let changed = sim.step(dt).to_vec();
    for key in &changed {
        if let Some(q) = sim.quote(key) {
            encode_update(key, q, mix, out);
        }
    }
}

/// Stacks packets into frames of `per_frame` packets (the last may be shorter).
pub(crate) fn stack(packets: &[Vec<u8>], per_frame: usize) -> Vec<Vec<u8>> {
    packets
        .chunks(per_frame)
        .map(|chunk| chunk.concat())
        .collect()
}
