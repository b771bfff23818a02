//! Typed configuration, one struct per concern, read from the command line and the
//! environment in exactly one place ([`crate::cli`]).
//!
//! Every option is also an environment variable (`.env` is read when present), and every
//! default lives here so that `optionhub serve` with nothing set runs the embedded setup.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the HTTP server listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
}

/// Where everything written at run time goes (database, caches, compiled plugins).
#[derive(Debug, Clone)]
pub struct DataConfig {
    pub dir: PathBuf,
}

impl DataConfig {
    /// Precompiled plugin artifacts, keyed by content and engine.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.dir.join("plugin-cache")
    }
}

/// The per-call sandbox of every plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Cap on a plugin instance's linear memory; growing past it traps.
    pub memory_bytes: usize,
    /// Wall-clock budget of one call, enforced by epoch interruption.
    pub deadline: Duration,
    /// Cap on the size of what one call returns (bytes of list and string payload).
    pub max_result_bytes: usize,
    /// Cap on the stdout + stderr kept from one call; the rest is dropped, not an error.
    pub max_log_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_millis(100),
            max_result_bytes: 16 << 20,
            max_log_bytes: 16 << 10,
        }
    }
}

/// The plugin runtime: where plugins come from and how they are policed.
#[derive(Debug, Clone)]
pub struct PluginConfig {
    /// The watched directory; `None` runs with no directory (plugins arrive by API).
    pub dir: Option<PathBuf>,
    /// Where precompiled artifacts are cached; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    pub limits: SandboxLimits,
    /// Limits for the load-time self-test.
    pub self_test_limits: SandboxLimits,
    /// Consecutive failed calls (traps, timeouts, limit breaches) after which a version is
    /// quarantined and the previous good version serves again.
    pub quarantine_after: u32,
    /// Previous good versions kept per plugin for rollback.
    pub keep_versions: usize,
}

impl PluginConfig {
    /// Defaults for a plugin directory and data directory.
    pub fn new(dir: Option<PathBuf>, data: &DataConfig) -> Self {
        Self {
            dir,
            cache_dir: Some(data.plugin_cache_dir()),
            ..Self::in_memory()
        }
    }

    /// A configuration for tests and tools: no directory, no disk cache, default limits.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            cache_dir: None,
            limits: SandboxLimits::default(),
            // The golden inputs are small, but a hostile plugin must not stall a load; a
            // roomier deadline keeps a slow-but-honest plugin from failing its self-test
            // on a busy machine.
            self_test_limits: SandboxLimits {
                deadline: Duration::from_secs(1),
                ..SandboxLimits::default()
            },
            quarantine_after: 5,
            keep_versions: 5,
        }
    }

    pub fn plugin_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything `optionhub serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub data: DataConfig,
    pub plugins: PluginConfig,
}

/// Dhan credentials. `Debug` never shows the token; nothing logs it.
#[derive(Clone, PartialEq, Eq)]
pub struct DhanCredentials {
    client_id: String,
    access_token: String,
}

impl DhanCredentials {
    pub fn new(client_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            access_token: access_token.into(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

impl std::fmt::Debug for DhanCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhanCredentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}
