//! [`PluginHost`]: the plugin runtime's one entry point for the rest of the server.
//!
//! It loads versions (bytes, files, a directory), activates them in the registry,
//! rolls back and unloads, and runs calls: synchronously for tools and tests, and on
//! tokio's blocking pool for request handlers, so a plugin never blocks the async
//! executor. Each answer is stamped with the version that produced it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use super::artifacts::{ArtifactCache, short_hash};
use super::bindings::{custom, oi, strategy, types};
use super::contract::World;
use super::engine::PluginEngine;
use super::error::{CallError, LoadError};
use super::plugin::{LoadedPlugin, PluginSource};
use super::registry::{Activation, LoadFailure, Registry, RegistryError};
use super::summary::{PluginDetail, PluginSummary};
use super::{golden, loader};
use crate::config::{PluginConfig, SandboxLimits};

/// A call made again with the caller's part of its input replaced by known-good values
/// (see [`PluginHost::serve`]).
type CallerInputFree<'a> =
    dyn Fn(&LoadedPlugin, &PluginEngine, &SandboxLimits) -> Result<(), CallError> + 'a;

/// Which version produced an answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PluginStamp {
    pub name: String,
    pub version: String,
    pub hash: String,
}

impl PluginStamp {
    fn of(plugin: &LoadedPlugin) -> Self {
        Self {
            name: plugin.name().to_string(),
            version: plugin.info.version.clone(),
            hash: plugin.hash.clone(),
        }
    }
}

/// An answer and the version that produced it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stamped<T> {
    pub value: T,
    pub plugin: PluginStamp,
}

/// The result of a successful load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub plugin: PluginSummary,
    pub activation: Activation,
}

pub struct PluginHost {
    engine: PluginEngine,
    cache: ArtifactCache,
    registry: Registry,
    config: PluginConfig,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Builds the engine; loads nothing yet.
    pub fn new(config: PluginConfig) -> anyhow::Result<Arc<Self>> {
        let engine = PluginEngine::new(&config)
            .map_err(|e| anyhow::anyhow!("cannot start the Wasm engine: {e:#}"))?;
        let cache = ArtifactCache::open(engine.engine(), config.cache_dir.clone())?;
        Ok(Arc::new(Self {
            engine,
            cache,
            registry: Registry::new(config.keep_versions),
            config,
        }))
    }

    pub fn config(&self) -> &PluginConfig {
        &self.config
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.config.limits
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Validates `bytes` as a plugin without activating it (`optionhub plugin check`).
    pub fn check(
        &self,
        bytes: &[u8],
        source: PluginSource,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        loader::prepare(
            &self.engine,
            &self.cache,
            bytes,
            source,
            &self.config.self_test_limits,
        )
        .map(Arc::new)
    }

    /// Validates and activates a version. A refused load leaves the active version
    /// serving and is recorded with its reason.
    pub fn load_bytes(&self, bytes: &[u8], source: PluginSource) -> Result<LoadReport, LoadError> {
        let described = describe(&source);
        match self.check(bytes, source) {
            Ok(plugin) => {
                let activation = self.registry.activate(Arc::clone(&plugin));
                tracing::info!(
                    plugin = %plugin.name(), version = %plugin.info.version, world = %plugin.world(),
                    hash = %short_hash(&plugin.hash), source = %described, compile = ?plugin.compile,
                    load_ms = plugin.load_time.as_secs_f64() * 1e3, ?activation, "plugin loaded"
                );
                Ok(LoadReport {
                    plugin: PluginSummary::of(&plugin),
                    activation,
                })
            }
            Err(error) => Err(self.refuse(described, error)),
        }
    }

    /// Loads a component file (the directory and its watcher come through here).
    pub fn load_file(&self, path: &Path) -> Result<LoadReport, LoadError> {
        match read_capped(path, MAX_COMPONENT_BYTES) {
            Ok(bytes) => self.load_bytes(&bytes, PluginSource::File(path.to_path_buf())),
            Err(error) => Err(self.refuse(path.display().to_string(), error)),
        }
    }

    /// Logs and records a refused load (the one place that does), and hands the error
    /// back to the caller.
    fn refuse(&self, source: String, error: LoadError) -> LoadError {
        tracing::warn!(%source, code = error.code(), %error, "plugin load refused");
        self.registry.record_failure(LoadFailure {
            at: OffsetDateTime::now_utc(),
            source,
            code: error.code().to_string(),
            error: error.to_string(),
        });
        error
    }

    /// Loads every `*.wasm` file in `dir`, in name order.
    pub fn load_dir(
        &self,
        dir: &Path,
    ) -> std::io::Result<Vec<(PathBuf, Result<LoadReport, LoadError>)>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_plugin_file(p))
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|path| {
                let result = self.load_file(&path);
                (path, result)
            })
            .collect())
    }

    pub fn rollback(&self, name: &str) -> Result<PluginSummary, RegistryError> {
        let plugin = self.registry.rollback(name)?;
        tracing::info!(plugin = %name, version = %plugin.info.version, hash = %short_hash(&plugin.hash), "plugin rolled back");
        Ok(PluginSummary::of(&plugin))
    }

    pub fn unload(&self, name: &str) -> Result<(), RegistryError> {
        self.registry.unload(name)?;
        tracing::info!(plugin = %name, "plugin unloaded");
        Ok(())
    }

    /// Every active plugin.
    pub fn summaries(&self) -> Vec<PluginSummary> {
        self.registry
            .active_plugins()
            .iter()
            .map(|p| PluginSummary::of(p))
            .collect()
    }

    /// Versions, state, limits, counters and recent failures of one plugin.
    pub fn detail(&self, name: &str) -> Option<PluginDetail> {
        self.registry
            .slot(name)
            .map(|slot| PluginDetail::of(name, &slot, &self.config.limits))
    }

    fn by_name(&self, name: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.registry
            .active(name)
            .ok_or_else(|| CallError::NotFound {
                name: name.to_string(),
            })
    }

    fn by_world(&self, world: World) -> Result<Arc<LoadedPlugin>, CallError> {
        self.registry
            .active_for_world(world)
            .ok_or(CallError::NoPluginForWorld { world })
    }

    /// Runs a call on `plugin`, stamps the answer, and quarantines the version when it
    /// has failed too many times in a row.
    ///
    /// A call whose input came partly from its caller (parameters, legs, options) passes
    /// `without_caller_input`: the same call with that part replaced by known-good
    /// values. Before such a streak quarantines the version, that call is made; if it
    /// answers, the failures follow the callers' input, not the version, and one
    /// user's requests must not take a plugin away from everyone (its answer also ends
    /// the streak, so the re-check costs at most one call per streak of failures, and
    /// only one runs at a time per version). Calls on market data alone (Greeks) have
    /// nothing to swap out.
    #[tracing::instrument(
        name = "plugin_call",
        level = "debug",
        skip_all,
        fields(plugin = %plugin.name(), version = %plugin.info.version)
    )]
    fn serve<R>(
        &self,
        plugin: Arc<LoadedPlugin>,
        call: impl FnOnce(&LoadedPlugin, &PluginEngine, &SandboxLimits) -> Result<R, CallError>,
        without_caller_input: Option<&CallerInputFree<'_>>,
    ) -> Result<Stamped<R>, CallError> {
        let result = call(&plugin, &self.engine, &self.config.limits);
        if let Err(error) = &result
            && error.outcome().is_failure()
            && plugin.stats().consecutive_failures() >= self.config.quarantine_after
        {
            self.quarantine_unless_input_to_blame(&plugin, without_caller_input);
        }
        result.map(|value| Stamped {
            value,
            plugin: PluginStamp::of(&plugin),
        })
    }

    /// Quarantines `plugin` after a streak of failures, unless the same call without
    /// its caller's input answers (see [`Self::serve`]).
    fn quarantine_unless_input_to_blame(
        &self,
        plugin: &Arc<LoadedPlugin>,
        without_caller_input: Option<&CallerInputFree<'_>>,
    ) {
        let answers_without_input = without_caller_input.map(|retry| {
            plugin
                .stats()
                .recheck_once(|| answers(retry(plugin, &self.engine, &self.config.limits)))
        });
        match answers_without_input {
            // Another failing call is re-checking this version; it decides.
            Some(None) => {}
            Some(Some(true)) => tracing::warn!(
                plugin = %plugin.name(), version = %plugin.info.version,
                failures = self.config.quarantine_after,
                "plugin calls keep failing on their callers' input but it answers without it; not quarantined"
            ),
            None | Some(Some(false)) => {
                if let Some(fallback) = self.registry.quarantine(plugin) {
                    metrics::counter!("plugin_quarantines_total", "plugin" => plugin.name().to_string())
                        .increment(1);
                    tracing::error!(
                        plugin = %plugin.name(), version = %plugin.info.version, hash = %short_hash(&plugin.hash),
                        fallback_version = %fallback.info.version, failures = self.config.quarantine_after,
                        "plugin version quarantined after repeated failures; previous version serves"
                    );
                }
            }
        }
    }

    /// `meta.info()` on the named plugin: the fixed cost of a call.
    pub fn call_info(&self, name: &str) -> Result<Stamped<types::PluginInfo>, CallError> {
        self.serve(self.by_name(name)?, |p, e, l| p.info_call(e, l), None)
    }

    /// Greeks for a chain from the active `greeks-model` plugin.
    pub fn call_greeks(
        &self,
        chain: &types::ChainSnapshot,
    ) -> Result<Stamped<types::GreeksResult>, CallError> {
        self.serve(
            self.by_world(World::GreeksModel)?,
            |p, e, l| p.greeks(e, l, chain),
            None,
        )
    }

    /// OI analytics of a chain with the caller's options.
    pub fn call_oi(
        &self,
        input: &types::PricedChain,
        options: oi::OiOptions,
    ) -> Result<Stamped<oi::OiReport>, CallError> {
        self.serve(
            self.by_world(World::OiAnalytics)?,
            |p, e, l| p.oi(e, l, input, options),
            Some(&|p: &LoadedPlugin, e: &PluginEngine, l: &SandboxLimits| {
                p.oi(e, l, input, golden::oi_options()).map(drop)
            }),
        )
    }

    /// A strategy valuation of the caller's legs.
    pub fn call_strategy(
        &self,
        request: &strategy::ValuationRequest,
    ) -> Result<Stamped<strategy::ValuationResult>, CallError> {
        self.serve(
            self.by_world(World::StrategyValuation)?,
            |p, e, l| p.strategy(e, l, request),
            Some(&|p: &LoadedPlugin, e: &PluginEngine, l: &SandboxLimits| {
                p.strategy(e, l, &golden::strategy_request()).map(drop)
            }),
        )
    }

    /// A custom analytic on a chain with the caller's parameters.
    pub fn call_custom(
        &self,
        name: &str,
        input: &types::PricedChain,
        params: &[(String, String)],
    ) -> Result<Stamped<custom::AnalyticsResult>, CallError> {
        self.serve(
            self.by_name(name)?,
            |p, e, l| p.custom(e, l, input, params),
            Some(&|p: &LoadedPlugin, e: &PluginEngine, l: &SandboxLimits| {
                p.custom(e, l, input, &[]).map(drop)
            }),
        )
    }

    /// Runs `work` on tokio's blocking pool: plugin calls and loads are CPU-bound and
    /// must not stall the async executor.
    pub async fn blocking<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&PluginHost) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        let host = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&host))
            .await
            .map_err(|e| CallError::Scheduling(e.to_string()))
    }
}

/// Whether a call got an answer: a result, or the plugin's own error (a plugin that needs
/// parameters may refuse a call without them, and that refusal shows it works).
fn answers(result: Result<(), CallError>) -> bool {
    !matches!(result, Err(error) if error.outcome().is_failure())
}

/// Largest component accepted, from a file or an upload. Real plugins are a few MiB;
/// the cap keeps a stray or hostile file from being read into memory whole.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

/// Reads `path` if it is at most `cap` bytes, without reading more than `cap + 1` bytes
/// of a file that is larger (or grows while read).
fn read_capped(path: &Path, cap: usize) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let source = path.display().to_string();
    let unreadable = |error: std::io::Error| LoadError::Read {
        path: source.clone(),
        message: error.to_string(),
    };
    let too_large = |bytes: u64| LoadError::TooLarge {
        path: source.clone(),
        bytes,
        cap,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let declared = file.metadata().map_err(unreadable)?.len();
    if declared > cap as u64 {
        return Err(too_large(declared));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(cap));
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > cap {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A plugin file is a `*.wasm` file; anything else in the directory (temporary names
/// during a copy, notes, artifacts) is ignored.
pub fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "wasm") && path.is_file()
}

fn describe(source: &PluginSource) -> String {
    match source {
        PluginSource::File(path) => path.display().to_string(),
        PluginSource::Upload => "upload".into(),
        PluginSource::Bytes => "bytes".into(),
    }
}
