//! One WebSocket connection after the upgrade: reads the client's requests, keeps its
//! subscriptions, pings it, and ends it.
//!
//! The session is the connection's one task. It owns the socket's read half
//! ([`ClientReader`]); the write half belongs to a writer shard ([`super::shard`]),
//! reached through the session's [`Outlet`]: replies, pings and subscriptions go there
//! as commands, and the shard delivers the channels' publications without waking the
//! session. The session ends when the shard has finished with the socket (after the
//! close frame, whoever decided to close), after a bounded wait for the client's reply.
//!
//! Every client message spends from the connection's [`MessageBudget`]; at every
//! heartbeat the session's [`Standing`] is checked again.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::budget::{MessageBudget, Verdict};
use super::channel::{self, Endpoint};
use super::client::{ClientReader, Incoming, ReadError};
use super::close::Close;
use super::connections::ConnectionSlot;
use super::framing::{self, opcode};
use super::link::Outlet;
use super::protocol::{Reply, Request, now_ms, parse_request};
use super::revocation::Standing;
use crate::state::WsState;
use auth::Principal;
use edge::error::ErrorCode;

/// Largest message a client may send (requests are small JSON).
const MAX_CLIENT_MESSAGE_BYTES: usize = 64 << 10;

/// A ping, framed: the same two bytes for every connection.
static PING: Bytes = Bytes::from_static(&[0x80 | opcode::PING, 0]);

/// Keeps `ws_connections` right however the session ends.
struct Connected;

impl Connected {
    fn new() -> Self {
        metrics::gauge!("ws_connections").increment(1.0);
        Self
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        metrics::gauge!("ws_connections").decrement(1.0);
    }
}

/// Who a connection was admitted for, and what it holds while it lives.
#[derive(Debug)]
pub(super) struct Admission {
    pub principal: Principal,
    /// The token's `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// The user's claim on this connection under the per-user cap.
    pub slot: ConnectionSlot,
    /// Admitted without a token (`--public-market-data`): market channels only.
    pub anonymous: bool,
}

/// The upgraded socket, and what it negotiated.
pub(super) struct Upgraded {
    pub socket: TcpStream,
    /// Bytes the client sent after its handshake, read with it.
    pub already: Bytes,
    /// The connection negotiated permessage-deflate.
    pub deflate: bool,
}

struct Session {
    state: WsState,
    principal: Principal,
    endpoint: Endpoint,
    outlet: Outlet,
    /// The channels held.
    channels: HashSet<Arc<str>>,
    max_channels: usize,
    budget: MessageBudget,
    standing: Standing,
    anonymous: bool,
}

/// Serves one upgraded connection until it closes.
#[tracing::instrument(
    name = "ws_session",
    skip_all,
    fields(endpoint = endpoint.path(), user = %admission.principal.user, deflate = upgraded.deflate)
)]
pub(super) async fn run(
    upgraded: Upgraded,
    state: WsState,
    admission: Admission,
    endpoint: Endpoint,
) {
    let _connected = Connected::new();
    let Admission {
        principal,
        expires_at,
        slot: _slot,
        anonymous,
    } = admission;
    let standing = Box::pin(Standing::at_start(&state, &principal, expires_at)).await;
    let config = *state.hub.config();
    let Upgraded {
        socket,
        already,
        deflate,
    } = upgraded;
    let (read, write) = socket.into_split();
    let outlet = state.hub.shards().attach(write, deflate);
    let mut reader = ClientReader::new(
        read,
        &already,
        config.read_buffer_bytes,
        deflate,
        MAX_CLIENT_MESSAGE_BYTES,
    );
    // It may share the HTTP connection's whole read buffer: not kept for the session.
    drop(already);
    let max_channels = state.limits.ws_channels(principal.tier);
    let mut session = Session {
        state,
        principal,
        endpoint,
        outlet,
        channels: HashSet::new(),
        max_channels,
        budget: MessageBudget::new(&config),
        standing,
        anonymous,
    };
    session.welcome();
    let reading = session.serve(&mut reader, config.heartbeat).await;
    if reading {
        await_close_reply(&mut reader, config.write_deadline).await;
    }
    tracing::debug!(
        user = %session.principal.user,
        endpoint = endpoint.path(),
        channels = session.channels.len(),
        reason = session.outlet.link.closing().map_or("unknown", Close::name),
        "websocket closed"
    );
}

/// After our close frame: waits (bounded) for the client's reply, as RFC 6455 asks, so
/// the client can read our close frame before the connection goes.
async fn await_close_reply(reader: &mut ClientReader, deadline: std::time::Duration) {
    let _ = tokio::time::timeout(deadline, async {
        while let Ok(message) = reader.next().await {
            if matches!(message, Incoming::Close(_)) {
                break;
            }
        }
    })
    .await;
}

impl Session {
    /// Reads requests and pings until the shard is done with the socket (after the
    /// close frame, whoever closed). Returns whether the client may still send (its
    /// close reply is then awaited).
    async fn serve(&mut self, reader: &mut ClientReader, every: std::time::Duration) -> bool {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        let mut reading = true;
        loop {
            tokio::select! {
                biased;
                () = self.outlet.link.finished() => break,
                incoming = reader.next(), if reading => {
                    last_seen = Instant::now();
                    reading = self.incoming(incoming).await;
                }
                // Boxed, like requests: the futures that reach the store are large,
                // and a session that held them inline would hold their size for its
                // whole life, idle or not.
                _ = heartbeat.tick() => Box::pin(self.heartbeat(last_seen.elapsed())).await,
            }
        }
        reading
    }

    /// The first message: who the client is and the rules.
    fn welcome(&mut self) {
        let config = *self.state.hub.config();
        let user = self.principal.user.clone();
        self.control(&Reply::Welcome {
            endpoint: self.endpoint.path(),
            user: &user,
            tier: self.principal.tier,
            max_channels: self.max_channels,
            heartbeat_ms: u64::try_from(config.heartbeat.as_millis()).unwrap_or(u64::MAX),
            publish_interval_ms: u64::try_from(config.publish_interval.as_millis())
                .unwrap_or(u64::MAX),
        });
    }

    /// Every heartbeat: close a silent client, or one whose access ended; ping the rest.
    async fn heartbeat(&mut self, silent_for: std::time::Duration) {
        if self.outlet.link.closing().is_some() {
            return;
        }
        if silent_for > self.state.hub.config().idle_timeout() {
            self.outlet.close(Close::HeartbeatTimeout);
        } else if let Some(revoked) = self.standing.check(&self.state, &self.principal).await {
            self.outlet.close(Close::Revoked(revoked));
        } else {
            self.outlet.control(PING.clone());
        }
    }

    /// Handles one read; returns whether to keep reading.
    async fn incoming(&mut self, incoming: Result<Incoming, ReadError>) -> bool {
        if let Ok(message) = &incoming
            && !self.within_budget(message)
        {
            // Keep reading: after a refusal, and after a close for flooding until the
            // client answers the close frame, as after any close the server decides on.
            return true;
        }
        let message = match incoming {
            Ok(message) => message,
            Err(error) => {
                self.outlet.close(match error {
                    ReadError::TooBig => Close::MessageTooBig,
                    ReadError::InvalidData => Close::InvalidData,
                    ReadError::Protocol => Close::ProtocolError,
                    ReadError::Ended => Close::Gone,
                });
                return false;
            }
        };
        match message {
            Incoming::Text(text) => Box::pin(self.request(&text)).await,
            Incoming::Binary => self.error(
                ErrorCode::BinaryNotSupported,
                "requests are JSON text messages",
                None,
            ),
            Incoming::Ping(payload) => {
                if self.outlet.link.closing().is_none() {
                    self.outlet
                        .control(framing::encode(opcode::PONG, &payload, false));
                }
            }
            // Any frame proves the client alive.
            Incoming::Pong => {}
            Incoming::Close(code) => {
                self.outlet.close(Close::ClientClosed(code));
                return false;
            }
        }
        true
    }

    /// Spends one message from the budget; whether to act on it. A refused request is
    /// answered with `rate_limited`; a client ignoring refusals is closed (1008).
    fn within_budget(&mut self, message: &Incoming) -> bool {
        if matches!(message, Incoming::Close(_)) {
            return true;
        }
        match self.budget.spend() {
            Verdict::Accept => true,
            Verdict::Refuse => {
                if matches!(message, Incoming::Text(_) | Incoming::Binary) {
                    let config = self.state.hub.config();
                    let text = format!(
                        "over the budget of {} messages per second (bursts of {}); this one \
                         was not acted on",
                        config.client_messages_per_sec, config.client_message_burst
                    );
                    self.error(ErrorCode::RateLimited, &text, None);
                }
                false
            }
            Verdict::Close => {
                tracing::debug!(user = %self.principal.user, "websocket client flooding");
                self.outlet.close(Close::MessageFlood);
                false
            }
        }
    }

    async fn request(&mut self, text: &str) {
        let envelope = match parse_request(text) {
            Ok(envelope) => envelope,
            Err(error) => {
                self.error(error.code, &error.message, error.id.as_ref());
                return;
            }
        };
        let id = envelope.id.as_ref();
        match envelope.request {
            Request::Subscribe { channels } => self.subscribe(&channels, id).await,
            Request::Unsubscribe { channels } => self.unsubscribe(&channels, id),
            Request::Ping => self.control(&Reply::Pong {
                server_ts_ms: now_ms(),
                id,
            }),
        }
    }

    /// Resolves every name, or refuses the whole request with the first problem.
    /// Strategy channels must name the caller's own strategies. Anyone else's, like a
    /// strategy that does not exist, is an unknown channel: the HTTP routes answer 404
    /// rather than 403 for the same reason, so ids reveal nothing.
    async fn owns_strategies(&mut self, channels: &[channel::Channel], id: Option<&Value>) -> bool {
        for channel in channels {
            let channel::ChannelKind::Strategy(strategy) = channel.kind else {
                continue;
            };
            if self.anonymous {
                let message = format!(
                    "channel {}: strategy channels need a token; connect with one",
                    channel.name
                );
                self.error(ErrorCode::Unauthorized, &message, id);
                return false;
            }
            let found = self
                .state
                .store
                .strategies()
                .get(&self.principal.user, strategy)
                .await;
            let refusal = match found {
                Ok(Some(_)) => continue,
                Ok(None) => (
                    ErrorCode::UnknownChannel,
                    format!("channel {}: you have no strategy {strategy}", channel.name),
                ),
                Err(error) => (
                    ErrorCode::StorageUnavailable,
                    format!(
                        "channel {}: cannot check the strategy: {error}",
                        channel.name
                    ),
                ),
            };
            self.error(refusal.0, &refusal.1, id);
            return false;
        }
        true
    }

    fn resolve(&mut self, names: &[String], id: Option<&Value>) -> Option<Vec<channel::Channel>> {
        let registry = self.state.market.registry().clone();
        let mut resolved: Vec<channel::Channel> = Vec::with_capacity(names.len());
        // Duplicates (as sent, or after canonicalising) are resolved and kept once.
        let mut sent: HashSet<&str> = HashSet::with_capacity(names.len());
        let mut canonical: HashSet<Arc<str>> = HashSet::with_capacity(names.len());
        let mut problems = Vec::new();
        for name in names {
            if !sent.insert(name.as_str()) {
                continue;
            }
            match channel::resolve(&registry, self.endpoint, name) {
                Ok(c) if canonical.insert(c.name.clone()) => resolved.push(c),
                Ok(_) => {}
                Err(error) => problems.push(error),
            }
        }
        let Some(first) = problems.first() else {
            return Some(resolved);
        };
        let message: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        self.error(first.code, &message.join("; "), id);
        None
    }

    async fn subscribe(&mut self, names: &[String], id: Option<&Value>) {
        let Some(channels) = self.resolve(names, id) else {
            return;
        };
        self.forget_stopped();
        // The cap first: a request over it costs no database reads.
        let new = channels
            .iter()
            .filter(|c| !self.channels.contains(&c.name))
            .count();
        if self.channels.len() + new > self.max_channels {
            let message = format!(
                "a {} connection may hold {} channels; this one holds {} and asked for {} more",
                self.principal.tier,
                self.max_channels,
                self.channels.len(),
                new
            );
            self.error(ErrorCode::TooManyChannels, &message, id);
            return;
        }
        if !self.owns_strategies(&channels, id).await {
            return;
        }
        let accepted: Vec<Arc<str>> = channels.iter().map(|c| c.name.clone()).collect();
        self.control(&Reply::Ack {
            action: "subscribe",
            channels: &accepted,
            subscribed: self.channels.len() + new,
            id,
        });
        for channel in &channels {
            let topic = self.state.hub.topic(&self.state, channel);
            self.channels.insert(channel.name.clone());
            self.outlet.subscribe(channel.name.clone(), topic);
        }
    }

    fn unsubscribe(&mut self, names: &[String], id: Option<&Value>) {
        let Some(channels) = self.resolve(names, id) else {
            return;
        };
        self.forget_stopped();
        let removed: Vec<Arc<str>> = channels
            .into_iter()
            .filter(|c| self.channels.remove(&c.name))
            .map(|c| c.name)
            .collect();
        for name in &removed {
            self.outlet.unsubscribe(name.clone());
        }
        if removed.is_empty() {
            self.error(
                ErrorCode::NotSubscribed,
                "none of these channels is subscribed on this connection",
                id,
            );
            return;
        }
        self.control(&Reply::Ack {
            action: "unsubscribe",
            channels: &removed,
            subscribed: self.channels.len(),
            id,
        });
    }

    fn error(&mut self, code: ErrorCode, message: &str, id: Option<&Value>) {
        self.control(&Reply::Error { code, message, id });
    }

    fn control(&mut self, reply: &Reply<'_>) {
        self.outlet.control(framing::text(&reply.encode()));
    }

    /// Forgets the channels the shard stopped (their publisher is gone).
    fn forget_stopped(&mut self) {
        for name in self.outlet.link.take_stopped() {
            self.channels.remove(&name);
        }
    }
}
