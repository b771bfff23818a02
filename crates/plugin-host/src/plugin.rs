//! One loaded, validated version of a plugin, and how a call into it runs.
//!
//! A [`LoadedPlugin`] holds the pre-instantiated component ([`InstancePre`] through the
//! world's bindings), so each call only creates a fresh store and instance (microseconds)
//! and drops both afterwards: a trap can never poison a later call, and memory is reset
//! every time. Calls hold an `Arc<LoadedPlugin>`, so a swap never disturbs a call that
//! has started.
//!
//! [`InstancePre`]: wasmtime::component::InstancePre

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use time::OffsetDateTime;
use wasmtime::Store;

use super::artifacts::CompileSource;
use super::bindings::{
    custom, custom_analytics, greeks_model, oi, oi_analytics, strategy, strategy_valuation, types,
};
use super::clock_waits::ClockWait;
use super::contract::World;
use super::engine::{EPOCH_TICK, PluginEngine};
use super::error::{CallError, bounded};
use super::sandbox::{self, CallState};
use super::stats::{CallStats, Outcome};
use super::validate;
use crate::config::SandboxLimits;

/// The world-specific pre-instantiated component.
#[derive(Clone)]
pub enum WorldPre {
    Greeks(greeks_model::GreeksModelPre<CallState>),
    Oi(oi_analytics::OiAnalyticsPre<CallState>),
    Strategy(strategy_valuation::StrategyValuationPre<CallState>),
    Custom(custom_analytics::CustomAnalyticsPre<CallState>),
}

impl std::fmt::Debug for WorldPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WorldPre({})", self.world())
    }
}

impl WorldPre {
    pub fn world(&self) -> World {
        match self {
            WorldPre::Greeks(_) => World::GreeksModel,
            WorldPre::Oi(_) => World::OiAnalytics,
            WorldPre::Strategy(_) => World::StrategyValuation,
            WorldPre::Custom(_) => World::CustomAnalytics,
        }
    }
}

/// Where a plugin version came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum PluginSource {
    File(PathBuf),
    Upload,
    Bytes,
}

/// A captured line of a plugin's output or a failure, kept for operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub text: String,
}

/// How many recent log entries a version keeps.
const RECENT_LOG_ENTRIES: usize = 20;

/// A loaded, self-tested plugin version.
pub struct LoadedPlugin {
    pub info: types::PluginInfo,
    pub hash: String,
    pub source: PluginSource,
    pub loaded_at: OffsetDateTime,
    pub compile: CompileSource,
    pub load_time: Duration,
    pre: WorldPre,
    stats: CallStats,
    recent: Mutex<VecDeque<LogEntry>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .field("world", &self.world())
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    pub(super) fn new(
        info: types::PluginInfo,
        hash: String,
        source: PluginSource,
        compile: CompileSource,
        load_time: Duration,
        pre: WorldPre,
    ) -> Self {
        Self {
            info,
            hash,
            source,
            loaded_at: OffsetDateTime::now_utc(),
            compile,
            load_time,
            pre,
            stats: CallStats::default(),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn world(&self) -> World {
        self.pre.world()
    }

    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    /// The last few captured outputs and failures, oldest first.
    pub fn recent_log(&self) -> Vec<LogEntry> {
        self.recent.lock().iter().cloned().collect()
    }

    fn remember(&self, text: String) {
        let mut recent = self.recent.lock();
        if recent.len() == RECENT_LOG_ENTRIES {
            recent.pop_front();
        }
        recent.push_back(LogEntry {
            at: OffsetDateTime::now_utc(),
            text,
        });
    }

    fn wrong_world(&self, expected: World) -> CallError {
        CallError::WrongWorld {
            plugin: self.name().to_string(),
            expected,
            actual: self.world(),
        }
    }

    /// `meta.info()`: the cheapest call there is (used to measure fixed overhead).
    pub fn info_call(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
    ) -> Result<types::PluginInfo, CallError> {
        let (result, elapsed) = self.invoke(engine, limits, |store, pre| match pre {
            WorldPre::Greeks(p) => p
                .instantiate(&mut *store)?
                .optionhub_analytics_meta()
                .call_info(store),
            WorldPre::Oi(p) => p
                .instantiate(&mut *store)?
                .optionhub_analytics_meta()
                .call_info(store),
            WorldPre::Strategy(p) => p
                .instantiate(&mut *store)?
                .optionhub_analytics_meta()
                .call_info(store),
            WorldPre::Custom(p) => p
                .instantiate(&mut *store)?
                .optionhub_analytics_meta()
                .call_info(store),
        });
        self.finish(result.map(Ok), elapsed, validate::plugin_info, limits)
    }

    /// `greeks.compute(chain)`.
    pub fn greeks(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
        chain: &types::ChainSnapshot,
    ) -> Result<types::GreeksResult, CallError> {
        let WorldPre::Greeks(pre) = &self.pre else {
            return Err(self.wrong_world(World::GreeksModel));
        };
        let (result, elapsed) = self.invoke(engine, limits, |store, _| {
            pre.instantiate(&mut *store)?
                .optionhub_analytics_greeks()
                .call_compute(store, chain)
        });
        self.finish(
            result,
            elapsed,
            |out| validate::greeks(out, chain.contracts.strike.len()),
            limits,
        )
    }

    /// `oi.analyze(input, options)`.
    pub fn oi(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
        input: &types::PricedChain,
        options: oi::OiOptions,
    ) -> Result<oi::OiReport, CallError> {
        let WorldPre::Oi(pre) = &self.pre else {
            return Err(self.wrong_world(World::OiAnalytics));
        };
        let (result, elapsed) = self.invoke(engine, limits, |store, _| {
            pre.instantiate(&mut *store)?
                .optionhub_analytics_oi()
                .call_analyze(store, input, options)
        });
        self.finish(
            result,
            elapsed,
            |out| validate::oi(out, input.chain.contracts.strike.len()),
            limits,
        )
    }

    /// `strategy.evaluate(request)`.
    pub fn strategy(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
        request: &strategy::ValuationRequest,
    ) -> Result<strategy::ValuationResult, CallError> {
        let WorldPre::Strategy(pre) = &self.pre else {
            return Err(self.wrong_world(World::StrategyValuation));
        };
        let (result, elapsed) = self.invoke(engine, limits, |store, _| {
            pre.instantiate(&mut *store)?
                .optionhub_analytics_strategy()
                .call_evaluate(store, request)
        });
        self.finish(
            result,
            elapsed,
            |out| validate::strategy(out, request),
            limits,
        )
    }

    /// `custom.params()`: what a custom analytic accepts.
    pub fn custom_params(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
    ) -> Result<Vec<custom::ParamSpec>, CallError> {
        let WorldPre::Custom(pre) = &self.pre else {
            return Err(self.wrong_world(World::CustomAnalytics));
        };
        let (result, elapsed) = self.invoke(engine, limits, |store, _| {
            pre.instantiate(&mut *store)?
                .optionhub_analytics_custom()
                .call_params(store)
        });
        self.finish(result.map(Ok), elapsed, validate::param_specs, limits)
    }

    /// `custom.run(input, params)`.
    pub fn custom(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
        input: &types::PricedChain,
        params: &[(String, String)],
    ) -> Result<custom::AnalyticsResult, CallError> {
        let WorldPre::Custom(pre) = &self.pre else {
            return Err(self.wrong_world(World::CustomAnalytics));
        };
        let (result, elapsed) = self.invoke(engine, limits, |store, _| {
            pre.instantiate(&mut *store)?
                .optionhub_analytics_custom()
                .call_run(store, input, params)
        });
        self.finish(result, elapsed, validate::analytics, limits)
    }

    /// Runs `call` in a fresh sandboxed store, timing it and classifying failures. The
    /// plugin's own `plugin-error` answers pass through as `Ok(Err(_))`.
    fn invoke<R>(
        &self,
        engine: &PluginEngine,
        limits: &SandboxLimits,
        call: impl FnOnce(&mut Store<CallState>, &WorldPre) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, Duration) {
        // Taken before the store and released after it: the instance holds a pool slot
        // until the store is dropped. Waiting for a slot is not the plugin's time.
        let _slot = match engine.call_slot() {
            Ok(slot) => slot,
            Err(busy) => {
                let error = CallError::Busy {
                    plugin: self.name().to_string(),
                    slots: busy.slots,
                    waited: busy.waited,
                };
                return (Err(error), Duration::ZERO);
            }
        };
        let started = Instant::now();
        let mut store = sandbox::new_store(engine.engine(), limits, EPOCH_TICK);
        let result = call(&mut store, &self.pre);
        let elapsed = started.elapsed();
        let state = store.data();
        let output = state.output();
        if !output.is_empty() {
            let (text, dropped) = output.text();
            tracing::debug!(plugin = %self.name(), version = %self.info.version, dropped_bytes = dropped, output = %text, "plugin output");
            self.remember(if dropped > 0 {
                format!("{text}\n[{dropped} more bytes dropped]")
            } else {
                text
            });
        }
        let result = result.map_err(|error| classify(self.name(), limits, state, &error));
        (result, elapsed)
    }

    /// Validates an answer, maps the plugin's own error, and records the outcome with the
    /// time `invoke` measured (validation is host time, not plugin time).
    fn finish<R>(
        &self,
        result: Result<Result<R, types::PluginError>, CallError>,
        elapsed: Duration,
        check: impl FnOnce(&R) -> Result<usize, String>,
        limits: &SandboxLimits,
    ) -> Result<R, CallError> {
        let result = match result {
            // The host was saturated; the plugin never ran, so nothing about it is counted.
            Err(error @ CallError::Busy { .. }) => return Err(error),
            other => other,
        };
        let outcome = match result {
            Ok(Ok(answer)) => match check(&answer) {
                Ok(bytes) if bytes <= limits.max_result_bytes => Ok(answer),
                Ok(bytes) => Err(CallError::ResultTooLarge {
                    plugin: self.name().to_string(),
                    bytes,
                    cap: limits.max_result_bytes,
                }),
                Err(problem) => Err(CallError::MalformedOutput {
                    plugin: self.name().to_string(),
                    problem: bounded(problem),
                }),
            },
            Ok(Err(error)) => Err(CallError::from_plugin(self.name(), error)),
            Err(error) => Err(error),
        };
        let kind = match &outcome {
            Ok(_) => Outcome::Ok,
            Err(error) => error.outcome(),
        };
        self.stats.record(kind, elapsed);
        let labels = [
            ("plugin", self.name().to_string()),
            ("version", self.info.version.clone()),
        ];
        metrics::histogram!("plugin_call_duration_seconds", &labels).record(elapsed.as_secs_f64());
        metrics::counter!("plugin_calls_total", &labels).increment(1);
        if kind != Outcome::Ok {
            metrics::counter!("plugin_errors_total", &labels).increment(1);
        }
        if let Err(error) = &outcome
            && kind.is_failure()
        {
            tracing::warn!(plugin = %self.name(), version = %self.info.version, %error, "plugin call failed");
            self.remember(error.to_string());
        }
        outcome
    }
}

/// Turns a wasmtime error from a call into the caller's terms.
fn classify(
    plugin: &str,
    limits: &SandboxLimits,
    state: &CallState,
    error: &wasmtime::Error,
) -> CallError {
    let plugin = plugin.to_string();
    if state.memory_cap_hit() {
        return CallError::MemoryLimit {
            plugin,
            cap_bytes: limits.memory_bytes,
        };
    }
    if matches!(
        error.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        return CallError::Timeout {
            plugin,
            deadline: limits.deadline,
        };
    }
    if let Some(ClockWait { wait }) = error.downcast_ref::<ClockWait>() {
        return CallError::Blocked {
            plugin,
            wait: *wait,
        };
    }
    if sandbox::is_hostcall_fuel_exhausted(error) {
        return CallError::ResultOverCap {
            plugin,
            cap: limits.max_result_bytes,
        };
    }
    let (output, _) = state.output().text();
    // A Rust guest's panic message goes to stderr just before the trap: it is the most
    // useful part of the report, so include its tail.
    let tail: String = {
        let trimmed = output.trim_end();
        let start = trimmed.len().saturating_sub(500);
        let start = (start..=trimmed.len())
            .find(|&i| trimmed.is_char_boundary(i))
            .unwrap_or(trimmed.len());
        trimmed[start..].to_string()
    };
    let message = if tail.is_empty() {
        format!("{error:#}")
    } else {
        format!("{error:#}; plugin output: {tail}")
    };
    CallError::Trap {
        plugin,
        message: bounded(message),
    }
}
