//! Live market state: the latest [`InstrumentBook`] of every instrument the registry
//! knows, arranged as (underlying, expiry) chains, each with a sequence number that
//! increases on every change and a watch channel that announces it.
//!
//! One ingest task writes (a frame at a time, under one write lock, so readers never see
//! half a frame); the API and the Greeks workers read copies ([`ChainView`]). Instruments
//! are found by plain indices from the registry, so applying a packet costs one hash
//! lookup and no allocation.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use time::Date;
use tokio::sync::watch;

use super::book::{InstrumentBook, PriceRules};
use super::demand::ChainDemand;
use super::view::{ChainId, ChainRowView, ChainView, ContractView};
use calendar::MarketCalendar;
use dhan::codec::decode_frame;
use dhan::event::{FeedEvent, FeedPayload};
use dhan::rest::types::OptionChainData;
use dhan::status::FeedStatus;
use instruments::registry::InstrumentRegistry;
use instruments::{InstrumentKey, OptionRight};

/// Tick of index values (indices move in paise, not in 0.05 steps).
const INDEX_TICK: f64 = 0.01;

/// Where one chain's books live and how to read its prices.
#[derive(Debug)]
struct ChainSlot {
    underlying: usize,
    expiry: usize,
    rules: PriceRules,
}

#[derive(Debug)]
struct ChainBooks {
    seq: u64,
    updated_at_ns: i64,
    calls: Vec<InstrumentBook>,
    puts: Vec<InstrumentBook>,
    /// The frame number that last touched this chain, to bump `seq` once per frame.
    touched_in: u64,
    /// When a feed packet last changed one of its contracts, and when Dhan's REST
    /// option chain last arrived (ns since the epoch; 0: never): where its data is from.
    feed_at_ns: i64,
    rest_at_ns: i64,
}

#[derive(Debug)]
struct Books {
    spots: Vec<InstrumentBook>,
    chains: Vec<ChainBooks>,
    frames: u64,
}

/// The market: every book, every chain's sequence, and their change notifications.
#[derive(Debug)]
pub struct MarketState {
    registry: Arc<InstrumentRegistry>,
    status: Arc<FeedStatus>,
    /// First chain id of each underlying (chains of one underlying are contiguous).
    chain_base: Vec<usize>,
    chains: Vec<ChainSlot>,
    index_keys: HashMap<InstrumentKey, usize>,
    index_rules: PriceRules,
    books: RwLock<Books>,
    notify: Vec<watch::Sender<u64>>,
    /// What day and time it is (IST), whether the session is open, which expiries live.
    calendar: MarketCalendar,
    /// Chains clients ask for beyond the always-subscribed expiries.
    demand: Arc<ChainDemand>,
}

impl MarketState {
    /// State for every chain of `registry`, all books empty. `ltt_shift_secs` is what
    /// to subtract from the feed's trade times to get UTC.
    pub fn new(
        registry: Arc<InstrumentRegistry>,
        status: Arc<FeedStatus>,
        ltt_shift_secs: i64,
    ) -> Self {
        let mut chain_base = Vec::new();
        let mut chains = Vec::new();
        let mut chain_books = Vec::new();
        let mut index_keys = HashMap::new();
        for (u, info) in registry.underlyings().enumerate() {
            chain_base.push(chains.len());
            index_keys.insert(info.index, u);
            for (e, expiry) in info.expiries.iter().enumerate() {
                chains.push(ChainSlot {
                    underlying: u,
                    expiry: e,
                    rules: PriceRules::new(expiry.tick_size, ltt_shift_secs),
                });
                let n = expiry.strikes.len();
                chain_books.push(ChainBooks {
                    seq: 0,
                    updated_at_ns: 0,
                    calls: vec![InstrumentBook::default(); n],
                    puts: vec![InstrumentBook::default(); n],
                    touched_in: 0,
                    feed_at_ns: 0,
                    rest_at_ns: 0,
                });
            }
        }
        let notify = chains.iter().map(|_| watch::channel(0).0).collect();
        let books = Books {
            spots: vec![InstrumentBook::default(); chain_base.len()],
            chains: chain_books,
            frames: 0,
        };
        Self {
            registry,
            status,
            chain_base,
            chains,
            index_keys,
            index_rules: PriceRules::new(INDEX_TICK, ltt_shift_secs),
            books: RwLock::new(books),
            notify,
            calendar: MarketCalendar::default(),
            demand: Arc::new(ChainDemand::default()),
        }
    }

    /// The same state releasing on-demand chains after `idle` without a client.
    pub fn with_demand_idle(mut self, idle: std::time::Duration) -> Self {
        self.demand = Arc::new(ChainDemand::new(idle));
        self
    }

    pub fn demand(&self) -> &Arc<ChainDemand> {
        &self.demand
    }

    /// The same state reading `calendar` for "now" and the session.
    pub fn with_calendar(mut self, calendar: MarketCalendar) -> Self {
        self.calendar = calendar;
        self
    }

    pub fn calendar(&self) -> &MarketCalendar {
        &self.calendar
    }

    pub fn registry(&self) -> &Arc<InstrumentRegistry> {
        &self.registry
    }

    pub fn status(&self) -> &Arc<FeedStatus> {
        &self.status
    }

    /// Applies one feed event; returns how many packets (or chains) changed a book.
    pub fn apply_event(&self, event: &FeedEvent) -> usize {
        self.apply_events(std::slice::from_ref(event))
    }

    /// Applies events in order under one write lock and announces each touched chain
    /// once, at its latest sequence: the ingest task hands over whatever has queued up,
    /// so a burst costs one lock and one notification per chain, not one per frame.
    /// Sequences still move once per frame, so they do not depend on how events were
    /// batched (a replay reaches the same numbers).
    pub fn apply_events(&self, events: &[FeedEvent]) -> usize {
        self.in_batch(|books, touched| {
            events
                .iter()
                .map(|event| match &event.payload {
                    FeedPayload::Frame(frame) => {
                        self.frame_into(books, frame, event.received_at_ns, touched)
                    }
                    FeedPayload::OptionChain {
                        underlying,
                        expiry,
                        data,
                    } => usize::from(self.chain_into(
                        books,
                        *underlying,
                        *expiry,
                        data,
                        event.received_at_ns,
                        touched,
                    )),
                })
                .sum()
        })
    }

    /// Decodes one frame and applies every packet in it; bad packets are counted and
    /// skipped, packets for instruments we do not track are counted and ignored.
    pub fn apply_frame(&self, frame: &[u8], received_at_ns: i64) -> usize {
        self.in_batch(|books, touched| self.frame_into(books, frame, received_at_ns, touched))
    }

    /// Applies a REST option chain to its books (see [`InstrumentBook::apply_rest`]) and
    /// the spot, if the feed has not given one yet. Returns whether the chain is known.
    pub fn apply_option_chain(
        &self,
        underlying: InstrumentKey,
        expiry: Date,
        data: &OptionChainData,
        received_at_ns: i64,
    ) -> bool {
        self.in_batch(|books, touched| {
            self.chain_into(books, underlying, expiry, data, received_at_ns, touched)
        })
    }

    /// Runs `apply` under the write lock, then announces every chain it touched.
    fn in_batch<R>(&self, apply: impl FnOnce(&mut Books, &mut Vec<usize>) -> R) -> R {
        let mut touched = Vec::new();
        let (result, announce) = {
            let mut books = self.books.write();
            let result = apply(&mut books, &mut touched);
            touched.sort_unstable();
            touched.dedup();
            let announce: Vec<(usize, u64)> = touched
                .iter()
                .filter_map(|&chain| Some((chain, books.chains.get(chain)?.seq)))
                .collect();
            (result, announce)
        };
        self.announce(&announce);
        result
    }

    fn frame_into(
        &self,
        books: &mut Books,
        frame: &[u8],
        received_at_ns: i64,
        touched: &mut Vec<usize>,
    ) -> usize {
        self.status.record_frame(received_at_ns);
        let mut applied = 0;
        books.frames += 1;
        let frame_no = books.frames;
        for packet in decode_frame(frame) {
            let packet = match packet {
                Ok(packet) => packet,
                Err(error) => {
                    self.status.record_decode_error(error.kind());
                    continue;
                }
            };
            self.status.record_packet(&packet.body);
            if let Some(location) = self.registry.locate(&packet.key) {
                let chain = self.chain_id(location.underlying, location.expiry);
                let Some(slot) = self.chains.get(chain) else {
                    continue;
                };
                let Some(books_of_chain) = books.chains.get_mut(chain) else {
                    continue;
                };
                let side = match location.right {
                    OptionRight::Call => &mut books_of_chain.calls,
                    OptionRight::Put => &mut books_of_chain.puts,
                };
                let Some(book) = side.get_mut(location.strike) else {
                    continue;
                };
                if book.apply(&packet.body, &slot.rules, received_at_ns) {
                    applied += 1;
                    books_of_chain.feed_at_ns = received_at_ns;
                    touch(books_of_chain, chain, frame_no, received_at_ns, touched);
                }
            } else if let Some(&u) = self.index_keys.get(&packet.key) {
                let Some(spot) = books.spots.get_mut(u) else {
                    continue;
                };
                if spot.apply(&packet.body, &self.index_rules, received_at_ns) {
                    applied += 1;
                    for chain in self.chains_of(u) {
                        if let Some(c) = books.chains.get_mut(chain) {
                            touch(c, chain, frame_no, received_at_ns, touched);
                        }
                    }
                }
            } else if !matches!(
                packet.body,
                dhan::packet::PacketBody::Disconnect { .. }
                    | dhan::packet::PacketBody::MarketStatus
            ) {
                self.status.record_unknown_instrument();
            }
        }
        applied
    }

    fn chain_into(
        &self,
        books: &mut Books,
        underlying: InstrumentKey,
        expiry: Date,
        data: &OptionChainData,
        received_at_ns: i64,
        touched: &mut Vec<usize>,
    ) -> bool {
        let Some(&u) = self.index_keys.get(&underlying) else {
            return false;
        };
        let Some(info) = self.registry.underlyings().nth(u) else {
            return false;
        };
        let Some(e) = info.expiries.iter().position(|x| x.expiry == expiry) else {
            return false;
        };
        let Some(expiry_info) = info.expiries.get(e) else {
            return false;
        };
        let chain = self.chain_id(u, e);
        books.frames += 1;
        let frame_no = books.frames;
        if let Some(spot) = books.spots.get_mut(u)
            && spot.feed_updated_ns == 0
            && data.last_price.is_finite()
            && data.last_price > 0.0
        {
            spot.ltp = data.last_price;
        }
        let Some(chain_books) = books.chains.get_mut(chain) else {
            return false;
        };
        for (strike_text, sides) in &data.oc {
            let Ok(strike) = strike_text.parse::<f64>() else {
                continue;
            };
            let Some(row) = expiry_info
                .strikes
                .iter()
                .position(|r| (r.strike - strike).abs() < 1e-6)
            else {
                self.status.record_unknown_instrument();
                continue;
            };
            if let (Some(side), Some(book)) = (&sides.ce, chain_books.calls.get_mut(row)) {
                book.apply_rest(side);
            }
            if let (Some(side), Some(book)) = (&sides.pe, chain_books.puts.get_mut(row)) {
                book.apply_rest(side);
            }
        }
        chain_books.rest_at_ns = received_at_ns;
        touch(chain_books, chain, frame_no, received_at_ns, touched);
        for other in self.chains_of(u) {
            // The spot may have moved: every chain of the underlying sees it.
            if let Some(c) = books.chains.get_mut(other) {
                touch(c, other, frame_no, received_at_ns, touched);
            }
        }
        true
    }

    fn chain_id(&self, underlying: usize, expiry: usize) -> usize {
        self.chain_base
            .get(underlying)
            .map_or(usize::MAX, |base| base + expiry)
    }

    fn chains_of(&self, underlying: usize) -> std::ops::Range<usize> {
        let start = self.chain_base.get(underlying).copied().unwrap_or(0);
        let end = self
            .chain_base
            .get(underlying + 1)
            .copied()
            .unwrap_or(self.chains.len());
        start..end
    }

    fn announce(&self, touched: &[(usize, u64)]) {
        for &(chain, seq) in touched {
            if let Some(sender) = self.notify.get(chain) {
                sender.send_replace(seq);
            }
        }
    }

    fn locate_chain(&self, id: &ChainId) -> Option<usize> {
        let u = self
            .registry
            .underlyings()
            .position(|info| info.name == id.underlying)?;
        let info = self.registry.underlyings().nth(u)?;
        let e = info.expiries.iter().position(|x| x.expiry == id.expiry)?;
        Some(self.chain_id(u, e))
    }

    /// Every chain the market tracks, in registry order.
    pub fn chain_ids(&self) -> Vec<ChainId> {
        self.chains
            .iter()
            .filter_map(|slot| {
                let info = self.registry.underlyings().nth(slot.underlying)?;
                let expiry = info.expiries.get(slot.expiry)?;
                Some(ChainId {
                    underlying: info.name.clone(),
                    expiry: expiry.expiry,
                })
            })
            .collect()
    }

    /// A receiver that sees the chain's sequence number change.
    pub fn watch_chain(&self, id: &ChainId) -> Option<watch::Receiver<u64>> {
        let chain = self.locate_chain(id)?;
        self.notify.get(chain).map(watch::Sender::subscribe)
    }

    /// The underlying's last value, if known.
    pub fn spot(&self, underlying: &str) -> Option<f64> {
        let u = self
            .registry
            .underlyings()
            .position(|info| info.name == underlying)?;
        let ltp = self.books.read().spots.get(u)?.ltp;
        (ltp > 0.0).then_some(ltp)
    }

    /// The underlying index's whole book.
    pub fn underlying_book(&self, underlying: &str) -> Option<InstrumentBook> {
        let u = self
            .registry
            .underlyings()
            .position(|info| info.name == underlying)?;
        self.books.read().spots.get(u).copied()
    }

    /// One option's book, by key; `None` for anything outside the tracked chains.
    pub fn contract_book(&self, key: &InstrumentKey) -> Option<InstrumentBook> {
        let location = self.registry.locate(key)?;
        let chain = self.chain_id(location.underlying, location.expiry);
        let books = self.books.read();
        let chain_books = books.chains.get(chain)?;
        let side = match location.right {
            OptionRight::Call => &chain_books.calls,
            OptionRight::Put => &chain_books.puts,
        };
        side.get(location.strike).copied()
    }

    /// The chain's sequence number now, without copying the chain.
    /// Where a chain's data came from last: `(feed_at_ns, rest_at_ns)`, 0 for never.
    pub fn chain_sources(&self, id: &ChainId) -> Option<(i64, i64)> {
        let chain = self.locate_chain(id)?;
        let books = self.books.read();
        let c = books.chains.get(chain)?;
        Some((c.feed_at_ns, c.rest_at_ns))
    }

    pub fn chain_seq(&self, id: &ChainId) -> Option<u64> {
        let chain = self.locate_chain(id)?;
        self.books.read().chains.get(chain).map(|c| c.seq)
    }

    /// A copy of one chain as it is now.
    pub fn chain_view(&self, id: &ChainId) -> Option<ChainView> {
        let chain = self.locate_chain(id)?;
        let slot = self.chains.get(chain)?;
        let info = self.registry.underlyings().nth(slot.underlying)?;
        let expiry = info.expiries.get(slot.expiry)?;
        let books = self.books.read();
        let spot = books.spots.get(slot.underlying)?;
        let chain_books = books.chains.get(chain)?;
        let contract = |key: Option<InstrumentKey>, book: Option<&InstrumentBook>| {
            Some(ContractView {
                security_id: key?.security_id,
                segment: key?.segment,
                book: *book?,
            })
        };
        let rows = expiry
            .strikes
            .iter()
            .enumerate()
            .map(|(i, row)| ChainRowView {
                strike: row.strike,
                call: contract(row.call, chain_books.calls.get(i)),
                put: contract(row.put, chain_books.puts.get(i)),
            })
            .collect();
        Some(ChainView {
            underlying: info.name.clone(),
            expiry: expiry.expiry,
            expiry_flag: expiry.flag,
            lot_size: expiry.lot_size,
            strike_step: expiry.strike_step,
            tick_size: expiry.tick_size,
            spot: spot.ltp,
            seq: chain_books.seq,
            as_of_ns: chain_books.updated_at_ns,
            rows,
        })
    }
}

/// Marks a chain changed by the current frame: its sequence moves once per frame.
fn touch(chain: &mut ChainBooks, id: usize, frame_no: u64, at_ns: i64, touched: &mut Vec<usize>) {
    chain.updated_at_ns = chain.updated_at_ns.max(at_ns);
    if chain.touched_in != frame_no {
        chain.touched_in = frame_no;
        chain.seq += 1;
        touched.push(id);
    }
}
