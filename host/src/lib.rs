//! optionhub: an Indian F&O market-data server whose analytics run as hot-swappable,
//! sandboxed WebAssembly components.
//!
//! Module map (data flows down the list; a module imports only from those below it):
//! - [`api`]: the HTTP API (axum), over [`api::AppState`];
//! - [`ws`]: the WebSocket API (live chains, instruments, analytics), over the same
//!   state and mounted by [`api::router`];
//! - [`history`]: chain history: snapshots of the live chains written to the database
//!   in batches, and the simulator's backfill;
//! - [`portfolio`]: saved strategies' domain: exact money, sealed broker credentials,
//!   the M2M worker and its per-strategy publication hub (between `plugins` and `api`;
//!   the API hands the worker its valuation);
//! - [`plugins`]: the Wasm analytics runtime (wasmtime): loading, sandboxing,
//!   hot-swapping and calling plugins;
//! - [`feed`]: market data in: the DhanHQ v2 protocol, live client and simulator;
//! - [`instruments`]: the instrument registry (from Dhan's scrip master), which the
//!   feed and the market both use;
//! - [`server`]: start-up and shutdown; [`cli`]: the command line;
//! - [`calendar`]: the IST exchange calendar (sessions, holidays, expiry cut-off) over an
//!   injectable clock;
//! - [`config`]: typed configuration; [`error`]: the HTTP error type;
//!   [`telemetry`]: logging; [`secret_file`]: the generated key files, kept private.
//!
//! - [`market`]: live state and option chains, between `feed` and `plugins`;
//! - [`auth`]: roles, tiers, access tokens and password hashes; [`store`]: the database
//!   (SQLite or PostgreSQL), beneath everything that persists.
#![deny(unsafe_code)]

pub mod api;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod feed;
pub mod history;
pub mod instruments;
pub mod market;
pub mod pipeline;
pub mod plugins;
pub mod portfolio;
pub mod secret_file;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod ws;
