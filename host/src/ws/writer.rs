//! The writing half of a connection: takes everything pending from the client's
//! [`Outbox`] in one batch, feeds it to the socket and flushes once, under a deadline.
//!
//! A batch that cannot be written within the deadline makes the client a slow
//! consumer: its queue is discarded and it is closed with 4008 "slow consumer". Every
//! close goes through here, so there is one place that sends close frames; a close
//! frame gets the same deadline, then the socket is dropped regardless.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::queue::Outbox;

/// Close code for a client that cannot keep up (Centrifugo uses 3008 for the same).
pub const SLOW_CONSUMER: u16 = 4008;
/// Close code for a connection silent for 2.5 heartbeats (Centrifugo: 3012, "no pong").
pub const HEARTBEAT_TIMEOUT: u16 = 4012;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Queue over its cap, or a write stalled past the deadline.
    SlowConsumer,
    /// Nothing received (not even a pong) for 2.5 heartbeats.
    HeartbeatTimeout,
    /// The client sent a message over the size limit.
    MessageTooBig,
    /// The client closed, or the socket failed: nothing more to say.
    Gone,
}

impl Close {
    pub fn name(self) -> &'static str {
        match self {
            Close::SlowConsumer => "slow consumer",
            Close::HeartbeatTimeout => "heartbeat timeout",
            Close::MessageTooBig => "message too big",
            Close::Gone => "closed",
        }
    }

    fn frame(self) -> Option<CloseFrame> {
        let code = match self {
            Close::SlowConsumer => SLOW_CONSUMER,
            Close::HeartbeatTimeout => HEARTBEAT_TIMEOUT,
            Close::MessageTooBig => 1009,
            Close::Gone => return None,
        };
        Some(CloseFrame {
            code,
            reason: self.name().into(),
        })
    }
}

/// What the session and the writer share.
#[derive(Debug)]
pub struct Link {
    pub outbox: Mutex<Outbox>,
    closing: OnceLock<Close>,
    /// Wakes the writer: something was queued, or the connection is closing.
    wake: Notify,
    /// Interrupts a write in progress when the connection is closing.
    abort_write: Notify,
    /// Wakes the session: the writer took a batch, so the queue has room.
    pub room: Notify,
}

impl Link {
    pub fn new(queue_bytes: usize) -> Self {
        Self {
            outbox: Mutex::new(Outbox::new(queue_bytes)),
            closing: OnceLock::new(),
            wake: Notify::new(),
            abort_write: Notify::new(),
            room: Notify::new(),
        }
    }

    /// Tells the writer there is something to write.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks for the connection to close; the first reason given wins.
    pub fn close(&self, reason: Close) {
        if self.closing.set(reason).is_ok() {
            match reason {
                Close::SlowConsumer => metrics::counter!("ws_slow_disconnects_total").increment(1),
                Close::HeartbeatTimeout => {
                    metrics::counter!("ws_heartbeat_disconnects_total").increment(1);
                }
                Close::MessageTooBig | Close::Gone => {}
            }
        }
        self.wake.notify_one();
        self.abort_write.notify_one();
    }

    pub fn closing(&self) -> Option<Close> {
        self.closing.get().copied()
    }
}

/// Writes until the connection closes.
pub async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    link: Arc<Link>,
    deadline: Duration,
    batch_bytes: usize,
) {
    loop {
        if let Some(reason) = link.closing() {
            link.outbox.lock().clear();
            finish(&mut sink, reason, deadline).await;
            return;
        }
        let batch = link.outbox.lock().take_batch(batch_bytes);
        if batch.is_empty() {
            link.wake.notified().await;
            continue;
        }
        link.room.notify_one();
        let count = batch.len() as u64;
        let write = async {
            for message in batch {
                sink.feed(message).await?;
            }
            sink.flush().await
        };
        tokio::select! {
            biased;
            () = link.abort_write.notified() => {}
            written = tokio::time::timeout(deadline, write) => match written {
                Ok(Ok(())) => metrics::counter!("ws_messages_sent_total").increment(count),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "websocket write failed");
                    link.close(Close::Gone);
                }
                Err(_) => {
                    tracing::debug!(deadline_ms = deadline.as_millis(), "websocket write stalled");
                    link.close(Close::SlowConsumer);
                }
            },
        }
    }
}

async fn finish(sink: &mut SplitSink<WebSocket, Message>, reason: Close, deadline: Duration) {
    let closed = match reason.frame() {
        Some(frame) => tokio::time::timeout(deadline, sink.send(Message::Close(Some(frame)))).await,
        // The client closed (tungstenite has queued the reply) or the socket is gone.
        None => tokio::time::timeout(deadline, sink.close()).await,
    };
    if let Ok(Err(error)) = closed {
        tracing::trace!(%error, "close frame not delivered");
    }
}
