//! Turns component bytes into a [`LoadedPlugin`] that is safe to activate, or says
//! exactly why not.
//!
//! The pipeline, each step a gate: recognise the bytes (a component, not a core module or
//! junk) → compile (through the artifact cache) → find the world and check its WIT
//! version → pre-instantiate (type-checks imports against the sandbox's linker) → bind the
//! world's exports (type-checks signatures) → call `info()` → run the self-test on the
//! golden inputs and validate the output. Nothing is activated here; the registry does
//! that only after every gate has passed.

use std::time::{Duration, Instant};

use wasmtime::component::Component;

use super::artifacts::{ArtifactCache, content_hash};
use super::bindings::{custom_analytics, greeks_model, oi_analytics, strategy_valuation};
use super::contract::{self, World};
use super::engine::PluginEngine;
use super::error::{LoadError, bounded};
use super::golden;
use super::plugin::{LoadedPlugin, PluginSource, WorldPre};
use crate::config::SandboxLimits;

/// The preamble of every WebAssembly binary.
const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Version field of a core module (components use a different version/layer).
const CORE_MODULE_VERSION: [u8; 4] = [1, 0, 0, 0];

/// Validates and prepares `bytes` as a plugin version.
pub fn prepare(
    engine: &PluginEngine,
    cache: &ArtifactCache,
    bytes: &[u8],
    source: PluginSource,
    self_test_limits: &SandboxLimits,
) -> Result<LoadedPlugin, LoadError> {
    let started = Instant::now();
    recognise(bytes)?;
    let hash = content_hash(bytes);
    let (component, compile) = cache
        .compile(engine.engine(), bytes, &hash)
        .map_err(|error| LoadError::Compile(bounded(format!("{error:#}"))))?;
    let world = contract::detect_world(engine.engine(), &component)?;
    let pre = bind(engine, &component, world)?;

    // The trial instance answers `info()` and the self-test; the version that is
    // returned starts with clean stats, so its counters show only real traffic.
    let mut trial = LoadedPlugin::new(
        placeholder_info(),
        hash,
        source,
        compile,
        Duration::ZERO,
        pre.clone(),
    );
    let info = trial
        .info_call(engine, self_test_limits)
        .map_err(LoadError::Info)?;
    super::validate::plugin_info(&info).map_err(|problem| LoadError::BadInfo(bounded(problem)))?;
    trial.info = info;
    self_test(engine, &trial, self_test_limits)?;
    Ok(LoadedPlugin::new(
        trial.info,
        trial.hash,
        trial.source,
        compile,
        started.elapsed(),
        pre,
    ))
}

/// Says what the bytes are when they are not a component.
fn recognise(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        return Err(LoadError::NotWasm);
    }
    if bytes[4..8] == CORE_MODULE_VERSION {
        return Err(LoadError::CoreModule);
    }
    Ok(())
}

/// Pre-instantiates against the sandbox linker and binds the world's exports.
fn bind(engine: &PluginEngine, component: &Component, world: World) -> Result<WorldPre, LoadError> {
    let instance_pre = engine
        .linker()
        .instantiate_pre(component)
        .map_err(|error| LoadError::Imports(bounded(format!("{error:#}"))))?;
    let signature = |error: wasmtime::Error| LoadError::Signature {
        world,
        message: bounded(format!("{error:#}")),
    };
    Ok(match world {
        World::GreeksModel => {
            WorldPre::Greeks(greeks_model::GreeksModelPre::new(instance_pre).map_err(signature)?)
        }
        World::OiAnalytics => {
            WorldPre::Oi(oi_analytics::OiAnalyticsPre::new(instance_pre).map_err(signature)?)
        }
        World::StrategyValuation => WorldPre::Strategy(
            strategy_valuation::StrategyValuationPre::new(instance_pre).map_err(signature)?,
        ),
        World::CustomAnalytics => WorldPre::Custom(
            custom_analytics::CustomAnalyticsPre::new(instance_pre).map_err(signature)?,
        ),
    })
}

/// Runs the world's main export on the golden inputs; the typed call validates the
/// output's shape.
fn self_test(
    engine: &PluginEngine,
    plugin: &LoadedPlugin,
    limits: &SandboxLimits,
) -> Result<(), LoadError> {
    let outcome = match plugin.world() {
        World::GreeksModel => plugin.greeks(engine, limits, &golden::chain()).map(drop),
        World::OiAnalytics => plugin
            .oi(
                engine,
                limits,
                &golden::priced_chain(),
                golden::oi_options(),
            )
            .map(drop),
        World::StrategyValuation => plugin
            .strategy(engine, limits, &golden::strategy_request())
            .map(drop),
        World::CustomAnalytics => plugin
            .custom_params(engine, limits)
            .and_then(|_| plugin.custom(engine, limits, &golden::priced_chain(), &[]))
            .map(drop),
    };
    outcome.map_err(LoadError::SelfTest)
}

/// Stands in until `info()` has answered (the call machinery needs a name to report).
fn placeholder_info() -> super::bindings::types::PluginInfo {
    super::bindings::types::PluginInfo {
        name: "(loading)".into(),
        version: String::new(),
        description: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_junk_core_modules_and_components() {
        assert_eq!(recognise(b"hello world"), Err(LoadError::NotWasm));
        assert_eq!(recognise(b"\0asm"), Err(LoadError::NotWasm));
        assert_eq!(recognise(b"\0asm\x01\0\0\0"), Err(LoadError::CoreModule));
        assert_eq!(recognise(b"\0asm\x0d\0\x01\0"), Ok(()));
    }
}
