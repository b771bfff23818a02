//! The writing half of a connection: takes everything pending from the client's
//! [`Outbox`] in one batch, feeds it to the socket and flushes once, under a deadline.
//!
//! A message larger than [`FRAGMENT_BYTES`] goes out as several frames (RFC 6455 §5.4;
//! clients reassemble them, browsers included). tungstenite copies each frame into a
//! write buffer that keeps its largest size for the life of the connection: sending a
//! 100 KB chain snapshot whole would pin 100 KB on every connection that ever got one,
//! a gigabyte at 10,000 clients. In fragments the buffer stays near two fragments.
//!
//! A batch that cannot be written within the deadline makes the client a slow
//! consumer: its queue is discarded and it is closed with 4008 "slow consumer". Every
//! close goes through here, so there is one place that sends close frames; a close
//! frame gets the same deadline, then the socket is dropped regardless.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use super::queue::Outbox;
use super::revocation::{ACCESS_REVOKED, Revoked};
use super::upgrade::{Socket, WRITE_BUFFER_BYTES};

/// Messages larger than this are sent as frames of this size.
pub(super) const FRAGMENT_BYTES: usize = WRITE_BUFFER_BYTES;

type Sink = SplitSink<Socket, Message>;

/// Close code for a client that cannot keep up (Centrifugo uses 3008 for the same).
pub const SLOW_CONSUMER: u16 = 4008;
/// Close code for a connection silent for 2.5 heartbeats (Centrifugo: 3012, "no pong").
pub const HEARTBEAT_TIMEOUT: u16 = 4012;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Close {
    /// Queue over its cap, or a write stalled past the deadline.
    SlowConsumer,
    /// Nothing received (not even a pong) for 2.5 heartbeats.
    HeartbeatTimeout,
    /// The client sent a message over the size limit.
    MessageTooBig,
    /// The client sent a message that is not what it claims: a text message that is not
    /// UTF-8, or a compressed one that does not inflate (1007).
    InvalidData,
    /// The client kept sending messages over its budget (1008, policy violation).
    MessageFlood,
    /// The session's token expired, or its user was deleted or demoted (4001).
    Revoked(Revoked),
    /// The client closed, or the socket failed: nothing more to say.
    Gone,
}

impl Close {
    pub(super) fn name(self) -> &'static str {
        match self {
            Close::SlowConsumer => "slow consumer",
            Close::HeartbeatTimeout => "heartbeat timeout",
            Close::MessageTooBig => "message too big",
            Close::InvalidData => "invalid message data",
            Close::MessageFlood => "message rate exceeded",
            Close::Revoked(why) => why.reason(),
            Close::Gone => "closed",
        }
    }

    fn frame(self) -> Option<CloseFrame> {
        let code = match self {
            Close::SlowConsumer => SLOW_CONSUMER,
            Close::HeartbeatTimeout => HEARTBEAT_TIMEOUT,
            Close::MessageTooBig => 1009,
            Close::InvalidData => 1007,
            Close::MessageFlood => 1008,
            Close::Revoked(_) => ACCESS_REVOKED,
            Close::Gone => return None,
        };
        Some(CloseFrame {
            code: CloseCode::from(code),
            reason: self.name().into(),
        })
    }
}

/// What the session and the writer share.
#[derive(Debug)]
pub(super) struct Link {
    pub outbox: Mutex<Outbox>,
    closing: OnceLock<Close>,
    /// Wakes the writer: something was queued, or the connection is closing.
    wake: Notify,
    /// Interrupts a write in progress when the connection is closing.
    abort_write: Notify,
    /// Wakes the session: the writer took a batch, so the queue has room.
    pub room: Notify,
    /// The connection negotiated permessage-deflate: data goes out compressed.
    pub deflate: bool,
}

impl Link {
    pub(super) fn new(queue_bytes: usize, deflate: bool) -> Self {
        Self {
            outbox: Mutex::new(Outbox::new(queue_bytes)),
            closing: OnceLock::new(),
            wake: Notify::new(),
            abort_write: Notify::new(),
            room: Notify::new(),
            deflate,
        }
    }

    /// Tells the writer there is something to write.
    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks for the connection to close; the first reason given wins.
    pub(super) fn close(&self, reason: Close) {
        if self.closing.set(reason).is_ok() {
            match reason {
                Close::SlowConsumer => metrics::counter!("ws_slow_disconnects_total").increment(1),
                Close::HeartbeatTimeout => {
                    metrics::counter!("ws_heartbeat_disconnects_total").increment(1);
                }
                Close::MessageFlood => {
                    metrics::counter!("ws_flood_disconnects_total").increment(1);
                }
                Close::Revoked(_) => {
                    metrics::counter!("ws_revoked_disconnects_total").increment(1);
                }
                Close::MessageTooBig | Close::InvalidData | Close::Gone => {}
            }
        }
        self.wake.notify_one();
        self.abort_write.notify_one();
    }

    pub(super) fn closing(&self) -> Option<Close> {
        self.closing.get().copied()
    }
}

/// Writes until the connection closes.
pub(super) async fn run(mut sink: Sink, link: Arc<Link>, deadline: Duration, batch_bytes: usize) {
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
                for part in fragments(message) {
                    sink.feed(part).await?;
                }
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

/// `message` as it goes on the wire: itself, or a large text message as a first frame
/// and continuation frames of at most [`FRAGMENT_BYTES`] each, sharing its bytes. A
/// compressed message (a final text frame with RSV1, see [`super::deflate::Wire`]) is
/// split the same way, RSV1 staying on its first frame only (RFC 7692 §6.1).
fn fragments(message: Message) -> Vec<Message> {
    let (bytes, compressed) = match message {
        Message::Text(text) if text.len() > FRAGMENT_BYTES => {
            let bytes: bytes::Bytes = text.into();
            (bytes, false)
        }
        Message::Frame(frame)
            if frame.header().rsv1
                && frame.header().is_final
                && frame.header().opcode == OpCode::Data(Data::Text)
                && frame.payload().len() > FRAGMENT_BYTES =>
        {
            (frame.into_payload(), true)
        }
        other => return vec![other],
    };
    let len = bytes.len();
    (0..len)
        .step_by(FRAGMENT_BYTES)
        .map(|start| {
            let end = (start + FRAGMENT_BYTES).min(len);
            let opcode = if start == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let mut frame = Frame::message(bytes.slice(start..end), opcode, end == len);
            frame.header_mut().rsv1 = compressed && start == 0;
            Message::Frame(frame)
        })
        .collect()
}

async fn finish(sink: &mut Sink, reason: Close, deadline: Duration) {
    let closed = match reason.frame() {
        Some(frame) => tokio::time::timeout(deadline, sink.send(Message::Close(Some(frame)))).await,
        // The client closed (tungstenite has queued the reply) or the socket is gone.
        None => tokio::time::timeout(deadline, sink.close()).await,
    };
    if let Ok(Err(error)) = closed {
        tracing::trace!(%error, "close frame not delivered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_text_goes_out_in_fragments_that_rebuild_it() {
        let small = Message::text("{\"type\":\"pong\"}");
        assert_eq!(fragments(small.clone()), vec![small]);

        let text: String = (0..FRAGMENT_BYTES * 2 + 100)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let parts = fragments(Message::text(text.clone()));
        assert_eq!(parts.len(), 3);
        let mut rebuilt = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let Message::Frame(frame) = part else {
                panic!("part {i} is not a frame: {part:?}");
            };
            let header = frame.header();
            let expected = if i == 0 { Data::Text } else { Data::Continue };
            assert_eq!(header.opcode, OpCode::Data(expected));
            assert_eq!(header.is_final, i == 2, "only the last frame is final");
            assert!(frame.payload().len() <= FRAGMENT_BYTES);
            rebuilt.extend_from_slice(frame.payload());
        }
        assert_eq!(rebuilt, text.as_bytes());
        // Binary and control messages are never split.
        let binary = Message::binary(vec![0u8; FRAGMENT_BYTES * 3]);
        assert_eq!(fragments(binary).len(), 1);
    }

    #[test]
    fn a_large_compressed_message_keeps_rsv1_on_its_first_frame_only() {
        let payload = bytes::Bytes::from(vec![7u8; FRAGMENT_BYTES * 2 + 1]);
        let mut whole = Frame::message(payload.clone(), OpCode::Data(Data::Text), true);
        whole.header_mut().rsv1 = true;
        let parts = fragments(Message::Frame(whole));
        assert_eq!(parts.len(), 3);
        let mut rebuilt = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let Message::Frame(frame) = part else {
                panic!("part {i} is not a frame");
            };
            assert_eq!(frame.header().rsv1, i == 0, "RSV1 on frame {i}");
            assert_eq!(frame.header().is_final, i == 2);
            rebuilt.extend_from_slice(frame.payload());
        }
        assert_eq!(rebuilt, payload);
    }
}
