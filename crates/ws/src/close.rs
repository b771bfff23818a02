//! Why a connection ends, and the close frame that says so (RFC 6455 §7.4; codes in
//! the 4000s are this server's, after Centrifugo's 3008 and 3012).

use bytes::Bytes;

use super::framing;
use super::revocation::{ACCESS_REVOKED, Revoked};

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
    /// The client sent a frame the protocol forbids (1002).
    ProtocolError,
    /// The client kept sending messages over its budget (1008, policy violation).
    MessageFlood,
    /// The session's token expired, or its user was deleted or demoted (4001).
    Revoked(Revoked),
    /// The client closed, with this code if it gave one: its close frame is echoed.
    ClientClosed(Option<u16>),
    /// The socket ended or failed: nothing more can be said.
    Gone,
}

impl Close {
    pub(super) fn name(self) -> &'static str {
        match self {
            Close::SlowConsumer => "slow consumer",
            Close::HeartbeatTimeout => "heartbeat timeout",
            Close::MessageTooBig => "message too big",
            Close::InvalidData => "invalid message data",
            Close::ProtocolError => "protocol error",
            Close::MessageFlood => "message rate exceeded",
            Close::Revoked(why) => why.reason(),
            Close::ClientClosed(_) | Close::Gone => "closed",
        }
    }

    /// The close frame to send, if one can be.
    pub(super) fn frame(self) -> Option<Bytes> {
        let code = match self {
            Close::SlowConsumer => SLOW_CONSUMER,
            Close::HeartbeatTimeout => HEARTBEAT_TIMEOUT,
            Close::MessageTooBig => 1009,
            Close::InvalidData => 1007,
            Close::ProtocolError => 1002,
            Close::MessageFlood => 1008,
            Close::Revoked(_) => ACCESS_REVOKED,
            Close::ClientClosed(code) => return Some(framing::close(code, "")),
            Close::Gone => return None,
        };
        Some(framing::close(Some(code), self.name()))
    }

    /// Counts the closes operators watch.
    pub(super) fn count(self) {
        match self {
            Close::SlowConsumer => metrics::counter!("ws_slow_disconnects_total").increment(1),
            Close::HeartbeatTimeout => {
                metrics::counter!("ws_heartbeat_disconnects_total").increment(1);
            }
            Close::MessageFlood => metrics::counter!("ws_flood_disconnects_total").increment(1),
            Close::Revoked(_) => metrics::counter!("ws_revoked_disconnects_total").increment(1),
            Close::MessageTooBig
            | Close::InvalidData
            | Close::ProtocolError
            | Close::ClientClosed(_)
            | Close::Gone => {}
        }
    }
}
