//! Snapshot rows written per second (criterion): the history writer's batch insert
//! (`store::history::History::insert`: one transaction of multi-row `INSERT`s, chunked
//! under the bind-parameter limit) into SQLite and, when `OPTIONHUB_TEST_POSTGRES_URL`
//! is set, into PostgreSQL (a fresh schema). Run with
//! `cargo bench -p optionhub --bench history`.
//!
//! Each iteration writes one writer batch of 20,000 rows (about twenty chains of 500
//! contracts, one snapshot) into a table that keeps growing, so index maintenance is
//! paid as in production. Throughput is in rows. Targets: at least 50,000 rows/s into
//! SQLite, 100,000 rows/s into PostgreSQL.
#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use optionhub::config::StoreConfig;
use optionhub::store::Store;
use optionhub::store::history::{RowGreeks, SnapshotRow};

const BATCH: usize = 20_000;

fn batch(ts_ms: i64) -> Vec<SnapshotRow> {
    let underlying: Arc<str> = "NIFTY".into();
    let expiry: Arc<str> = "2026-11-24".into();
    let plugin: Arc<str> = "greeks-black76@1.0.0".into();
    (0..BATCH)
        .map(|i| {
            let strike = 20_000.0 + 50.0 * (i / 2) as f64;
            SnapshotRow {
                ts_ms,
                underlying: underlying.clone(),
                expiry: expiry.clone(),
                strike,
                is_call: i % 2 == 0,
                security_id: 40_000 + u32::try_from(i).expect("id"),
                spot: 24_012.35,
                ltp: 101.25,
                bid: 101.2,
                ask: 101.35,
                greeks: Some(RowGreeks {
                    iv: 0.1234,
                    delta: 0.4821,
                    gamma: 0.000_91,
                    theta: -11.2,
                    vega: 12.7,
                }),
                oi: 1_250_000,
                volume: 3_400_000,
                plugin: Some(plugin.clone()),
            }
        })
        .collect()
}

async fn postgres(url: &str) -> Store {
    sqlx::any::install_default_drivers();
    let schema = format!("bench_{:08x}", rand::random::<u32>());
    let admin = sqlx::AnyPool::connect(url).await.expect("connect");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("schema");
    admin.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Store::open(&StoreConfig {
        url: format!("{url}{separator}options=-csearch_path%3D{schema}"),
        max_connections: 2,
        connect_wait: Duration::ZERO,
    })
    .await
    .expect("open")
}

fn bench_store(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, store: &Store) {
    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let mut ts_ms = 0;
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                ts_ms += 60_000;
                let rows = batch(ts_ms);
                let started = Instant::now();
                runtime
                    .block_on(store.history().insert(&rows))
                    .expect("insert");
                spent += started.elapsed();
            }
            spent
        });
    });
    group.finish();
}

fn history(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = runtime
        .block_on(Store::open(&StoreConfig::sqlite_in(dir.path())))
        .expect("open sqlite");
    bench_store(c, &runtime, "insert_sqlite", &sqlite);
    if let Ok(url) = std::env::var("OPTIONHUB_TEST_POSTGRES_URL") {
        let pg = runtime.block_on(postgres(&url));
        bench_store(c, &runtime, "insert_postgres", &pg);
    }
}

criterion_group!(benches, history);
criterion_main!(benches);
