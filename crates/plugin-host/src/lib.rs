//! The WebAssembly analytics runtime: loading, sandboxing, hot-swapping and calling the
//! plugins that implement the worlds in `wit/`.
//!
//! - [`engine`]: the process's wasmtime engine and CPU-deadline ticker;
//! - [`artifacts`]: compilation through an on-disk cache of precompiled artifacts;
//! - [`contract`]: which world a component implements, at which WIT version;
//! - [`loader`]: the gates a component passes before it may serve (self-test on
//!   [`golden`] inputs, output checks in [`validate`]);
//! - [`sandbox`]: the deny-all store each call runs in; [`clock_waits`]: why no call
//!   can wait inside host code;
//! - [`plugin`]: a loaded version and how a call into it runs;
//! - [`registry`]: active versions, rollback history, quarantine;
//! - [`host`]: the facade the rest of the server uses; [`watcher`]: hot reload from a
//!   directory; [`config`]: the runtime's knobs.
//!
//! Unsafe code is denied here (by the workspace lints), not forbidden as in the other
//! crates: wasmtime's loading of a precompiled artifact is `unsafe`, and
//! [`artifacts`] holds that one scoped, reasoned exception.

pub mod artifacts;
pub mod bindings;
pub mod clock_waits;
pub mod config;
pub mod contract;
pub mod engine;
pub mod error;
pub mod golden;
pub mod host;
pub mod loader;
pub mod plugin;
pub mod registry;
pub mod sandbox;
pub mod stats;
pub mod summary;
pub mod validate;
pub mod watcher;

pub use bindings::{custom, oi, strategy, types};
pub use contract::World;
pub use error::{CallError, LoadError};
pub use host::{LoadReport, MAX_COMPONENT_BYTES, PluginHost, PluginStamp, Stamped};
pub use plugin::{LoadedPlugin, PluginSource};
pub use registry::{Activation, RegistryError};
pub use summary::{PluginDetail, PluginSummary};
