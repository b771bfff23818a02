//! DhanHQ v2, the client side: the binary feed's packets and codec, the JSON feed
//! requests and the URLs they go to, the live feed client (connections, backoff,
//! subscriptions), the REST client, and what the feed hands up: stamped events, their
//! recording, and the connections' status.
//!
//! The feed knows bytes, connections and subscriptions; it hands decoded packets up to
//! the market layer and knows nothing of chains or analytics.
#![forbid(unsafe_code)]

pub mod codec;
mod config;
pub mod disconnect;
pub mod endpoint;
pub mod event;
pub mod live;
pub mod packet;
pub mod record;
pub mod requests;
pub mod rest;
pub mod shutdown;
pub mod status;

pub use config::{DhanCredentials, DhanEndpoints};
