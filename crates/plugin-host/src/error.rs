//! Typed errors of the plugin runtime: why a load was refused ([`LoadError`]) and why a
//! call did not produce an answer ([`CallError`]). Both carry messages written for the
//! person who has to act on them: the plugin author or the operator.
//!
//! Text that comes from a plugin (its error messages, names it reports, its output in a
//! trap) is cut to [`MAX_ERROR_TEXT`] by [`bounded`] before it is put in an error, so a
//! plugin cannot make the host log, store or serve megabytes on its behalf.

use std::time::Duration;

use super::bindings::types;
use super::contract::{ContractError, World};
use super::stats::Outcome;

/// A call that produced no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("plugin {plugin} ran past its {} ms deadline and was stopped", deadline.as_millis())]
    Timeout { plugin: String, deadline: Duration },
    #[error(
        "plugin {plugin} tried to wait {} ms on a clock and was stopped: plugins may not block",
        wait.as_millis()
    )]
    Blocked { plugin: String, wait: Duration },
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
    #[error(
        "plugin {plugin} returned more than its {cap}-byte result cap; refused while copying it"
    )]
    ResultOverCap { plugin: String, cap: usize },
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
    #[error(
        "plugin {plugin} could not run: all {slots} plugin call slots stayed busy for {} ms; \
         try again shortly",
        waited.as_millis()
    )]
    Busy {
        plugin: String,
        slots: usize,
        waited: Duration,
    },
}

/// Most bytes of plugin-supplied text kept in an error message: room for a useful
/// explanation and a stack trace's head, not for a flood.
pub const MAX_ERROR_TEXT: usize = 4 << 10;

/// `text` cut to [`MAX_ERROR_TEXT`] bytes (at a character boundary), saying how much was
/// cut.
pub fn bounded(mut text: String) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text;
    }
    let cut = (0..=MAX_ERROR_TEXT)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let dropped = text.len() - cut;
    text.truncate(cut);
    text.push_str(&format!("… [{dropped} more bytes cut]"));
    text
}

impl CallError {
    pub(super) fn from_plugin(plugin: &str, error: types::PluginError) -> Self {
        let plugin = plugin.to_string();
        match error {
            types::PluginError::InvalidInput(message) => CallError::InvalidInput {
                plugin,
                message: bounded(message),
            },
            types::PluginError::NumericalFailure(message) => CallError::NumericalFailure {
                plugin,
                message: bounded(message),
            },
            types::PluginError::Unsupported(message) => CallError::Unsupported {
                plugin,
                message: bounded(message),
            },
        }
    }

    /// How this error counts in the plugin's stats.
    pub fn outcome(&self) -> Outcome {
        match self {
            CallError::Timeout { .. } | CallError::Blocked { .. } => Outcome::Timeout,
            CallError::MemoryLimit { .. } => Outcome::MemoryLimit,
            CallError::Trap { .. } => Outcome::Trap,
            CallError::ResultTooLarge { .. } | CallError::ResultOverCap { .. } => {
                Outcome::ResultTooLarge
            }
            CallError::MalformedOutput { .. } => Outcome::MalformedOutput,
            CallError::InvalidInput { .. }
            | CallError::NumericalFailure { .. }
            | CallError::Unsupported { .. }
            | CallError::WrongWorld { .. }
            | CallError::NotFound { .. }
            | CallError::NoPluginForWorld { .. }
            | CallError::Scheduling(_)
            | CallError::Busy { .. } => Outcome::PluginError,
        }
    }

    /// A stable machine-readable code for API bodies and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Timeout { .. } => "plugin_timeout",
            CallError::Blocked { .. } => "plugin_blocked",
            CallError::MemoryLimit { .. } => "plugin_memory_limit",
            CallError::Trap { .. } => "plugin_trap",
            CallError::ResultTooLarge { .. } | CallError::ResultOverCap { .. } => {
                "plugin_result_too_large"
            }
            CallError::MalformedOutput { .. } => "plugin_malformed_output",
            CallError::InvalidInput { .. } => "plugin_invalid_input",
            CallError::NumericalFailure { .. } => "plugin_numerical_failure",
            CallError::Unsupported { .. } => "plugin_unsupported",
            CallError::WrongWorld { .. } => "plugin_wrong_world",
            CallError::NotFound { .. } => "plugin_not_found",
            CallError::NoPluginForWorld { .. } => "no_plugin_for_world",
            CallError::Scheduling(_) => "plugin_scheduling",
            CallError::Busy { .. } => "plugins_busy",
        }
    }
}

/// Why a component was not loaded. The active version, if any, keeps serving.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path} is {bytes} bytes, over the {cap}-byte cap on plugin components; not read")]
    TooLarge {
        path: String,
        bytes: u64,
        cap: usize,
    },
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
            LoadError::TooLarge { .. } => "plugin_too_large",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_keeps_short_text_and_cuts_long_text_at_a_char_boundary() {
        assert_eq!(bounded("short".into()), "short");
        let long = "é".repeat(MAX_ERROR_TEXT);
        let cut = bounded(long.clone());
        assert!(cut.len() < MAX_ERROR_TEXT + 64, "{} bytes", cut.len());
        assert!(cut.ends_with(&format!("[{} more bytes cut]", long.len() - MAX_ERROR_TEXT)));
    }

    #[test]
    fn a_plugins_own_error_message_is_bounded() {
        let error =
            CallError::from_plugin("p", types::PluginError::InvalidInput("x".repeat(1 << 20)));
        assert!(
            error.to_string().len() < 2 * MAX_ERROR_TEXT,
            "{}",
            error.to_string().len()
        );
        assert_eq!(error.code(), "plugin_invalid_input");
    }
}
