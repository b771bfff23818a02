//! The abuse suite: what an outsider would try against the sandbox and the server's
//! shared resources, one test per hole, each against the real server on
//! `127.0.0.1:0` (or the real plugin host where no server is needed).
//!
//! - [`sandbox`]: plugins that block in host calls, oversized results and errors,
//!   input that must not quarantine, the artifact cache;
//! - [`websocket`]: connection caps, upgrade budgets, client-message budgets, channel
//!   caps, sessions outliving their token;
//! - [`requests`]: login limits, trusted proxies, password hashing, request timeouts,
//!   early rejection;
//! - [`quotas`]: saved strategies, accounts, legs, M2M retention, history read bounds;
//! - [`secrets`]: development mode on the network, redirects, redaction, credentials
//!   keys, the admin audit.

mod quotas;
mod requests;
mod sandbox;
mod secrets;
mod websocket;
