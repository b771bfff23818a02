//! Ingest to state (criterion): how many feed packets per second one core applies to
//! the [`MarketState`] (decode, locate the instrument, update its book, bump and announce
//! the chain sequences). Run with `cargo bench -p optionhub --bench ingest`.
//!
//! The market holds every instrument of the default simulator universe (five
//! underlyings, all listed expiries and strikes), seeded once. The traffic is the
//! simulator's own (fixed seed and start): the instruments each 250 ms step changed,
//! encoded in their subscription mode (see `support`: mostly Ticker and Quote + OI, some
//! Full, index Tickers), about 100,000 packets in arrival order, replayed in rotation:
//!
//! - `ingest/frame_100`: frames of 100 stacked packets (per-packet cost);
//! - `ingest/frame_1`: one packet per frame, Dhan's real cadence (one packet per
//!   WebSocket message), where the per-frame work (status counters, the write lock, the
//!   touched-chain list, one watch notification per touched chain) is paid per packet.
//!
//! - `ingest/events_256x1`: the live ingest path: batches of 256 one-packet frames as the
//!   ingest task hands them over (`apply_events`: one lock and one notification per
//!   touched chain per batch).
//!
//! Throughput is in packets. Target: at least 2 million packets per second.
#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::macros::datetime;

/// A Wednesday, 09:30 IST: every series is live.
const START: time::OffsetDateTime = datetime!(2026-11-18 04:00 UTC);
const SEED: u64 = 42;
const STEP: Duration = Duration::from_millis(250);
const TRAFFIC_PACKETS: usize = 100_000;
const PER_FRAME: usize = 100;

fn ingest(c: &mut Criterion) {
    let (mut sim, market) = support::sim_and_market(SEED, START);
    let mut seed_mix = support::Mix::default();
    let seed = support::seed_packets(&sim, &mut seed_mix);
    for frame in support::stack(&seed, PER_FRAME) {
        market.apply_frame(&frame, 1);
    }

    let mut mix = support::Mix::default();
    let mut packets = Vec::new();
    let mut steps = 0;
    while packets.len() < TRAFFIC_PACKETS {
        support::step_packets(&mut sim, STEP, &mut mix, &mut packets);
        steps += 1;
    }
    // Whole frames only (the last chunk may be short).
    let mut frames_100 = support::stack(&packets, PER_FRAME);
    frames_100.truncate(packets.len() / PER_FRAME);
    let frames_1 = packets;
    eprintln!(
        "ingest: {} chains; seeded with {}; traffic from {steps} simulator steps: {}",
        market.chain_ids().len(),
        seed_mix.total(),
        mix.describe(),
    );

    // Every packet must land, or a broken frame could look fast.
    let applied: usize = frames_100.iter().map(|f| market.apply_frame(f, 2)).sum();
    assert_eq!(
        applied,
        frames_100.len() * PER_FRAME,
        "every packet applies"
    );

    let mut group = c.benchmark_group("ingest");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, frames, per_frame) in [
        ("frame_100", &frames_100, PER_FRAME),
        ("frame_1", &frames_1, 1),
    ] {
        group.throughput(Throughput::Elements(per_frame as u64));
        let mut next = 0;
        let mut at_ns = 1_000_i64;
        group.bench_function(name, |b| {
            b.iter(|| {
                let frame = &frames[next];
                next = (next + 1) % frames.len();
                at_ns += 1;
                market.apply_frame(black_box(frame), at_ns)
            })
        });
    }
    // The ingest task's real unit: whatever queued up, up to 256 events.
    let events: Vec<optionhub::feed::event::FeedEvent> = frames_1
        .iter()
        .map(|frame| optionhub::feed::event::FeedEvent {
            received_at_ns: 3,
            payload: optionhub::feed::event::FeedPayload::Frame(bytes::Bytes::from(frame.clone())),
        })
        .collect();
    let batches: Vec<&[optionhub::feed::event::FeedEvent]> = events.chunks_exact(256).collect();
    group.throughput(Throughput::Elements(256));
    let mut next = 0;
    group.bench_function("events_256x1", |b| {
        b.iter(|| {
            let batch = batches[next];
            next = (next + 1) % batches.len();
            market.apply_events(black_box(batch))
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
