//! Per-version call counters and timings, kept lock-free on the hot path and read for
//! `/api/v2/plugins` (and `/metrics` later).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// How a call ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The plugin answered with its own `plugin-error`: a valid answer, not a failure.
    PluginError,
    Timeout,
    MemoryLimit,
    Trap,
    ResultTooLarge,
    MalformedOutput,
}

impl Outcome {
    /// Failures of the plugin itself, as opposed to answers: these count towards
    /// quarantine.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::PluginError)
    }
}

#[derive(Debug, Default)]
pub struct CallStats {
    calls: AtomicU64,
    plugin_errors: AtomicU64,
    timeouts: AtomicU64,
    memory_limits: AtomicU64,
    traps: AtomicU64,
    results_too_large: AtomicU64,
    malformed_outputs: AtomicU64,
    total_nanos: AtomicU64,
    max_nanos: AtomicU64,
    consecutive_failures: AtomicU32,
    /// A call is re-checking this version before a quarantine (see
    /// [`CallStats::recheck_once`]).
    rechecking: AtomicBool,
}

/// A point-in-time copy of [`CallStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StatsSnapshot {
    pub calls: u64,
    pub errors: u64,
    pub plugin_errors: u64,
    pub timeouts: u64,
    pub memory_limits: u64,
    pub traps: u64,
    pub results_too_large: u64,
    pub malformed_outputs: u64,
    pub mean_micros: f64,
    pub max_micros: f64,
    pub consecutive_failures: u32,
}

impl CallStats {
    /// Records a call; returns the number of consecutive failures after it.
    pub fn record(&self, outcome: Outcome, elapsed: Duration) -> u32 {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.total_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
        let counter = match outcome {
            Outcome::Ok => None,
            Outcome::PluginError => Some(&self.plugin_errors),
            Outcome::Timeout => Some(&self.timeouts),
            Outcome::MemoryLimit => Some(&self.memory_limits),
            Outcome::Trap => Some(&self.traps),
            Outcome::ResultTooLarge => Some(&self.results_too_large),
            Outcome::MalformedOutput => Some(&self.malformed_outputs),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if outcome.is_failure() {
            self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.consecutive_failures.store(0, Ordering::Relaxed);
            0
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures.load(Ordering::Relaxed)
    }

    /// Runs `recheck` unless another call is already running one for this version
    /// (`None` then): however many failing calls reach the quarantine threshold at once,
    /// the version is re-checked by one of them, so the re-check adds at most one call
    /// per streak of failures.
    pub fn recheck_once<R>(&self, recheck: impl FnOnce() -> R) -> Option<R> {
        if self.rechecking.swap(true, Ordering::AcqRel) {
            return None;
        }
        /// Clears the flag however `recheck` ends.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _done = Done(&self.rechecking);
        Some(recheck())
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let calls = self.calls.load(Ordering::Relaxed);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let plugin_errors = load(&self.plugin_errors);
        let timeouts = load(&self.timeouts);
        let memory_limits = load(&self.memory_limits);
        let traps = load(&self.traps);
        let results_too_large = load(&self.results_too_large);
        let malformed_outputs = load(&self.malformed_outputs);
        let total = load(&self.total_nanos) as f64;
        StatsSnapshot {
            calls,
            errors: plugin_errors
                + timeouts
                + memory_limits
                + traps
                + results_too_large
                + malformed_outputs,
            plugin_errors,
            timeouts,
            memory_limits,
            traps,
            results_too_large,
            malformed_outputs,
            mean_micros: if calls == 0 {
                0.0
            } else {
                total / calls as f64 / 1e3
            },
            max_micros: load(&self.max_nanos) as f64 / 1e3,
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_outcome_and_tracks_consecutive_failures() {
        let stats = CallStats::default();
        let ms = Duration::from_millis(1);
        assert_eq!(stats.record(Outcome::Trap, ms), 1);
        assert_eq!(stats.record(Outcome::Timeout, ms), 2);
        assert_eq!(stats.record(Outcome::PluginError, ms), 0);
        assert_eq!(
            stats.record(Outcome::MemoryLimit, Duration::from_millis(3)),
            1
        );
        let snap = stats.snapshot();
        assert_eq!(
            (snap.calls, snap.errors, snap.traps, snap.timeouts),
            (4, 4, 1, 1)
        );
        assert_eq!(snap.consecutive_failures, 1);
        assert!((snap.max_micros - 3000.0).abs() < 1e-9);
        assert!((snap.mean_micros - 1500.0).abs() < 1e-9);
    }

    #[test]
    fn one_recheck_runs_at_a_time() {
        let stats = CallStats::default();
        let nested = stats.recheck_once(|| stats.recheck_once(|| ()));
        assert_eq!(
            nested,
            Some(None),
            "a second recheck while one runs is skipped"
        );
        assert_eq!(
            stats.recheck_once(|| 7),
            Some(7),
            "the flag is cleared after"
        );
    }
}
