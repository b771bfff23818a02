//! M2M valuation of 1,000 open saved strategies per cycle (target: at most 50 ms a
//! cycle). Runs the real server on the built-in simulator with the bundled plugins,
//! saves 1,000 NIFTY strategies of two to four legs around the money, and measures:
//!
//! - `valuation`: the worker's valuation step alone: market inputs for every leg (each
//!   chain read once per cycle) and one `strategy-valuation` plugin call per strategy;
//! - `cycle`: a whole worker cycle: read the open strategies and their legs from SQLite,
//!   value them, append 1,000 M2M points and publish them;
//! - `read_open` and `append_1000`: the cycle's two store steps on their own.
//!
//! The components must be built first (`make fixtures`). Figures are in BENCHMARKS.md.
#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use optionhub::auth::{Principal, Role, Tier};
use optionhub::portfolio::MarketValuer;
use optionhub::portfolio::worker::{self, Valuer};
use optionhub::store::strategies::{NewLeg, NewStrategy, Side};

const STRATEGIES: usize = 1_000;

fn component(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release")
        .join(file)
}

fn m2m(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let data = tempfile::tempdir().expect("tempdir");
    let plugins = data.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    for file in ["greeks_black76.wasm", "strategy_valuation.wasm"] {
        std::fs::copy(component(file), plugins.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}; run `make fixtures` first"));
    }
    let mut config = optionhub::cli::ServeArgs::from_env().into_config();
    config.server = optionhub::config::ServerConfig::new("127.0.0.1:0".parse().expect("addr"));
    config.data.dir = data.path().to_path_buf();
    config.store = optionhub::config::StoreConfig::sqlite_in(data.path());
    config.plugins =
        optionhub::config::PluginConfig::new(Some(plugins), config.data.plugin_cache_dir());
    config.feed.underlyings = vec!["NIFTY".into()];
    config.auth =
        optionhub::config::AuthConfig::development(Some("m2m-bench-secret-of-enough-bytes".into()));
    // The bench runs the cycles itself.
    config.portfolio.m2m_interval = Duration::from_secs(3_600);
    let server = runtime
        .block_on(optionhub::server::start(config))
        .expect("server starts");
    let state = server.state.clone();
    let token = state
        .tokens
        .issue(&Principal {
            user: "bench".into(),
            role: Role::Trader,
            tier: Tier::Pro,
        })
        .expect("token");
    let contracts = runtime.block_on(contracts_near_the_money(
        &format!("http://{}", server.addr),
        &token,
    ));
    runtime.block_on(async {
        let store = state.store.strategies();
        for i in 0..STRATEGIES {
            let created = store
                .create(NewStrategy {
                    owner: "bench",
                    name: &format!("s{i}"),
                    underlying: "NIFTY",
                    account_id: None,
                })
                .await
                .expect("create");
            for leg in 0..(2 + i % 3) {
                let security_id = contracts[(i * 7 + leg * 3) % contracts.len()];
                store
                    .add_leg(
                        "bench",
                        created.id,
                        NewLeg {
                            security_id: i64::try_from(security_id).expect("id"),
                            side: if leg % 2 == 0 { Side::Buy } else { Side::Sell },
                            lots: 1 + i64::try_from(i % 4).expect("small"),
                            entry_price_paise: 10_000 + 5 * i64::try_from(i).expect("small"),
                            entry_time_ms: 0,
                        },
                        None,
                    )
                    .await
                    .expect("leg");
            }
        }
    });
    let strategies = runtime
        .block_on(state.store.strategies().open())
        .expect("open strategies");
    let valuer = MarketValuer::new(state.live_market());
    let answers = valuer.value(&strategies);
    let failed: Vec<&String> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "some strategies cannot be valued: {:?}",
        failed.first()
    );

    let mut group = c.benchmark_group("m2m_1000");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("valuation", |b| {
        b.iter(|| valuer.value(std::hint::black_box(&strategies)))
    });
    let dyn_valuer: Arc<dyn Valuer> = Arc::new(valuer.clone());
    group.bench_function("cycle", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(worker::cycle(&state.store, &state.m2m, &dyn_valuer))
                .expect("cycle");
            assert_eq!(report.skipped, 0);
        })
    });
    // The cycle's two store steps on their own.
    group.bench_function("read_open", |b| {
        b.iter(|| {
            runtime
                .block_on(state.store.strategies().open())
                .expect("open")
        })
    });
    let mut at_ms = 1_i64;
    group.bench_function("append_1000", |b| {
        b.iter(|| {
            at_ms += 1;
            let rows: Vec<(i64, optionhub::store::m2m::M2mRow)> = strategies
                .iter()
                .map(|s| {
                    let row = optionhub::store::m2m::M2mRow {
                        at_ms,
                        m2m_paise: 100,
                        strategy_version: s.version,
                    };
                    (s.id, row)
                })
                .collect();
            runtime
                .block_on(state.store.m2m().append_all(&rows))
                .expect("append")
        })
    });
    group.finish();
    runtime.block_on(server.stop()).expect("stops");
}

/// Calls and puts within ten strikes of the money on the first NIFTY expiry that is not
/// today, once that chain has Greeks.
async fn contracts_near_the_money(base: &str, token: &str) -> Vec<u64> {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client.get(format!("{base}{path}")).bearer_auth(token);
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (
                status,
                response.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, expiries) = get("/api/v2/options/expiries?underlying=NIFTY".into()).await;
        let expiry = expiries["expiries"].as_array().and_then(|list| {
            list.iter()
                .filter_map(|e| e["date"].as_str())
                .find(|d| *d != today)
                .map(str::to_string)
        });
        if let Some(expiry) = expiry {
            let evaluate = (get)(format!(
                "/api/v2/options/live?underlying=NIFTY&expiry={expiry}"
            ))
            .await;
            let live = evaluate.1;
            let atm = live["atm_strike"].as_f64().unwrap_or(0.0);
            let rows = live["strikes"].as_array().cloned().unwrap_or_default();
            let at = rows
                .iter()
                .position(|s| s["strike"].as_f64() == Some(atm))
                .unwrap_or(0);
            let near: Vec<u64> = rows
                .iter()
                .skip(at.saturating_sub(10))
                .take(21)
                .flat_map(|s| {
                    [
                        s["call"]["security_id"].as_u64(),
                        s["put"]["security_id"].as_u64(),
                    ]
                })
                .flatten()
                .collect();
            // Ready when the stateless evaluate path values an ATM leg.
            if let Some(first) = near.get(near.len() / 2) {
                let body = serde_json::json!({"legs": [{"security_id": first, "side": "buy", "entry_price": "1"}]});
                let ok = client
                    .post(format!("{base}/api/v2/strategies/evaluate"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                let all_priced = near.len() >= 40;
                if ok && all_priced {
                    return near;
                }
            }
        }
        assert!(Instant::now() < deadline, "NIFTY never got Greeks");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

criterion_group!(benches, m2m);
criterion_main!(benches);
