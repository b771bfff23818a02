//! What the feed is doing, for `/status` and metrics: connection states, packets by
//! type, decode errors and how long ago the last packet arrived.
//!
//! Counters on the per-packet path are atomics (the ingest task bumps them without a
//! lock); connection states change rarely and sit behind a mutex.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Serialize;

use super::event::now_ns;
use crate::packet::PacketBody;

/// Packet kinds counted separately, in the order of [`FeedCounters::packets`].
const PACKET_KINDS: [&str; 8] = [
    "ticker",
    "prev_close",
    "quote",
    "oi",
    "full",
    "market_status",
    "disconnect",
    "index",
];

fn packet_kind(body: &PacketBody) -> usize {
    match body {
        PacketBody::Ticker(_) => 0,
        PacketBody::PrevClose(_) => 1,
        PacketBody::Quote(_) => 2,
        PacketBody::Oi(_) => 3,
        PacketBody::Full(_) => 4,
        PacketBody::MarketStatus => 5,
        PacketBody::Disconnect { .. } => 6,
        PacketBody::Index => 7,
    }
}

/// Where the feed's data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedSource {
    /// Dhan's live feed with the configured credentials.
    Dhan,
    /// The built-in simulator, through the same client and codec.
    Simulator,
    /// A recording played back.
    Replay,
}

/// The state of one feed connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Idle,
    Connecting,
    Connected {
        since_ms: i64,
    },
    BackingOff {
        attempt: u32,
        retry_in_ms: u64,
    },
    /// Dhan refused the credentials (or data access); no retries until restarted.
    AuthFailed {
        reason: String,
    },
    Stopped,
}

/// One connection's line in `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionStatus {
    pub id: usize,
    #[serde(flatten)]
    pub state: ConnectionState,
    pub instruments: usize,
    pub reconnects: u64,
    pub last_error: Option<String>,
}

/// Shared, live feed status.
#[derive(Debug)]
pub struct FeedStatus {
    source: FeedSource,
    connections: Mutex<Vec<ConnectionStatus>>,
    frames: AtomicU64,
    packets: [AtomicU64; PACKET_KINDS.len()],
    unknown_instruments: AtomicU64,
    decode_errors: Mutex<BTreeMap<&'static str, u64>>,
    last_packet_ns: AtomicI64,
    /// Silence longer than this is worth reporting (a stall, if the market is open).
    quiet_after_ms: i64,
}

impl FeedStatus {
    pub fn new(source: FeedSource) -> Self {
        Self {
            source,
            connections: Mutex::new(Vec::new()),
            frames: AtomicU64::new(0),
            packets: Default::default(),
            unknown_instruments: AtomicU64::new(0),
            decode_errors: Mutex::new(BTreeMap::new()),
            last_packet_ns: AtomicI64::new(0),
            quiet_after_ms: 30_000,
        }
    }

    /// The same status, calling the feed quiet after `after` without a packet.
    pub fn with_quiet_after(mut self, after: std::time::Duration) -> Self {
        self.quiet_after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        self
    }

    pub fn source(&self) -> &FeedSource {
        &self.source
    }

    pub fn record_frame(&self, received_at_ns: i64) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.last_packet_ns.store(received_at_ns, Ordering::Relaxed);
    }

    pub fn record_packet(&self, body: &PacketBody) {
        if let Some(counter) = self.packets.get(packet_kind(body)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_decode_error(&self, kind: &'static str) {
        *self.decode_errors.lock().entry(kind).or_default() += 1;
    }

    pub fn record_unknown_instrument(&self) {
        self.unknown_instruments.fetch_add(1, Ordering::Relaxed);
    }

    /// Registers connection slot `id` (idempotent) and applies `update` to it.
    pub fn update_connection(&self, id: usize, update: impl FnOnce(&mut ConnectionStatus)) {
        let mut connections = self.connections.lock();
        while connections.len() <= id {
            let next = connections.len();
            connections.push(ConnectionStatus {
                id: next,
                state: ConnectionState::Idle,
                instruments: 0,
                reconnects: 0,
                last_error: None,
            });
        }
        if let Some(connection) = connections.get_mut(id) {
            update(connection);
        }
    }

    /// Forgets connection slots from `count` on (after the plan shrank).
    pub fn truncate_connections(&self, count: usize) {
        self.connections.lock().truncate(count);
    }

    /// True when any connection is live.
    pub fn is_connected(&self) -> bool {
        self.connections
            .lock()
            .iter()
            .any(|c| matches!(c.state, ConnectionState::Connected { .. }))
    }

    /// The first authentication failure, if the feed stopped on one.
    pub fn auth_failure(&self) -> Option<String> {
        self.connections.lock().iter().find_map(|c| match &c.state {
            ConnectionState::AuthFailed { reason } => Some(reason.clone()),
            _ => None,
        })
    }

    pub fn snapshot(&self) -> FeedStatusSnapshot {
        let last = self.last_packet_ns.load(Ordering::Relaxed);
        let packets = PACKET_KINDS
            .iter()
            .zip(&self.packets)
            .map(|(name, count)| (*name, count.load(Ordering::Relaxed)))
            .collect();
        let decode_errors = self.decode_errors.lock().clone();
        let last_packet_age_ms = (last > 0).then(|| (now_ns().saturating_sub(last)) / 1_000_000);
        FeedStatusSnapshot {
            source: self.source.clone(),
            connected: self.is_connected(),
            connections: self.connections.lock().clone(),
            frames: self.frames.load(Ordering::Relaxed),
            packets,
            decode_errors_total: decode_errors.values().sum(),
            decode_errors,
            unknown_instruments: self.unknown_instruments.load(Ordering::Relaxed),
            last_packet_age_ms,
            quiet: last_packet_age_ms.is_some_and(|age| age > self.quiet_after_ms),
        }
    }
}

/// `/status`'s feed section.
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatusSnapshot {
    pub source: FeedSource,
    pub connected: bool,
    pub connections: Vec<ConnectionStatus>,
    pub frames: u64,
    pub packets: BTreeMap<&'static str, u64>,
    pub decode_errors_total: u64,
    pub decode_errors: BTreeMap<&'static str, u64>,
    pub unknown_instruments: u64,
    pub last_packet_age_ms: Option<i64>,
    /// No packet for longer than the stall threshold. A stall only while the market is
    /// open (`/status` `market.feed_stalled`): outside the session Dhan sends nothing.
    pub quiet: bool,
}
