//! Latency histograms and how they are printed (plain text, one figure per line, so a
//! run can be pasted into BENCHMARKS.md as it is).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies in microseconds, 1 µs to 60 s, 3 significant figures.
#[derive(Debug, Clone)]
pub(crate) struct Latencies {
    histogram: Histogram<u64>,
    pub failures: BTreeMap<String, u64>,
    /// Body bytes of the successful answers, as received (compressed or not).
    body_bytes: u64,
}

impl Latencies {
    pub(crate) fn new() -> anyhow::Result<Self> {
        Ok(Self {
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3)?,
            failures: BTreeMap::new(),
            body_bytes: 0,
        })
    }

    pub(crate) fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let _ = self.histogram.record(micros.clamp(1, 60_000_000));
    }

    pub(crate) fn add_body_bytes(&mut self, bytes: usize) {
        self.body_bytes = self.body_bytes.saturating_add(bytes as u64);
    }

    pub(crate) fn fail(&mut self, why: impl Into<String>) {
        *self.failures.entry(why.into()).or_default() += 1;
    }

    pub(crate) fn merge(&mut self, other: &Latencies) {
        let _ = self.histogram.add(&other.histogram);
        for (why, count) in &other.failures {
            *self.failures.entry(why.clone()).or_default() += count;
        }
        self.body_bytes = self.body_bytes.saturating_add(other.body_bytes);
    }

    pub(crate) fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// The latency at `quantile` (0.99 for p99), in ms.
    pub(crate) fn ms(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Prints the summary under a title.
    pub(crate) fn print(&self, title: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        println!("== {title}");
        println!("ok:          {}", self.count());
        println!("failed:      {}", self.failed());
        for (why, count) in &self.failures {
            println!("  {why}: {count}");
        }
        println!("throughput:  {:.0} /s", self.count() as f64 / seconds);
        if self.body_bytes > 0 {
            println!(
                "body:        {:.0} bytes per answer",
                self.body_bytes as f64 / self.count().max(1) as f64
            );
        }
        if self.count() > 0 {
            println!("p50:         {:.3} ms", self.ms(0.50));
            println!("p90:         {:.3} ms", self.ms(0.90));
            println!("p99:         {:.3} ms", self.ms(0.99));
            println!("p99.9:       {:.3} ms", self.ms(0.999));
            println!(
                "max:         {:.3} ms",
                self.histogram.max() as f64 / 1000.0
            );
        }
    }
}

/// Resident memory of a process, from `/proc` (Linux), in MiB.
pub(crate) fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
