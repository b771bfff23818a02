//! The simulator's feed WebSocket: Dhan's v2 query-string auth (its form checked by
//! `handshake` first), JSON subscribe requests, binary packets out (one per message
//! unless stacking is on), pings every 10 s, and Dhan's code-50 disconnects for bad
//! credentials, over-limit subscriptions and malformed requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use tokio::sync::broadcast::error::RecvError;

use super::connections::Control;
use super::handshake::{FeedQuery, parse_feed_query};
use super::server::SimShared;
use super::tick::{TickBatch, snapshot_packets};
use dhan::codec::encode_packet;
use dhan::packet::{Packet, PacketBody};
use dhan::requests::{FeedMode, FeedRequest, MAX_INSTRUMENTS_PER_MESSAGE};
use instruments::{ExchangeSegment, InstrumentKey};

/// Dhan's per-connection instrument limit.
const MAX_INSTRUMENTS_PER_CONNECTION: usize = 5_000;
/// Dhan pings every 10 s.
const PING_EVERY: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close reply.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Largest stacked message when stacking is on.
const STACK_LIMIT: usize = 16 << 10;

/// The feed handshake. The front's checks come first (a malformed query is answered
/// 400, as Dhan's proxies do); after that, like Dhan, the upgrade itself succeeds and a
/// refusal of the credentials comes as a packet.
pub(crate) async fn upgrade(
    RawQuery(raw): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(shared): State<Arc<SimShared>>,
) -> Response {
    shared.connections.count_attempt();
    let query = match parse_feed_query(raw.as_deref()) {
        Ok(query) => query,
        Err(refusal) => return refusal.into_response(),
    };
    match ws {
        Ok(ws) => ws
            .read_buffer_size(4 << 10)
            .on_upgrade(move |socket| session(socket, query, shared)),
        Err(rejection) => rejection.into_response(),
    }
}

/// Which reason code Dhan would refuse these credentials with, if any.
fn refusal(query: &FeedQuery, shared: &SimShared) -> Option<u16> {
    let credentials = &shared.config.credentials;
    if query.client_id != credentials.client_id() {
        return Some(810);
    }
    if query.token != credentials.access_token() {
        return Some(809);
    }
    if shared.token_expired.load(Ordering::SeqCst) {
        return Some(807);
    }
    None
}

fn disconnect_packet(reason: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let packet = Packet {
        key: InstrumentKey::new(ExchangeSegment::IdxI, 0),
        body: PacketBody::Disconnect { reason },
    };
    encode_packet(&packet, &mut out);
    out
}

/// Sends Dhan's disconnect packet and closes the way a WebSocket server does: it waits
/// (briefly) for the client's close reply, reading and dropping whatever the client sent
/// meanwhile. Dropping the socket with the client's requests unread would reset the
/// connection, and a reset discards what is still queued to send, the disconnect packet
/// included, so the client would see a bare reset instead of the reason.
async fn refuse(mut socket: WebSocket, reason: u16) {
    let _ = socket
        .send(Message::Binary(disconnect_packet(reason).into()))
        .await;
    let _ = socket.send(Message::Close(None)).await;
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
}

/// Subscribed modes of one instrument, as a bit set (Dhan allows several at once).
#[derive(Debug, Clone, Copy, Default)]
struct Modes(u8);

impl Modes {
    const ALL: [FeedMode; 3] = [FeedMode::Ticker, FeedMode::Quote, FeedMode::Full];

    fn bit(mode: FeedMode) -> u8 {
        match mode {
            FeedMode::Ticker => 1,
            FeedMode::Quote => 2,
            FeedMode::Full => 4,
        }
    }

    fn iter(self) -> impl Iterator<Item = FeedMode> {
        Self::ALL
            .into_iter()
            .filter(move |m| self.0 & Self::bit(*m) != 0)
    }
}

/// One connection's subscriptions: instrument to subscribed modes.
#[derive(Debug, Default)]
struct Subscribed(HashMap<InstrumentKey, Modes>);

impl Subscribed {
    /// Adds `instruments` in `mode` and returns their current snapshots, or the
    /// disconnect Dhan sends when the connection would pass its instrument limit.
    fn subscribe(
        &mut self,
        mode: FeedMode,
        instruments: &[InstrumentKey],
        shared: &SimShared,
    ) -> Result<Vec<Vec<u8>>, Control> {
        let new = instruments
            .iter()
            .filter(|k| !self.0.contains_key(k))
            .count();
        if self.0.len() + new > MAX_INSTRUMENTS_PER_CONNECTION {
            return Err(Control::Disconnect(804));
        }
        let mut out = Vec::new();
        let market = shared.market.lock();
        for key in instruments {
            let modes = self.0.entry(*key).or_default();
            modes.0 |= Modes::bit(mode);
            if let Some(quote) = market.quote(key) {
                snapshot_packets(key, quote, mode, &mut out);
            }
        }
        Ok(out)
    }

    fn unsubscribe(&mut self, mode: FeedMode, instruments: &[InstrumentKey]) {
        for key in instruments {
            if let Some(modes) = self.0.get_mut(key) {
                modes.0 &= !Modes::bit(mode);
                if modes.0 == 0 {
                    self.0.remove(key);
                }
            }
        }
    }

    /// This connection's packets of one tick, walking whichever side is smaller.
    fn packets<'a>(&self, batch: &'a TickBatch) -> Vec<&'a [u8]> {
        let mut packets = Vec::new();
        if batch.len() < self.0.len() {
            for key in batch.keys() {
                if let Some(modes) = self.0.get(key) {
                    for mode in modes.iter() {
                        packets.extend(batch.packets(key, mode));
                    }
                }
            }
        } else {
            for (key, modes) in &self.0 {
                for mode in modes.iter() {
                    packets.extend(batch.packets(key, mode));
                }
            }
        }
        packets
    }
}

/// What the session loop does after handling one event.
enum Step {
    Continue,
    /// Stop, with the way to close (`None`: a plain close frame).
    End(Option<Control>),
}

async fn session(mut socket: WebSocket, query: FeedQuery, shared: Arc<SimShared>) {
    if let Some(reason) = refusal(&query, &shared) {
        refuse(socket, reason).await;
        return;
    }
    let (id, mut control) = shared.connections.register();
    let mut ticks = shared.ticks.subscribe();
    let mut subscribed = Subscribed::default();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let end = loop {
        let step = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    on_request(&mut socket, text.as_str(), &mut subscribed, &shared).await
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => Step::End(None),
                Some(Ok(_)) => Step::Continue,
            },
            batch = ticks.recv() => match batch {
                Ok(batch) => on_tick(&mut socket, &batch, &subscribed, &shared).await,
                // A slow reader misses ticks rather than holding memory for them.
                Err(RecvError::Lagged(_)) => Step::Continue,
                Err(RecvError::Closed) => Step::End(None),
            },
            command = control.recv() => Step::End(command),
            _ = ping.tick() => match socket.send(Message::Ping(Vec::new().into())).await {
                Ok(()) => Step::Continue,
                Err(_) => Step::End(None),
            },
        };
        if let Step::End(end) = step {
            break end;
        }
    };
    shared.connections.remove(id);
    match end {
        Some(Control::Disconnect(reason)) => refuse(socket, reason).await,
        // Dropped without a close frame, as a dead network would.
        Some(Control::Abort) => drop(socket),
        None => {
            let _ = socket.send(Message::Close(None)).await;
        }
    }
}

/// One JSON request from the client: subscribe (answered with snapshots), unsubscribe,
/// disconnect, or something malformed (Dhan's code 814).
async fn on_request(
    socket: &mut WebSocket,
    text: &str,
    subscribed: &mut Subscribed,
    shared: &SimShared,
) -> Step {
    match FeedRequest::parse(text) {
        Ok(FeedRequest::Subscribe { mode, instruments }) => {
            let out = match subscribed.subscribe(mode, &instruments, shared) {
                Ok(out) => out,
                Err(control) => return Step::End(Some(control)),
            };
            let packets = out.iter().map(Vec::as_slice);
            match send_packets(socket, packets, shared.config.stack_packets).await {
                Ok(()) => Step::Continue,
                Err(_) => Step::End(None),
            }
        }
        Ok(FeedRequest::Unsubscribe { mode, instruments }) => {
            subscribed.unsubscribe(mode, &instruments);
            Step::Continue
        }
        Ok(FeedRequest::Disconnect) => Step::End(None),
        Err(error) => {
            tracing::debug!(%error, max = MAX_INSTRUMENTS_PER_MESSAGE, "simulator refused a feed request");
            Step::End(Some(Control::Disconnect(814)))
        }
    }
}

/// One tick: the packets of the instruments this connection subscribed to.
async fn on_tick(
    socket: &mut WebSocket,
    batch: &TickBatch,
    subscribed: &Subscribed,
    shared: &SimShared,
) -> Step {
    if batch.is_empty() || subscribed.0.is_empty() {
        return Step::Continue;
    }
    let packets = subscribed.packets(batch);
    match send_packets(socket, packets.into_iter(), shared.config.stack_packets).await {
        Ok(()) => Step::Continue,
        Err(_) => Step::End(None),
    }
}

/// Sends packets one per message, or stacked into messages of up to [`STACK_LIMIT`].
async fn send_packets<'a>(
    socket: &mut WebSocket,
    packets: impl Iterator<Item = &'a [u8]>,
    stack: bool,
) -> Result<(), axum::Error> {
    let mut pending = Vec::new();
    let mut any = false;
    for packet in packets {
        any = true;
        if !stack {
            socket.feed(Message::Binary(packet.to_vec().into())).await?;
            continue;
        }
        if pending.len() + packet.len() > STACK_LIMIT && !pending.is_empty() {
            socket
                .feed(Message::Binary(std::mem::take(&mut pending).into()))
                .await?;
        }
        pending.extend_from_slice(packet);
    }
    if !pending.is_empty() {
        socket.feed(Message::Binary(pending.into())).await?;
    }
    if any {
        socket.flush().await?;
    }
    Ok(())
}
