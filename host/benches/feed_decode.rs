//! Feed codec throughput (criterion): how many packets per second one core decodes
//! from frames of 1,000 stacked packets, the hot path of the live feed. Run with
//! `cargo bench -p optionhub --bench feed_decode`.
//!
//! - `feed_decode/quote_1000`: 1,000 Quote packets (50 B each) with varied values;
//! - `feed_decode/full_1000`: 1,000 Full packets (162 B each, five depth levels).
//!
//! Target: at least 10 million Quote packets per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use optionhub::feed::dhan::codec::{decode_frame, encode_packet};
use optionhub::feed::dhan::packet::{DepthLevel, Full, Packet, PacketBody, Quote};
use optionhub::instruments::{ExchangeSegment, InstrumentKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PACKETS: u32 = 1_000;

fn random_quote(rng: &mut ChaCha8Rng) -> Quote {
    let ltp = rng.random_range(0.05_f32..2_000.0);
    Quote {
        ltp,
        ltq: rng.random_range(1..5_000),
        ltt: 1_790_000_000 + rng.random_range(0..22_500),
        atp: ltp * rng.random_range(0.98..1.02),
        volume: rng.random(),
        total_sell_qty: rng.random(),
        total_buy_qty: rng.random(),
        open: ltp * rng.random_range(0.9..1.1),
        close: 0.0,
        high: ltp * rng.random_range(1.0..1.2),
        low: ltp * rng.random_range(0.8..1.0),
    }
}

fn random_full(rng: &mut ChaCha8Rng) -> Full {
    let q = random_quote(rng);
    let mut depth = [DepthLevel::default(); 5];
    for (i, level) in depth.iter_mut().enumerate() {
        let step = 0.05 * (i as f32 + 1.0);
        *level = DepthLevel {
            bid_qty: rng.random_range(0..100_000),
            ask_qty: rng.random_range(0..100_000),
            bid_orders: rng.random_range(0..500),
            ask_orders: rng.random_range(0..500),
            bid_price: q.ltp - step,
            ask_price: q.ltp + step,
        };
    }
    Full {
        ltp: q.ltp,
        ltq: q.ltq,
        ltt: q.ltt,
        atp: q.atp,
        volume: q.volume,
        total_sell_qty: q.total_sell_qty,
        total_buy_qty: q.total_buy_qty,
        oi: rng.random(),
        oi_day_high: rng.random(),
        oi_day_low: rng.random(),
        open: q.open,
        close: q.close,
        high: q.high,
        low: q.low,
        depth,
    }
}

fn frame_of(body: impl Fn(&mut ChaCha8Rng) -> PacketBody) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut frame = Vec::new();
    for i in 0..PACKETS {
        let packet = Packet {
            key: InstrumentKey::new(ExchangeSegment::NseFno, 35_000 + i),
            body: body(&mut rng),
        };
        encode_packet(&packet, &mut frame);
    }
    frame
}

/// Decodes the whole frame and folds every packet into a value the optimiser cannot
/// discard, counting errors so that a broken frame cannot look fast.
fn walk(frame: &[u8]) -> (u32, u32) {
    let mut ok = 0_u32;
    let mut checksum = 0_u32;
    for packet in decode_frame(frame).flatten() {
        ok += 1;
        checksum = checksum.wrapping_add(packet.key.security_id);
        black_box(&packet);
    }
    (ok, checksum)
}

fn feed_decode(c: &mut Criterion) {
    let quotes = frame_of(|rng| PacketBody::Quote(random_quote(rng)));
    let fulls = frame_of(|rng| PacketBody::Full(random_full(rng)));
    for frame in [&quotes, &fulls] {
        assert_eq!(walk(frame).0, PACKETS, "bench frame must decode whole");
    }

    let mut group = c.benchmark_group("feed_decode");
    group
        .throughput(Throughput::Elements(u64::from(PACKETS)))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("quote_1000", |b| b.iter(|| walk(black_box(&quotes))));
    group.bench_function("full_1000", |b| b.iter(|| walk(black_box(&fulls))));
    group.finish();
}

criterion_group!(benches, feed_decode);
criterion_main!(benches);
