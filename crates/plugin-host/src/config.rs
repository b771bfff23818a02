//! The plugin runtime's configuration: where plugins come from, the sandbox every call
//! runs in, and how many calls may run at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Default [`PluginConfig::call_slots`]: far more than a few cores can keep busy, and
/// only address space (about 8 GiB of reservation per slot), not memory, until used.
pub const DEFAULT_CALL_SLOTS: usize = 64;

/// Default [`PluginConfig::slot_wait`]: ten generations of calls at the default 100 ms
/// deadline; a host still saturated after that is better answered "busy" than queued.
pub const DEFAULT_SLOT_WAIT: Duration = Duration::from_millis(DEFAULT_SLOT_WAIT_MS);
/// [`DEFAULT_SLOT_WAIT`] in milliseconds, as the command line takes it.
pub const DEFAULT_SLOT_WAIT_MS: u64 = 1000;

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
    /// Plugin calls (and load-time trial calls) that may run at once, each in an instance
    /// slot reserved up front; more wait for a free slot. 0 allocates every instance on
    /// demand instead (slower per call; no bound).
    pub call_slots: usize,
    /// Longest a call waits for a free call slot before it fails with `plugins_busy`.
    pub slot_wait: Duration,
}

impl PluginConfig {
    /// Defaults for a plugin directory, with precompiled artifacts cached in `cache_dir`.
    pub fn new(dir: Option<PathBuf>, cache_dir: PathBuf) -> Self {
        Self {
            dir,
            cache_dir: Some(cache_dir),
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
            call_slots: DEFAULT_CALL_SLOTS,
            slot_wait: DEFAULT_SLOT_WAIT,
        }
    }

    pub fn plugin_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}
