//! Plugin runtime benchmarks (criterion). Run with `make bench`; figures and the
//! commands that produced them are in BENCHMARKS.md.
//!
//! - `greeks_300`: Greeks + IV for a 300-contract chain, natively (the same library the
//!   component is built from) and through the wasm component (fresh store, instantiate,
//!   call, validate, drop: what every real call costs);
//! - `empty_call`: `meta.info()`, the fixed cost of any call;
//! - `load`: cold compile versus loading a cached precompiled artifact, and the whole
//!   load pipeline (compile or cache, contract check, `info()`, self-test);
//! - `hot_swap`: from a new file renamed into the watched directory to the new version
//!   serving, compilation included.
//!
//! The components must be built first (`make fixtures`, which `make bench` runs).
#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use optionhub::config::PluginConfig;
use optionhub::plugins::artifacts::{ArtifactCache, content_hash};
use optionhub::plugins::engine::EPOCH_TICK;
use optionhub::plugins::{PluginHost, PluginSource, sandbox, types, watcher};

fn component(file: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(file);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make fixtures` first", path.display()))
}

fn greeks_wasm() -> Vec<u8> {
    component("wasm32-wasip2/release/greeks_black76.wasm")
}

fn greeks_300(c: &mut Criterion) {
    let chain = greeks_black76::sample_chain(300);
    let wit_chain: types::ChainSnapshot = chain.clone().into();
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    host.load_bytes(&greeks_wasm(), PluginSource::Bytes)
        .expect("greeks plugin loads");

    let mut group = c.benchmark_group("greeks_300");
    group.bench_function("native", |b| {
        b.iter(|| greeks_black76::compute(std::hint::black_box(&chain)))
    });
    group.bench_function("wasm", |b| {
        b.iter(|| host.call_greeks(std::hint::black_box(&wit_chain)))
    });
    group.finish();
}

fn empty_call(c: &mut Criterion) {
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    host.load_bytes(&greeks_wasm(), PluginSource::Bytes)
        .expect("loads");
    c.bench_function("empty_call/info", |b| {
        b.iter(|| host.call_info("greeks-black76"))
    });
    // The part of the fixed cost that is the sandbox itself (deny-all WASI context,
    // limiter, captured output, store), before any instantiation.
    let engine = host.engine().engine().clone();
    let limits = *host.limits();
    c.bench_function("empty_call/store_only", |b| {
        b.iter(|| sandbox::new_store(&engine, &limits, EPOCH_TICK))
    });
}

fn load(c: &mut Criterion) {
    let bytes = greeks_wasm();
    let hash = content_hash(&bytes);
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    let engine = host.engine().engine().clone();
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let cached = ArtifactCache::open(&engine, Some(cache_dir.path().join("plugin-cache")))
        .expect("cache opens");
    cached
        .compile(&engine, &bytes, &hash)
        .expect("fills the cache");
    let uncached = ArtifactCache::open(&engine, None).expect("no cache");

    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile_cold", |b| {
        b.iter(|| uncached.compile(&engine, &bytes, &hash))
    });
    group.bench_function("artifact_cached", |b| {
        b.iter(|| cached.compile(&engine, &bytes, &hash))
    });

    let mut config = PluginConfig::in_memory();
    config.cache_dir = Some(cache_dir.path().to_path_buf());
    let cached_host = PluginHost::new(config).expect("engine");
    group.bench_function("pipeline_cached", |b| {
        b.iter(|| cached_host.check(&bytes, PluginSource::Bytes))
    });
    group.finish();
}

fn install(dir: &Path, bytes: &[u8]) -> Instant {
    let temporary: PathBuf = dir.join(".probe.partial");
    std::fs::write(&temporary, bytes).expect("write");
    let renamed = Instant::now();
    std::fs::rename(&temporary, dir.join("probe.wasm")).expect("rename");
    renamed
}

fn hot_swap(c: &mut Criterion) {
    let builds = [
        component("wasm32-wasip2/release/probe.wasm"),
        component("probe-v2/wasm32-wasip2/release/probe.wasm"),
    ];
    let hashes = [content_hash(&builds[0]), content_hash(&builds[1])];
    let dir = tempfile::tempdir().expect("tempdir");
    // No artifact cache: every swap compiles, the worst case.
    let host = PluginHost::new(PluginConfig::in_memory()).expect("engine");
    let _watcher = watcher::watch(Arc::clone(&host), dir.path()).expect("watch");
    let mut next = 0;
    let mut group = c.benchmark_group("hot_swap");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("rename_to_serving", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                next = 1 - next;
                let renamed = install(dir.path(), &builds[next]);
                while host
                    .registry()
                    .active("probe")
                    .is_none_or(|p| p.hash != hashes[next])
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
                total += renamed.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, greeks_300, empty_call, load, hot_swap);
criterion_main!(benches);
