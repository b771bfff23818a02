//! The process's one wasmtime [`Engine`], its [`Linker`], and the epoch ticker that
//! enforces CPU deadlines.
//!
//! Every plugin is compiled by, and runs on, this engine. Its configuration is fixed at
//! start because precompiled artifacts are only valid for the exact configuration that
//! produced them (the artifact cache keys on [`Engine::precompile_compatibility_hash`]).

use std::thread;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, EngineWeak};

use super::sandbox::CallState;

/// How often the epoch advances. Deadlines are whole ticks, so this is the granularity
/// of the CPU limit (Spin uses the same 10 ms).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine, the linker every plugin instantiates against, and the ticker.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<CallState>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine").finish_non_exhaustive()
    }
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker thread.
    pub fn new() -> wasmtime::Result<Self> {
        let mut config = Config::new();
        // CPU deadlines: generated code checks the epoch at loop headers and calls.
        config.epoch_interruption(true);
        // Plugins are synchronous pure functions; without component-model concurrency
        // a call costs ~0.15 µs instead of ~0.6 µs of fixed overhead.
        config.concurrency_support(false);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::new(&engine);
        // Rust's std for wasm32-wasip2 imports WASI even when unused; the store's
        // context (see `sandbox`) grants none of it.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;

        spawn_epoch_ticker(engine.weak());
        Ok(Self { engine, linker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }
}

/// Advances the epoch every [`EPOCH_TICK`] until the engine is dropped. Holding only a
/// weak reference lets the engine (and this thread) go away with the host.
fn spawn_epoch_ticker(engine: EngineWeak) {
    let spawned = thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            loop {
                thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(error) = spawned {
        // Without a ticker deadlines never fire; every call would still finish or hit the
        // memory cap, but say loudly that CPU limits are off.
        tracing::error!(%error, "could not start the plugin epoch ticker; CPU deadlines are off");
    }
}
