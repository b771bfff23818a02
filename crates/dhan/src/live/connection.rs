//! One feed connection: connect, subscribe what it carries, read until something goes
//! wrong, back off, reconnect, resubscribe, for as long as the server runs.
//!
//! The reader never does heavy work: a frame is stamped and handed to the market's
//! ingest task, so pings keep being answered (tungstenite answers them while the stream
//! is polled) and Dhan never sees us as a dead client. Its own inactivity deadline
//! catches a feed that has silently stalled.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{LiveFeedConfig, SubscriptionPlan};
use crate::codec::decode_frame;
use crate::disconnect::{DisconnectReason, ReconnectPolicy};
use crate::event::{FeedEvent, FeedPayload, now_ns};
use crate::packet::PacketBody;
use crate::requests::{FeedMode, FeedRequest, subscribe_batches, unsubscribe_batches};
use crate::status::{ConnectionState, FeedStatus};
use instruments::InstrumentKey;

type FeedSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long connecting (TCP, TLS and the upgrade) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a polite close may take before the socket is simply dropped (a close on a
/// dead socket can hang: `dhanhq.md` §10.2).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to look for Dhan's disconnect packet after a send has failed: it is already
/// in our receive buffer or never coming.
const LAST_WORD_TIMEOUT: Duration = Duration::from_millis(500);

pub(super) struct Connection {
    pub id: usize,
    pub config: Arc<LiveFeedConfig>,
    pub status: Arc<FeedStatus>,
    pub events: mpsc::Sender<FeedEvent>,
    pub plan: watch::Receiver<Arc<SubscriptionPlan>>,
    pub shutdown: watch::Receiver<bool>,
}

/// Why a session ended.
enum SessionEnd {
    Shutdown,
    /// Retry after the usual backoff; `got_data` resets the backoff.
    Retry {
        error: String,
        got_data: bool,
    },
    /// Dhan said we are over its limits: wait the longest backoff.
    BackOffHard {
        error: String,
    },
    /// Dhan refused the credentials: stop.
    AuthFailed {
        reason: String,
    },
}

impl Connection {
    /// Connects, runs a session, and reconnects with backoff until shutdown or until
    /// Dhan refuses the credentials. Its span names the connection in every log line.
    #[tracing::instrument(name = "feed_connection", skip_all, fields(connection = self.id))]
    pub(super) async fn run(mut self) {
        let mut attempt = 0u32;
        loop {
            if *self.shutdown.borrow() {
                break;
            }
            self.set_state(ConnectionState::Connecting);
            let end = match self.connect().await {
                Ok(socket) => self.session(socket).await,
                Err(end) => end,
            };
            let (error, delay) = match end {
                SessionEnd::Shutdown => break,
                SessionEnd::AuthFailed { reason } => {
                    tracing::error!(connection = self.id, %reason, "Dhan refused the feed credentials; not reconnecting");
                    self.set_state(ConnectionState::AuthFailed { reason });
                    // Stay parked until shutdown: retrying a refused token only gets the
                    // account blocked.
                    let _ = crate::shutdown::stopped(&mut self.shutdown).await;
                    return;
                }
                SessionEnd::Retry { error, got_data } => {
                    if got_data {
                        attempt = 0;
                    }
                    let delay = self.config.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    (error, delay)
                }
                SessionEnd::BackOffHard { error } => {
                    attempt = attempt.saturating_add(1);
                    (error, self.config.backoff.max)
                }
            };
            tracing::warn!(connection = self.id, %error, retry_in_ms = delay.as_millis(), "feed connection lost");
            let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            self.status.update_connection(self.id, |c| {
                c.state = ConnectionState::BackingOff {
                    attempt,
                    retry_in_ms,
                };
                c.reconnects += 1;
                c.last_error = Some(error);
            });
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = crate::shutdown::stopped(&mut self.shutdown) => break,
            }
        }
        self.set_state(ConnectionState::Stopped);
    }

    fn set_state(&self, state: ConnectionState) {
        self.status.update_connection(self.id, |c| c.state = state);
    }

    async fn connect(&self) -> Result<FeedSocket, SessionEnd> {
        let url = self.config.connect_url();
        let connecting = tokio_tungstenite::connect_async(url.as_str());
        match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok((socket, _response))) => Ok(socket),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                let status = response.status().as_u16();
                Err(match status {
                    401 | 403 => SessionEnd::AuthFailed {
                        reason: format!("feed handshake refused with HTTP {status}"),
                    },
                    // Too-fast reconnects or a blocked client (reference §10.3).
                    429 => SessionEnd::BackOffHard {
                        error: "feed handshake answered HTTP 429".into(),
                    },
                    _ => SessionEnd::Retry {
                        error: format!("feed handshake answered HTTP {status}"),
                        got_data: false,
                    },
                })
            }
            // The error text of a failed connect can include the URL, which holds the
            // token: report only the kind of failure.
            Ok(Err(error)) => Err(SessionEnd::Retry {
                error: connect_error_kind(&error).into(),
                got_data: false,
            }),
            Err(_) => Err(SessionEnd::Retry {
                error: "connect timed out".into(),
                got_data: false,
            }),
        }
    }

    async fn session(&mut self, mut socket: FeedSocket) -> SessionEnd {
        self.set_state(ConnectionState::Connected {
            since_ms: now_ns() / 1_000_000,
        });
        tracing::info!(connection = self.id, "feed connected");
        let mut subscribed = SubscriptionPlan::new();
        // The plan last brought onto this connection. The supervisor replaces the Arc
        // only when the plan changes, so a pointer comparison keeps the per-message cost
        // of this check constant however many instruments the connection carries.
        let mut synced: Option<Arc<SubscriptionPlan>> = None;
        let mut got_data = false;
        loop {
            let desired = self.plan.borrow_and_update().clone();
            if !synced.as_ref().is_some_and(|s| Arc::ptr_eq(s, &desired)) {
                if let Err(error) = sync_subscriptions(&mut socket, &mut subscribed, &desired).await
                {
                    return end_after_failed_send(&mut socket, error, got_data).await;
                }
                synced = Some(desired);
            }
            tokio::select! {
                message = tokio::time::timeout(self.config.inactivity_timeout, socket.next()) => {
                    let message = match message {
                        Err(_) => return SessionEnd::Retry {
                            error: format!("no message for {:?}: feed stalled", self.config.inactivity_timeout),
                            got_data,
                        },
                        Ok(None) => return SessionEnd::Retry { error: "feed closed the connection".into(), got_data },
                        Ok(Some(Err(error))) => return SessionEnd::Retry { error: error.to_string(), got_data },
                        Ok(Some(Ok(message))) => message,
                    };
                    match message {
                        Message::Binary(frame) => {
                            if let Some(end) = disconnect_in(&frame) {
                                return end;
                            }
                            got_data = true;
                            let event = FeedEvent { received_at_ns: now_ns(), payload: FeedPayload::Frame(frame) };
                            if self.events.send(event).await.is_err() {
                                return SessionEnd::Shutdown;
                            }
                        }
                        Message::Close(frame) => {
                            let error = frame.map_or_else(|| "feed sent close".into(), |f| format!("feed sent close {}: {}", f.code, f.reason));
                            return SessionEnd::Retry { error, got_data };
                        }
                        // Pings are answered by tungstenite while we keep polling; text
                        // frames are not part of the v2 feed.
                        _ => {}
                    }
                }
                changed = self.plan.changed() => if changed.is_err() { return SessionEnd::Shutdown },
                _ = crate::shutdown::stopped(&mut self.shutdown) => {
                    let goodbye = async {
                        let _ = socket.send(Message::text(FeedRequest::Disconnect.to_json())).await;
                        let _ = socket.close(None).await;
                    };
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, goodbye).await;
                    return SessionEnd::Shutdown;
                }
            }
        }
    }
}

/// A send failed, usually because Dhan closed the connection. Dhan sends a disconnect
/// packet before it closes, and that packet may be waiting unread: a peer that closes
/// with our requests unread resets the connection, which fails our next send before we
/// have read its reply. Reading what already arrived lets a refused token end the
/// session as `AuthFailed` instead of a retry that would be refused the same way.
async fn end_after_failed_send(
    socket: &mut FeedSocket,
    error: String,
    got_data: bool,
) -> SessionEnd {
    let last_word = async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Binary(frame) = message
                && let Some(end) = disconnect_in(&frame)
            {
                return Some(end);
            }
        }
        None
    };
    match tokio::time::timeout(LAST_WORD_TIMEOUT, last_word).await {
        Ok(Some(end)) => end,
        Ok(None) | Err(_) => SessionEnd::Retry { error, got_data },
    }
}

/// A code-50 packet in `frame`, turned into what to do about it.
fn disconnect_in(frame: &[u8]) -> Option<SessionEnd> {
    let reason = decode_frame(frame).find_map(|packet| match packet {
        Ok(packet) => match packet.body {
            PacketBody::Disconnect { reason } => Some(reason),
            _ => None,
        },
        Err(_) => None,
    })?;
    let reason = DisconnectReason::from_code(reason);
    let error = format!(
        "Dhan disconnected the feed: {} ({})",
        reason.description(),
        reason.code()
    );
    Some(match reason.policy() {
        ReconnectPolicy::StopAuthFailure => SessionEnd::AuthFailed { reason: error },
        ReconnectPolicy::BackOffHard | ReconnectPolicy::ShrinkSubscriptions => {
            SessionEnd::BackOffHard { error }
        }
        ReconnectPolicy::Retry => SessionEnd::Retry {
            error,
            got_data: false,
        },
    })
}

/// Brings the connection's subscriptions from `subscribed` to `desired`: unsubscribes
/// first (so the connection never holds more than its limit), then subscribes, in
/// messages of at most 100 instruments.
async fn sync_subscriptions(
    socket: &mut FeedSocket,
    subscribed: &mut SubscriptionPlan,
    desired: &SubscriptionPlan,
) -> Result<(), String> {
    if subscribed == desired {
        return Ok(());
    }
    let mut requests = Vec::new();
    for mode in [FeedMode::Ticker, FeedMode::Quote, FeedMode::Full] {
        let leaving: Vec<InstrumentKey> = subscribed
            .iter()
            .filter(|(key, m)| **m == mode && desired.get(key) != Some(&mode))
            .map(|(key, _)| *key)
            .collect();
        requests.extend(unsubscribe_batches(mode, &leaving));
    }
    for mode in [FeedMode::Ticker, FeedMode::Quote, FeedMode::Full] {
        let joining: BTreeSet<InstrumentKey> = desired
            .iter()
            .filter(|(key, m)| **m == mode && subscribed.get(key) != Some(&mode))
            .map(|(key, _)| *key)
            .collect();
        let joining: Vec<InstrumentKey> = joining.into_iter().collect();
        requests.extend(subscribe_batches(mode, &joining));
    }
    for request in requests {
        socket
            .send(Message::text(request.to_json()))
            .await
            .map_err(|e| format!("sending subscriptions: {e}"))?;
    }
    subscribed.clone_from(desired);
    Ok(())
}

fn connect_error_kind(error: &tokio_tungstenite::tungstenite::Error) -> &'static str {
    use tokio_tungstenite::tungstenite::Error;
    match error {
        Error::Io(_) => "could not connect to the feed (I/O error)",
        Error::Tls(_) => "TLS handshake with the feed failed",
        Error::Url(_) => "the feed URL is invalid",
        Error::Protocol(_) => "WebSocket handshake with the feed failed",
        _ => "could not connect to the feed",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::SinkExt;
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::Message;

    use super::{SessionEnd, end_after_failed_send};
    use crate::codec::encode_packet;
    use crate::packet::{Packet, PacketBody};
    use instruments::{ExchangeSegment, InstrumentKey};

    /// Dhan's way of refusing an expired token: a disconnect packet, a close, and the
    /// socket dropped with our request unread (which resets the connection).
    async fn refusing_server(listener: TcpListener) {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        // Let the client's first request arrive, and leave it unread.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut packet = Vec::new();
        let body = PacketBody::Disconnect { reason: 807 };
        let key = InstrumentKey::new(ExchangeSegment::IdxI, 0);
        encode_packet(&Packet { key, body }, &mut packet);
        let _ = socket.send(Message::Binary(packet.into())).await;
        let _ = socket.send(Message::Close(None)).await;
    }

    #[tokio::test]
    async fn a_send_failed_by_a_reset_is_explained_by_the_disconnect_packet_before_it() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(refusing_server(listener));
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
            .await
            .expect("connect");
        socket.send(Message::text("{}")).await.expect("first send");
        server.await.expect("server ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The reset has arrived: sending fails, with the packet still unread.
        let mut failed = None;
        for _ in 0..10 {
            if let Err(error) = socket.send(Message::text("{}")).await {
                failed = Some(error.to_string());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let error = failed.expect("a send on a reset connection fails");
        match end_after_failed_send(&mut socket, error, false).await {
            SessionEnd::AuthFailed { reason } => assert!(reason.contains("807"), "{reason}"),
            _ => panic!("a refused token must not be retried"),
        }
    }
}
