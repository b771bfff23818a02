//! The process's one wasmtime [`Engine`], its [`Linker`], the epoch ticker that enforces
//! CPU deadlines, and the instance pool every call runs in.
//!
//! Every call instantiates afresh, so what instantiation costs is paid on every call. With
//! wasmtime's default allocator that is an `mmap` per instance, a `munmap` per drop and a
//! page fault per page touched: about 40 µs on this project's machine. The pooling
//! allocator reserves [`PluginConfig::call_slots`] instance slots once and recycles them
//! (a slot's memory is wiped with `madvise` when its instance is dropped, so nothing
//! survives from one call to the next). The first [`KEEP_RESIDENT`] bytes of each slot's
//! memory are zeroed and re-initialised in place instead of being handed back to the OS,
//! so a guest whose stack, statics and early heap fit there (the first-party plugins,
//! built with a 64 KiB stack by `.cargo/config.toml`) takes no page faults at all. Both
//! together cut the fixed cost of a call about fivefold (figures in BENCHMARKS.md). A
//! fixed pool needs a bound on concurrent calls: [`CallSlots`] makes a call wait for a
//! free slot, so a busy host queues calls rather than failing them, and an exhausted pool
//! can never look like a failing plugin and count towards its quarantine. The wait is
//! bounded ([`PluginConfig::slot_wait`]): past it the call fails with [`SlotsBusy`]
//! rather than queueing without end behind calls that will not finish soon.
//!
//! Every plugin is compiled by, and runs on, this engine. Its configuration is fixed at
//! start because precompiled artifacts are only valid for the exact configuration that
//! produced them (the artifact cache keys on [`Engine::precompile_compatibility_hash`]).

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, EngineWeak, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::sandbox::CallState;
use crate::config::PluginConfig;

/// Per component, at most: linear memories (a Rust guest has one), tables and core
/// instances (a `wasm32-wasip2` component is a handful of modules). The pool refuses to
/// instantiate a component that needs more, so it fails its load at the trial call.
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;

/// Bytes at the start of each pooled linear memory (and table) kept resident between
/// instances: reset with a memset rather than `madvise`, so the next call finds them
/// mapped. Sized for a 64 KiB stack, the statics and a first heap chunk; more would cost
/// more to reset than the page faults it saves (256 KiB → 8.3 µs per empty call, 512 KiB
/// → 8.5 µs, 1 MiB with the default 1 MiB stack → 36 µs).
pub const KEEP_RESIDENT: usize = 256 << 10;

/// How often the epoch advances. Deadlines are whole ticks, so this is the granularity
/// of the CPU limit (Spin uses the same 10 ms).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine, the linker every plugin instantiates against, and the ticker.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<CallState>,
    /// `None` when instances are allocated on demand (no pool, no bound).
    slots: Option<Arc<CallSlots>>,
    /// Longest a call waits for a free slot.
    slot_wait: Duration,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine").finish_non_exhaustive()
    }
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker thread.
    pub fn new(plugins: &PluginConfig) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        let slots = if plugins.call_slots > 0 {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(plugins)));
            Some(Arc::new(CallSlots::new(plugins.call_slots)))
        } else {
            None
        };
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
        // ... except the clock subscriptions, the one way it leaves to wait in host code,
        // out of the CPU deadline's reach.
        super::clock_waits::refuse_clock_waits(&mut linker)?;

        spawn_epoch_ticker(engine.weak());
        Ok(Self {
            engine,
            linker,
            slots,
            slot_wait: plugins.slot_wait,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    /// Waits (up to the configured bound) for an instance slot; the call's store must be
    /// dropped before the returned guard is. `None` when there is no pool to wait for.
    pub fn call_slot(&self) -> Result<Option<SlotGuard<'_>>, SlotsBusy> {
        self.slots
            .as_deref()
            .map(|slots| slots.acquire(self.slot_wait))
            .transpose()
    }
}

/// The pool: `call_slots` component instances, each with room for the largest memory any
/// sandbox allows.
fn pool(plugins: &PluginConfig) -> PoolingAllocationConfig {
    let slots = u32::try_from(plugins.call_slots).unwrap_or(u32::MAX);
    let largest_memory = plugins
        .limits
        .memory_bytes
        .max(plugins.self_test_limits.memory_bytes);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_memories(slots.saturating_mul(MEMORIES_PER_COMPONENT))
        .total_tables(slots.saturating_mul(TABLES_PER_COMPONENT))
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        // The sandbox's limiter enforces the real cap (and reports it); the pool only
        // has to have room for it.
        .max_memory_size(largest_memory)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    pool
}

/// A counting semaphore over the pool's slots, for the blocking threads calls run on.
#[derive(Debug)]
pub struct CallSlots {
    slots: usize,
    free: Mutex<usize>,
    freed: Condvar,
}

impl CallSlots {
    pub fn new(slots: usize) -> Self {
        Self {
            slots,
            free: Mutex::new(slots),
            freed: Condvar::new(),
        }
    }

    /// Waits up to `wait` for a free slot and takes it.
    pub fn acquire(&self, wait: Duration) -> Result<SlotGuard<'_>, SlotsBusy> {
        let started = Instant::now();
        let give_up = started.checked_add(wait);
        let mut free = self.free.lock();
        while *free == 0 {
            let timed_out = match give_up {
                Some(at) => self.freed.wait_until(&mut free, at).timed_out(),
                None => {
                    self.freed.wait(&mut free);
                    false
                }
            };
            if timed_out && *free == 0 {
                return Err(SlotsBusy {
                    slots: self.slots,
                    waited: started.elapsed(),
                });
            }
        }
        *free -= 1;
        Ok(SlotGuard(self))
    }
}

/// Every call slot stayed taken for the whole wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("all {slots} plugin call slots stayed busy for {} ms", waited.as_millis())]
pub struct SlotsBusy {
    pub slots: usize,
    pub waited: Duration,
}

/// A taken slot; dropping it frees the slot and wakes one waiting call.
#[derive(Debug)]
pub struct SlotGuard<'a>(&'a CallSlots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock() += 1;
        self.0.freed.notify_one();
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn calls_past_the_slots_wait_and_all_finish() {
        let slots = Arc::new(CallSlots::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
                thread::spawn(move || {
                    let _slot = slots.acquire(Duration::from_secs(60));
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for worker in workers {
            assert!(worker.join().is_ok(), "a worker panicked");
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more than two at once"
        );
        assert_eq!(*slots.free.lock(), 2, "every slot came back");
    }

    #[test]
    fn a_call_gives_up_when_every_slot_stays_busy() {
        let slots = CallSlots::new(1);
        let held = slots.acquire(Duration::ZERO);
        assert!(held.is_ok(), "a free slot is taken without waiting");
        let started = Instant::now();
        let refused = slots.acquire(Duration::from_millis(50));
        let waited = started.elapsed();
        assert!(
            matches!(refused, Err(SlotsBusy { slots: 1, .. })),
            "{refused:?}"
        );
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_secs(5),
            "waited {waited:?}"
        );
        drop(held);
        assert!(slots.acquire(Duration::ZERO).is_ok(), "the slot came back");
    }
}
