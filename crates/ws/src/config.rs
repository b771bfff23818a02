//! Configuration of the WebSocket API: how much one client may have queued, how long a
//! write may stall, how often the server pings, how often a channel publishes, and how
//! much memory an idle connection holds.
//!
//! The defaults follow what real-time fan-out servers agree on (Centrifugo's 1 MiB
//! byte-bounded client queue, NATS' write deadline, Binance's 20 s pings and throttled
//! update speeds, a read buffer that exists only while a client's bytes are read so
//! 10,000 idle sockets stay cheap, and one writer per core).

use std::time::Duration;

/// Knobs of `/ws/live` and `/ws/fo/stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsConfig {
    /// Bytes one client may have queued but not yet written. Data is conflated (latest
    /// per channel) to stay under it; a client that still overruns it is disconnected.
    pub queue_bytes: usize,
    /// A write (one batch, flushed) that takes longer than this disconnects the client
    /// as a slow consumer.
    pub write_deadline: Duration,
    /// The server pings this often; a connection silent for 2.5 times this is closed.
    pub heartbeat: Duration,
    /// A channel publishes at most once per interval (latest value wins).
    pub publish_interval: Duration,
    /// Bytes read from a client at a time. The buffer exists only while the client's
    /// bytes are being read: an idle connection holds none.
    pub read_buffer_bytes: usize,
    /// Messages a client may send per second, on average; one over the budget is
    /// answered with a `rate_limited` error and not acted on.
    pub client_messages_per_sec: u32,
    /// Messages a client may send at once above the average (the bucket's size). It is
    /// also the tolerance: a client refused this many times faster than once a second
    /// is closed with 1008.
    pub client_message_burst: u32,
    /// Offer permessage-deflate to clients that ask for it.
    pub deflate: bool,
    /// Writer shards, the tasks that write to every connection; 0 means one per core.
    pub writers: usize,
}

impl WsConfig {
    /// How long a connection may stay silent (no frame, no pong) before it is closed.
    pub fn idle_timeout(&self) -> Duration {
        self.heartbeat.saturating_mul(5) / 2
    }
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            queue_bytes: 1 << 20,
            write_deadline: Duration::from_secs(5),
            heartbeat: Duration::from_secs(20),
            publish_interval: Duration::from_millis(200),
            read_buffer_bytes: 4 << 10,
            client_messages_per_sec: 20,
            client_message_burst: 40,
            deflate: true,
            writers: 0,
        }
    }
}
