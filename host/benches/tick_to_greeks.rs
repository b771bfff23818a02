//! Tick to recomputed chain with Greeks: a load test, not a criterion benchmark. Run
//! with `cargo bench -p optionhub --bench tick_to_greeks` (about 25 s; the Greeks
//! component must be built first: `make plugins`, or set `OPTIONHUB_GREEKS_WASM`).
//!
//! Set-up, as the server runs it: the `greeks-black76` component in a [`PluginHost`], a
//! [`MarketState`] over the default simulator universe (five underlyings, every listed
//! expiry and strike) seeded once (previous close and a price for every call, put and
//! index, so every chain is fully priced), and [`LiveGreeks`] with a 250 ms coalescing
//! window, on a multi-threaded tokio runtime.
//!
//! Load: a feeder applies 10,000 packets per second across all chains for 20 s, one
//! packet per frame (Dhan sends one packet per WebSocket message), paced every
//! millisecond (catching up on timer lateness, so the average rate holds). The packets
//! are the simulator's (see `support`), generated before the run so that the simulator's
//! own cost is not part of it.
//!
//! Measured, per chain, by a task watching the chain's sequence
//! ([`MarketState::watch_chain`]) and its Greeks ([`LiveGreeks::watch`]): for every
//! Greeks computation stored for sequence S, latency = (when it was stored) − (when the
//! first change after the previous computation's sequence happened), i.e. how long a
//! tick waited to be reflected in Greeks. Latency minus the window is what the target
//! bounds: p99 ≤ 5 ms. The first two seconds are warm-up and not counted. Afterwards the
//! plugin call alone is timed on every chain as it stands.
#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

mod support;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use optionhub::config::PluginConfig;
use optionhub::feed::event::now_ns;
use optionhub::market::MarketState;
use optionhub::plugins::PluginHost;
use optionhub::plugins::live_greeks::{self, LiveGreeks, LiveGreeksConfig};
use optionhub::plugins::types;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

const SEED: u64 = 42;
const WINDOW: Duration = Duration::from_millis(250);
const RATE: f64 = 0.065;
/// Packets per second, across all chains.
const PACKETS_PER_SEC: f64 = 10_000.0;
const RUN: Duration = Duration::from_secs(20);
/// Shorter, for `cargo test --benches` (no `--bench` argument): a smoke run.
const SMOKE_RUN: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_secs(2);
const PACE: Duration = Duration::from_millis(1);
/// Simulated time per simulator step while generating traffic (its server's tick).
const SIM_STEP: Duration = Duration::from_millis(250);

/// One Greeks computation as the chain's watcher saw it.
#[derive(Debug, Clone, Copy)]
struct Sample {
    stored: Instant,
    latency: Duration,
}

fn greeks_wasm() -> PathBuf {
    std::env::var_os("OPTIONHUB_GREEKS_WASM").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/greeks_black76.wasm"),
        PathBuf::from,
    )
}

fn main() {
    let full_run = std::env::args().any(|arg| arg == "--bench");
    let run = if full_run { RUN } else { SMOKE_RUN };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(load_test(run));
}

/// Watches one chain until `stop`, returning every computation's latency.
async fn watch_chain(
    mut changes: watch::Receiver<u64>,
    mut computed: watch::Receiver<u64>,
    mut stop: watch::Receiver<bool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    // (sequence, when it was seen) of changes not yet reflected in Greeks.
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut last_computed = *changes.borrow_and_update();
    computed.borrow_and_update();
    loop {
        tokio::select! {
            // A change seen together with a computation happened first.
            biased;
            changed = changes.changed() => {
                if changed.is_err() {
                    break;
                }
                let seq = *changes.borrow_and_update();
                pending.push_back((seq, Instant::now()));
            }
            changed = computed.changed() => {
                if changed.is_err() {
                    break;
                }
                let stored = Instant::now();
                let seq = *computed.borrow_and_update();
                if let Some(&(_, first)) = pending.iter().find(|(s, _)| *s > last_computed) {
                    samples.push(Sample {
                        stored,
                        latency: stored.saturating_duration_since(first),
                    });
                }
                pending.retain(|(s, _)| *s > seq);
                last_computed = last_computed.max(seq);
            }
            _ = stop.changed() => break,
        }
    }
    samples
}

async fn load_test(run: Duration) {
    let plugins = PluginHost::new(PluginConfig::in_memory()).expect("plugin engine");
    let wasm = greeks_wasm();
    plugins.load_file(&wasm).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make plugins` first or set OPTIONHUB_GREEKS_WASM",
            wasm.display()
        )
    });

    let (mut sim, market) = support::sim_and_market(SEED, time::OffsetDateTime::now_utc());
    let mut seed_mix = support::Mix::default();
    for frame in support::stack(&support::seed_packets(&sim, &mut seed_mix), 100) {
        market.apply_frame(&frame, now_ns());
    }

    // The whole run's traffic, in arrival order, one packet per frame.
    let wanted = (run.as_secs_f64() * PACKETS_PER_SEC * 1.05).ceil() as usize;
    let mut mix = support::Mix::default();
    let mut traffic = Vec::with_capacity(wanted);
    let mut steps = 0;
    while traffic.len() < wanted {
        support::step_packets(&mut sim, SIM_STEP, &mut mix, &mut traffic);
        steps += 1;
    }
    let ids = market.chain_ids();
    println!(
        "tick_to_greeks: {} chains, {} instruments seeded ({} packets); traffic from {steps} \
         simulator steps: {}",
        ids.len(),
        sim.universe().instruments.len(),
        seed_mix.total(),
        mix.describe(),
    );

    let greeks = LiveGreeks::spawn(
        market.clone(),
        plugins.clone(),
        LiveGreeksConfig {
            window: WINDOW,
            rate: RATE,
        },
    );
    let (stop, stop_rx) = watch::channel(false);
    let watchers: Vec<_> = ids
        .iter()
        .map(|id| {
            let changes = market.watch_chain(id).expect("chain watch");
            let computed = greeks.watch(id).expect("greeks watch");
            tokio::spawn(watch_chain(changes, computed, stop_rx.clone()))
        })
        .collect();

    let begin = Instant::now();
    let (sent, fed_for) = feed(&market, &traffic, run).await;
    // Let the last window's computations land.
    tokio::time::sleep(WINDOW * 2).await;
    stop.send_replace(true);
    let mut latencies = Vec::new();
    let mut computations = 0;
    for watcher in watchers {
        for sample in watcher.await.expect("watcher") {
            computations += 1;
            if sample.stored >= begin + WARM_UP {
                latencies.push(sample.latency);
            }
        }
    }

    println!(
        "feeder: {sent} packets in {:.2} s = {:.0} packets/s (target {PACKETS_PER_SEC:.0})",
        fed_for.as_secs_f64(),
        sent as f64 / fed_for.as_secs_f64(),
    );
    println!(
        "greeks: {computations} computations ({:.2} per chain per second); \
         {} counted after a {} s warm-up",
        computations as f64 / ids.len() as f64 / fed_for.as_secs_f64(),
        latencies.len(),
        WARM_UP.as_secs(),
    );
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let mut latency_ms: Vec<f64> = latencies.iter().map(ms).collect();
    let mut beyond_ms: Vec<f64> = latencies.iter().map(|d| ms(d) - ms(&WINDOW)).collect();
    print_distribution("latency (ms)", &mut latency_ms);
    print_distribution("latency - window (ms)", &mut beyond_ms);

    let mut solved = 0;
    let mut priced = 0;
    for id in &ids {
        if let Some(result) = greeks.get(id) {
            priced += result.contracts.len();
            solved += result
                .contracts
                .values()
                .filter(|c| c.iv_status == "solved")
                .count();
        }
    }
    println!("last results: {solved} of {priced} contracts with a solved IV");

    // The plugin call alone, on every chain as it now stands.
    let mut call_ms = Vec::new();
    let mut contracts = Vec::new();
    for id in &ids {
        let Some(snapshot) = market
            .chain_view(id)
            .and_then(|view| live_greeks::snapshot(&view, RATE))
        else {
            continue;
        };
        contracts.push(snapshot.contracts.security_id.len() as f64);
        let input: types::ChainSnapshot = snapshot.into();
        for _ in 0..10 {
            let started = std::time::Instant::now();
            plugins.call_greeks(&input).expect("greeks call");
            call_ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    print_distribution("contracts per chain", &mut contracts);
    print_distribution("plugin call, idle (ms)", &mut call_ms);
}

/// Applies `traffic` at [`PACKETS_PER_SEC`] for `run`; returns packets sent and the
/// time it took.
async fn feed(market: &Arc<MarketState>, traffic: &[Vec<u8>], run: Duration) -> (usize, Duration) {
    let mut pace = tokio::time::interval(PACE);
    pace.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let begin = Instant::now();
    let mut sent = 0;
    loop {
        pace.tick().await;
        let elapsed = begin.elapsed();
        if elapsed >= run {
            return (sent, elapsed);
        }
        let due = ((elapsed.as_secs_f64() * PACKETS_PER_SEC) as usize).min(traffic.len());
        while sent < due {
            if let Some(frame) = traffic.get(sent) {
                market.apply_frame(frame, now_ns());
            }
            sent += 1;
        }
    }
}

fn print_distribution(what: &str, values: &mut [f64]) {
    if values.is_empty() {
        println!("{what:>24}: no samples");
        return;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((values.len() - 1) as f64 * q).round() as usize;
        values.get(i).copied().unwrap_or(f64::NAN)
    };
    println!(
        "{what:>24}: n {:>6}  p50 {:>8.2}  p90 {:>8.2}  p99 {:>8.2}  max {:>8.2}",
        values.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
    );
}
