use std::hint::black_box;
use std::time::Instant;
use optionhub_pricing::black76::Market;
fn time<F: FnMut() -> f64>(name: &str, n: usize, mut f: F) {
    let mut sink = 0.0;
    for _ in 0..n / 10 { sink += f(); }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..n { sink += f(); }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    println!("{name}: {:.2} us (best of 7) [{}]", best * 1e6, sink.is_finite());
}
fn main() {
    let chain = greeks_black76::sample_chain(300);
    let r = greeks_black76::compute(&chain).unwrap();
    let c = &chain.contracts;
    let m = Market::new(r.forward, r.time_to_expiry, chain.rate);
    let n = 5000;
    time("compute", n, || greeks_black76::compute(black_box(&chain)).map(|r| r.greeks.iv[150]).unwrap_or(0.0));
    time("iv only", n, || (0..300).map(|i| optionhub_pricing::implied::implied_vol_in(&m, c.reference_price(i).unwrap(), c.strike[i], c.is_call[i]).unwrap_or(0.0)).sum());
    time("price+greeks only", n, || (0..300).map(|i| { let (p, g) = m.price_and_greeks(c.strike[i], black_box(r.greeks.iv[i].max(0.01)), c.is_call[i]); p + g.delta }).sum());
    time("limit only", n, || (0..300).map(|i| { let (p, g) = m.zero_vol_limit(c.strike[i], c.is_call[i]); p + g.delta }).sum());
    time("synthetic forward", n, || optionhub_pricing::forward::synthetic_forward(black_box(c), chain.rate, r.time_to_expiry).unwrap_or(0.0));
    time("norm cdf x300", n, || (0..300).map(|i| optionhub_pricing::normal::cdf(black_box(i as f64 * 0.01 - 1.5))).sum());
}
