//! The WebSocket API: `/ws/live` (chains and instruments) and `/ws/fo/stream` (F&O
//! analytics), one JSON protocol for both.
//!
//! The shape follows what large fan-out servers agree on: one publisher per active
//! channel ([`hub`], [`publisher`]) serialises each update once, frames it once
//! ([`framing`]) and publishes it on a latest-value-wins watch. A few writer shards
//! ([`shard`], one per core) own every connection's write half: on a publication a
//! shard wakes once, queues the shared frames for each subscriber in a byte-bounded
//! queue ([`conn`], [`outbox`]) and writes them straight to the sockets. Each client
//! gets deltas while it keeps up and a snapshot after anything was conflated away, is
//! pinged, and is closed with an explicit code when it is dead (4012) or cannot keep up
//! (4008). Nothing is buffered without bound. Each connection's session ([`session`])
//! reads the client's frames ([`client`]) and answers its requests through its shard
//! ([`link`]). A connection that negotiates permessage-deflate gets each publication
//! compressed once for all its subscribers ([`deflate`]). Routes
//! authenticate before upgrading ([`upgrade`]) and sit outside the REST API's access
//! gate; the server mounts them over its state through [`WsState`] ([`state`]).
//!
//! Fair use: a user holds a bounded number of connections ([`connections`]), each
//! upgrade spends from the user's request budget, each connection has a budget of
//! client messages ([`budget`]; 1008 when ignored), a request names at most
//! [`protocol::MAX_CHANNELS_PER_REQUEST`] channels, and a session ends (4001) with its
//! token or its user's access ([`revocation`]).

#![forbid(unsafe_code)]

mod analytics;
mod budget;
mod channel;
mod client;
mod close;
mod config;
mod conn;
mod connections;
mod deflate;
mod delta;
mod expiry;
mod frame;
mod framing;
mod hub;
mod link;
mod outbox;
mod precision;
mod protocol;
mod publisher;
mod revocation;
mod session;
mod shard;
mod state;
mod upgrade;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

pub use close::{HEARTBEAT_TIMEOUT, SLOW_CONSUMER};
pub use config::WsConfig;
pub use delta::apply_chain_patch;
pub use hub::Hub;
pub use protocol::{Envelope, MAX_CHANNELS_PER_REQUEST, Request, RequestError, parse_request};
pub use revocation::ACCESS_REVOKED;
pub use state::{ChainViews, FoView, ViewFuture, WsState};

/// The WebSocket routes (they authenticate themselves), over any server state that
/// yields a [`WsState`].
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WsState: FromRef<S>,
{
    Router::new()
        .route("/ws/live", get(upgrade::live))
        .route("/ws/fo/stream", get(upgrade::fo_stream))
}
