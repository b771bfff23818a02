//! One WebSocket connection after the upgrade: reads the client's requests, pumps its
//! channels' frames into its queue, pings it, and ends it.
//!
//! The connection is two tasks: this session (reading half, subscriptions, heartbeat)
//! and the [`writer`](super::writer) (writing half). They share the client's byte-bounded
//! queue. The session ends when the writer does (the writer ends after sending the
//! close frame, whoever decided to close), after a bounded wait for the client's reply.
//!
//! Every client message spends from the connection's [`MessageBudget`]; at every
//! heartbeat the session's [`Standing`] is checked again.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::budget::{MessageBudget, Verdict};
use super::channel::{self, Endpoint};
use super::connections::ConnectionSlot;
use super::protocol::{Reply, Request, now_ms, parse_request};
use super::revocation::Standing;
use super::subscriptions::Subscriptions;
use super::upgrade::Socket;
use super::writer::{self, Close, Link};
use crate::state::WsState;
use auth::Principal;
use edge::error::ErrorCode;

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

struct Session {
    state: WsState,
    principal: Principal,
    endpoint: Endpoint,
    link: Arc<Link>,
    subs: Subscriptions,
    max_channels: usize,
    budget: MessageBudget,
    standing: Standing,
    anonymous: bool,
}

/// Serves one upgraded connection until it closes.
/// `deflate`: the connection negotiated permessage-deflate.
#[tracing::instrument(
    name = "ws_session",
    skip_all,
    fields(endpoint = endpoint.path(), user = %admission.principal.user, deflate)
)]
pub(super) async fn run(
    socket: Socket,
    state: WsState,
    admission: Admission,
    endpoint: Endpoint,
    deflate: bool,
) {
    let _connected = Connected::new();
    let Admission {
        principal,
        expires_at,
        slot: _slot,
        anonymous,
    } = admission;
    let standing = Standing::at_start(&state, &principal, expires_at).await;
    let config = *state.hub.config();
    let (sink, mut stream) = socket.split();
    let link = Arc::new(Link::new(config.queue_bytes, deflate));
    let mut writer = tokio::spawn(writer::run(
        sink,
        link.clone(),
        config.write_deadline,
        config.queue_bytes,
    ));
    let max_channels = state.limits.ws_channels(principal.tier);
    let mut session = Session {
        state,
        principal,
        endpoint,
        link,
        subs: Subscriptions::default(),
        max_channels,
        budget: MessageBudget::new(&config),
        standing,
        anonymous,
    };
    session.welcome();
    let reading = session
        .serve(&mut stream, &mut writer, config.heartbeat)
        .await;
    if reading {
        await_close_reply(&mut stream, config.write_deadline).await;
    }
    tracing::debug!(
        user = %session.principal.user,
        endpoint = endpoint.path(),
        channels = session.subs.len(),
        dropped = session.subs.dropped,
        reason = session.link.closing().map_or("unknown", Close::name),
        "websocket closed"
    );
}

/// The client's half of the connection.
type Incoming = futures_util::stream::SplitStream<Socket>;

/// After our close frame: waits (bounded) for the client's reply, as RFC 6455 asks, so
/// the client can read our close frame before the connection goes.
async fn await_close_reply(stream: &mut Incoming, deadline: std::time::Duration) {
    let _ = tokio::time::timeout(deadline, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

impl Session {
    /// Reads requests, pulls channels and pings until the writer ends (it ends after
    /// the close frame, whoever closed). Returns whether the client may still send (its
    /// close reply is then awaited).
    async fn serve(
        &mut self,
        stream: &mut Incoming,
        writer: &mut tokio::task::JoinHandle<()>,
        every: std::time::Duration,
    ) -> bool {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        let mut reading = true;
        loop {
            let open = self.link.closing().is_none();
            let pulling = open && !self.subs.backlogged() && !self.subs.watchers.is_empty();
            let waiting_for_room = open && self.subs.backlogged();
            tokio::select! {
                biased;
                _ = &mut *writer => break,
                incoming = stream.next(), if reading => {
                    last_seen = Instant::now();
                    reading = self.incoming(incoming).await;
                }
                Some(changed) = self.subs.watchers.next(), if pulling => {
                    if let Some(name) = self.subs.on_change(changed) {
                        self.error(ErrorCode::ChannelClosed, &format!("channel {name} stopped publishing"), None);
                    }
                }
                () = self.link.room.notified(), if waiting_for_room => {}
                _ = heartbeat.tick() => self.heartbeat(last_seen.elapsed()).await,
            }
            if self.link.closing().is_none() {
                self.subs.pump(&self.link);
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
        if silent_for > self.state.hub.config().idle_timeout() {
            self.link.close(Close::HeartbeatTimeout);
        } else if let Some(revoked) = self.standing.check(&self.state, &self.principal).await {
            self.link.close(Close::Revoked(revoked));
        } else {
            self.push(Message::Ping(bytes::Bytes::new()), 2);
        }
    }

    /// Handles one read; returns whether to keep reading.
    async fn incoming(&mut self, incoming: Option<Result<Message, WsError>>) -> bool {
        if let Some(Ok(message)) = &incoming
            && !self.within_budget(message)
        {
            // Keep reading: after a refusal, and after a close for flooding until the
            // client answers the close frame, as after any close the server decides on.
            return true;
        }
        match incoming {
            Some(Ok(Message::Text(text))) => {
                self.request(text.as_str()).await;
                true
            }
            Some(Ok(Message::Binary(_))) => {
                self.error(
                    ErrorCode::BinaryNotSupported,
                    "requests are JSON text messages",
                    None,
                );
                true
            }
            // tungstenite answers pings itself; any frame proves the client alive.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => true,
            Some(Ok(Message::Close(_))) | None => {
                self.link.close(Close::Gone);
                false
            }
            Some(Err(error)) => {
                self.link.close(match error {
                    WsError::Capacity(_) => Close::MessageTooBig,
                    WsError::Utf8(_) => Close::InvalidData,
                    _ => Close::Gone,
                });
                false
            }
        }
    }

    /// Spends one message from the budget; whether to act on it. A refused request is
    /// answered with `rate_limited`; a client ignoring refusals is closed (1008).
    fn within_budget(&mut self, message: &Message) -> bool {
        if matches!(message, Message::Close(_)) {
            return true;
        }
        match self.budget.spend() {
            Verdict::Accept => true,
            Verdict::Refuse => {
                if matches!(message, Message::Text(_) | Message::Binary(_)) {
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
                self.link.close(Close::MessageFlood);
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
        // The cap first: a request over it costs no database reads.
        let new = channels
            .iter()
            .filter(|c| !self.subs.holds(&c.name))
            .count();
        if self.subs.len() + new > self.max_channels {
            let message = format!(
                "a {} connection may hold {} channels; this one holds {} and asked for {} more",
                self.principal.tier,
                self.max_channels,
                self.subs.len(),
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
            subscribed: self.subs.len() + new,
            id,
        });
        for channel in &channels {
            let topic = self.state.hub.topic(&self.state, channel);
            self.subs.add(channel.name.clone(), topic);
        }
    }

    fn unsubscribe(&mut self, names: &[String], id: Option<&Value>) {
        let Some(channels) = self.resolve(names, id) else {
            return;
        };
        let removed: Vec<Arc<str>> = channels
            .into_iter()
            .filter(|c| self.subs.remove(&c.name, &self.link))
            .map(|c| c.name)
            .collect();
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
            subscribed: self.subs.len(),
            id,
        });
    }

    fn error(&mut self, code: ErrorCode, message: &str, id: Option<&Value>) {
        self.control(&Reply::Error { code, message, id });
    }

    fn control(&mut self, reply: &Reply<'_>) {
        let text = reply.encode();
        let len = text.len();
        self.push(Message::Text(text), len);
    }

    /// Queues a control message; one that does not fit marks a slow consumer.
    fn push(&mut self, message: Message, len: usize) {
        let pushed = self.link.outbox.lock().push_control(message, len);
        match pushed {
            Ok(()) => self.link.wake(),
            Err(_) => self.link.close(Close::SlowConsumer),
        }
    }
}
