//! The simulator's clock: every tick the market moves, and the changed instruments are
//! encoded once per mode into a [`TickBatch`] that every connection picks its packets
//! from. Encoding once per tick, not once per subscriber, keeps many connections cheap.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tokio::sync::watch;

use super::model::{SimMarket, SimQuote};
use super::server::SimShared;
use super::wire::{full, oi, prev_close, quote as quote_body, ticker};
use dhan::codec::encode_packet;
use dhan::packet::{Packet, PacketBody};
use dhan::requests::FeedMode;
use instruments::{ExchangeSegment, InstrumentKey};

/// One tick's packets: for each changed instrument, its Ticker, Quote, OI and Full
/// packets as byte ranges of one buffer.
#[derive(Debug, Default)]
pub(crate) struct TickBatch {
    buf: Vec<u8>,
    entries: HashMap<InstrumentKey, EncodedInstrument>,
}

#[derive(Debug, Clone)]
struct EncodedInstrument {
    ticker: Range<usize>,
    quote: Range<usize>,
    oi: Range<usize>,
    full: Range<usize>,
}

impl TickBatch {
    fn build(market: &SimMarket, keys: &[InstrumentKey]) -> Self {
        let mut batch = Self::default();
        for key in keys {
            let Some(quote) = market.quote(key) else {
                continue;
            };
            let range = |body: PacketBody, buf: &mut Vec<u8>| {
                let start = buf.len();
                encode_packet(&Packet { key: *key, body }, buf);
                start..buf.len()
            };
            let encoded = EncodedInstrument {
                ticker: range(ticker(quote), &mut batch.buf),
                quote: range(quote_body(quote), &mut batch.buf),
                oi: range(oi(quote), &mut batch.buf),
                full: range(full(quote), &mut batch.buf),
            };
            batch.entries.insert(*key, encoded);
        }
        batch
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &InstrumentKey> {
        self.entries.keys()
    }

    /// The packets a subscriber in `mode` gets for `key` this tick.
    pub(crate) fn packets(&self, key: &InstrumentKey, mode: FeedMode) -> Vec<&[u8]> {
        let Some(e) = self.entries.get(key) else {
            return Vec::new();
        };
        let ranges: &[&Range<usize>] = match effective_mode(key, mode) {
            FeedMode::Ticker => &[&e.ticker],
            FeedMode::Quote => &[&e.quote, &e.oi],
            FeedMode::Full => &[&e.full],
        };
        ranges
            .iter()
            .filter_map(|r| self.buf.get((*r).clone()))
            .collect()
    }
}

/// Indices have no depth or OI: a Full subscription to an index gets Quote packets.
fn effective_mode(key: &InstrumentKey, mode: FeedMode) -> FeedMode {
    if key.segment == ExchangeSegment::IdxI && mode == FeedMode::Full {
        FeedMode::Quote
    } else {
        mode
    }
}

/// What a new subscription gets at once: the previous close (Dhan sends it on every
/// subscribe) and the current state in the subscribed mode.
pub(crate) fn snapshot_packets(
    key: &InstrumentKey,
    quote: &SimQuote,
    mode: FeedMode,
    out: &mut Vec<Vec<u8>>,
) {
    let mut push = |body: PacketBody| {
        let mut buf = Vec::new();
        encode_packet(&Packet { key: *key, body }, &mut buf);
        out.push(buf);
    };
    push(prev_close(quote));
    match effective_mode(key, mode) {
        FeedMode::Ticker => push(ticker(quote)),
        FeedMode::Quote => {
            push(quote_body(quote));
            if key.segment != ExchangeSegment::IdxI {
                push(oi(quote));
            }
        }
        FeedMode::Full => push(full(quote)),
    }
}

/// Moves the market every tick and broadcasts the encoded changes; outside the
/// session (by the configured calendar) it idles: nothing moves and nothing is sent.
pub(crate) async fn run(shared: Arc<SimShared>, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(shared.config.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = dhan::shutdown::stopped(&mut shutdown) => return,
        }
        if !shared.config.calendar.is_open() {
            continue;
        }
        let batch = {
            let mut market = shared.market.lock();
            let changed = market.step(shared.config.tick).to_vec();
            TickBatch::build(&market, &changed)
        };
        // No subscribers is fine: nobody is connected yet.
        let _ = shared.ticks.send(Arc::new(batch));
    }
}
