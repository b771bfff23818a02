//! optionhub: an Indian F&O market-data server whose analytics run as hot-swappable,
//! sandboxed WebAssembly components.
//!
//! Module map (data flows down the list; a module imports only from those below it):
//! - [`api`]: the HTTP API (axum), over [`api::AppState`];
//! - [`plugins`]: the Wasm analytics runtime (wasmtime): loading, sandboxing,
//!   hot-swapping and calling plugins;
//! - [`server`]: start-up and shutdown; [`cli`]: the command line;
//! - [`config`]: typed configuration; [`error`]: the HTTP error type;
//!   [`telemetry`]: logging.
//!
//! Later layers (DhanHQ `feed`, `market` state and chains, `ws`, `store`, `auth`) slot
//! in between `plugins` and `api` as they arrive.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod plugins;
pub mod server;
pub mod telemetry;
