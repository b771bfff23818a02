use std::hint::black_box;
use std::time::Instant;
fn main() {
    let chain = greeks_black76::sample_chain(300);
    let mut sink = 0.0;
    let n = 5000;
    for _ in 0..n / 5 {
        sink += greeks_black76::compute(black_box(&chain))
            .map(|r| r.greeks.iv[150])
            .unwrap_or(0.0);
    }
    let mut best = f64::MAX;
    for _ in 0..9 {
        let t = Instant::now();
        for _ in 0..n {
            sink += greeks_black76::compute(black_box(&chain))
                .map(|r| r.greeks.iv[150])
                .unwrap_or(0.0);
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    println!(
        "compute(sample_chain(300)): {:.1} us best of 9 ({})",
        best * 1e6,
        sink.is_finite()
    );
}
