//! optionhub: an Indian F&O market-data server whose analytics run as hot-swappable,
//! sandboxed WebAssembly components.
//!
//! The lower layers are crates of their own (`crates/`), re-exported here under the
//! names the modules use; `docs/ARCHITECTURE.md` draws the graph. Data flows down the
//! list; a module imports only from those below it:
//! - [`api`]: the HTTP API (axum), over [`api::AppState`];
//! - [`ws`]: the WebSocket API (live chains, instruments, analytics), over the same
//!   state and mounted by [`api::router`];
//! - [`history`]: chain history: snapshots of the live chains written to the database
//!   in batches, and the simulator's backfill;
//! - [`portfolio`]: saved strategies' domain: exact money, sealed broker credentials,
//!   the M2M worker and its per-strategy publication hub (the API hands the worker its
//!   valuation);
//! - [`plugins`]: the Wasm analytics runtime (crate `plugin-host`) and the live Greeks
//!   of every chain;
//! - [`market`]: live state and option chains (crate `market`);
//! - [`feed`]: market data in: the DhanHQ v2 protocol and client (crate `dhan`) and the
//!   simulator (crate `dhan-sim`);
//! - [`instruments`]: the instrument registry from Dhan's scrip master (crate);
//! - [`calendar`]: the IST exchange calendar over an injectable clock (crate);
//! - [`server`]: start-up and shutdown; [`pipeline`]: the market data pipeline's
//!   wiring; [`cli`] and [`commands`]: the command line;
//! - [`config`]: the composition of every layer's configuration; [`telemetry`]: logs
//!   and metrics;
//! - [`store`]: the database (SQLite or PostgreSQL) and Redis (crate), over [`auth`]:
//!   roles, tiers, access tokens, password hashes and generated secret files (crate).
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod feed;
pub mod history;
pub mod pipeline;
pub mod plugins;
pub mod portfolio;
pub mod server;
pub mod telemetry;

// Layer crates, re-exported under the names the modules above use.
pub use auth;
pub use auth::secret_file;
pub use calendar;
pub use dhan::shutdown;
pub use edge;
pub use instruments;
pub use market;
pub use store;
pub use ws;
