//! Market data in: the DhanHQ v2 protocol ([`dhan`]: codec, requests, live client, REST)
//! and the built-in DhanHQ simulator ([`sim`]) that speaks the same protocol over
//! loopback when no credentials are set.
//!
//! The feed knows bytes, connections and subscriptions; it hands decoded packets up to
//! the market layer and knows nothing of chains or analytics.

pub mod dhan;
pub mod event;
pub mod record;
pub mod sim;
pub mod status;
