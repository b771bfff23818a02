//! Typed errors of the plugin runtime: why a load was refused ([`LoadError`]) and why a
//! call did not produce an answer ([`CallError`]). Both carry messages written for the
//! person who has to act on them: the plugin author or the operator.

use std::time::Duration;

use super::bindings::types;
use super::contract::{ContractError, World};
use super::stats::Outcome;

/// A call that produced no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("plugin {plugin} ran past its {} ms deadline and was stopped", deadline.as_millis())]
    Timeout { plugin: String, deadline: Duration },
    #[error("plugin {plugin} hit its memory cap of {} MiB and was stopped", cap_bytes >> 20)]
    MemoryLimit { plugin: String, cap_bytes: usize },
    #[error("plugin {plugin} trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin {plugin} returned {bytes} bytes, over the {cap}-byte result cap")]
    ResultTooLarge {
        plugin: String,
        bytes: usize,
        cap: usize,
    },
    #[error("plugin {plugin} returned malformed output: {problem}")]
    MalformedOutput { plugin: String, problem: String },
    #[error("plugin {plugin} rejected the input: {message}")]
    InvalidInput { plugin: String, message: String },
    #[error("plugin {plugin} failed numerically: {message}")]
    NumericalFailure { plugin: String, message: String },
    #[error("plugin {plugin} does not support this request: {message}")]
    Unsupported { plugin: String, message: String },
    #[error("plugin {plugin} implements {actual}, not {expected}")]
    WrongWorld {
        plugin: String,
        expected: World,
        actual: World,
    },
    #[error("no plugin named {name} is loaded")]
    NotFound { name: String },
    #[error("no {world} plugin is loaded")]
    NoPluginForWorld { world: World },
    #[error("the plugin call could not be scheduled: {0}")]
    Scheduling(String),
}

impl CallError {
    pub(super) fn from_plugin(plugin: &str, error: types::PluginError) -> Self {
        let plugin = plugin.to_string();
        match error {
            types::PluginError::InvalidInput(message) => {
                CallError::InvalidInput { plugin, message }
            }
            types::PluginError::NumericalFailure(message) => {
                CallError::NumericalFailure { plugin, message }
            }
            types::PluginError::Unsupported(message) => CallError::Unsupported { plugin, message },
        }
    }

    /// How this error counts in the plugin's stats.
    pub fn outcome(&self) -> Outcome {
        match self {
            CallError::Timeout { .. } => Outcome::Timeout,
            CallError::MemoryLimit { .. } => Outcome::MemoryLimit,
            CallError::Trap { .. } => Outcome::Trap,
            CallError::ResultTooLarge { .. } => Outcome::ResultTooLarge,
            CallError::MalformedOutput { .. } => Outcome::MalformedOutput,
            CallError::InvalidInput { .. }
            | CallError::NumericalFailure { .. }
            | CallError::Unsupported { .. }
            | CallError::WrongWorld { .. }
            | CallError::NotFound { .. }
            | CallError::NoPluginForWorld { .. }
            | CallError::Scheduling(_) => Outcome::PluginError,
        }
    }

    /// A stable machine-readable code for API bodies and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Timeout { .. } => "plugin_timeout",
            CallError::MemoryLimit { .. } => "plugin_memory_limit",
            CallError::Trap { .. } => "plugin_trap",
            CallError::ResultTooLarge { .. } => "plugin_result_too_large",
            CallError::MalformedOutput { .. } => "plugin_malformed_output",
            CallError::InvalidInput { .. } => "plugin_invalid_input",
            CallError::NumericalFailure { .. } => "plugin_numerical_failure",
            CallError::Unsupported { .. } => "plugin_unsupported",
            CallError::WrongWorld { .. } => "plugin_wrong_world",
            CallError::NotFound { .. } => "plugin_not_found",
            CallError::NoPluginForWorld { .. } => "no_plugin_for_world",
            CallError::Scheduling(_) => "plugin_scheduling",
        }
    }
}

/// Why a component was not loaded. The active version, if any, keeps serving.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("not a WebAssembly file (no \\0asm header)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component: build the plugin with \
         `cargo build --release --target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    #[error("the component does not compile: {0}")]
    Compile(String),
    #[error("{0}")]
    Contract(#[from] ContractError),
    #[error("the plugin imports something the sandbox does not provide: {0}")]
    Imports(String),
    #[error("the plugin's exports do not match the {world} world: {message}")]
    Signature { world: World, message: String },
    #[error("info() failed: {0}")]
    Info(CallError),
    #[error("invalid plugin info: {0}")]
    BadInfo(String),
    #[error("self-test on the golden chain failed: {0}")]
    SelfTest(CallError),
}

impl LoadError {
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::Read { .. } => "plugin_unreadable",
            LoadError::NotWasm => "plugin_not_wasm",
            LoadError::CoreModule => "plugin_core_module",
            LoadError::Compile(_) => "plugin_compile_failed",
            LoadError::Contract(_) => "plugin_contract_mismatch",
            LoadError::Imports(_) => "plugin_imports_denied",
            LoadError::Signature { .. } => "plugin_signature_mismatch",
            LoadError::Info(_) | LoadError::BadInfo(_) => "plugin_info_failed",
            LoadError::SelfTest(_) => "plugin_self_test_failed",
        }
    }
}
