//! `loadgen soak`: everything an outsider does at once, for a long time, to find what
//! leaks or breaks only under sustained mixed load.
//!
//! At once, for the whole run:
//! - WebSocket clients with churn: each client lives a random lifetime around
//!   `clients / churn` seconds, closes, and a new one takes its place;
//! - REST at a fixed rate, cycling through ordinary routes (`--route`) and routes that
//!   call hostile plugins (`--hostile`), which are expected to fail, but only in the
//!   plugin's own way (never a 500, never a hang past the request timeout);
//! - a plugin upload every `--upload-every` seconds.
//!
//! It samples the server's RSS every second and reads the Greeks plugin's error
//! counter from `/metrics` after warm-up and at the end, then checks the targets: RSS
//! growth after warm-up under `--max-rss-growth-pct`, no 5xx on ordinary routes, no
//! 500 anywhere, no failed Greeks recomputation. It exits non-zero when one is missed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::report::rss_mib;
use crate::rest::{self, RestArgs};

#[derive(Debug, Clone, Args)]
pub(crate) struct SoakArgs {
    #[command(flatten)]
    pub rest: RestArgs,
    /// Ordinary routes (path and query) that must always answer 2xx.
    #[arg(long = "route", required = true)]
    pub routes: Vec<String>,
    /// Routes calling hostile plugins: any answer but a 500 (or a dropped request).
    #[arg(long = "hostile")]
    pub hostile: Vec<String>,
    /// Requests per second over the hostile routes, beside `--rate` over the others.
    #[arg(long, default_value_t = 4)]
    pub hostile_rate: u32,
    /// WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:8000/ws/live")]
    pub ws_url: String,
    /// WebSocket clients alive at any time.
    #[arg(long, default_value_t = 2000)]
    pub clients: usize,
    /// WebSocket clients replaced per second.
    #[arg(long, default_value_t = 20.0)]
    pub churn: f64,
    /// Channels, spread round-robin over the clients.
    #[arg(long, value_delimiter = ',', required = true)]
    pub channels: Vec<String>,
    /// Components uploaded in turn, one every `upload_every` seconds (needs an admin
    /// `--token`); give two versions of a plugin so each upload is a real swap.
    #[arg(long)]
    pub upload: Vec<std::path::PathBuf>,
    #[arg(long, default_value_t = 60)]
    pub upload_every: u64,
    /// The server's pid, for its resident memory.
    #[arg(long)]
    pub server_pid: u32,
    /// Name of the Greeks plugin whose error counter must not move.
    #[arg(long, default_value = "greeks-black76")]
    pub greeks_plugin: String,
    #[arg(long, default_value_t = 5.0)]
    pub max_rss_growth_pct: f64,
}

/// What the WebSocket clients saw, summed over every client that ever lived.
#[derive(Debug, Default)]
struct WsTally {
    connected: AtomicU64,
    messages: AtomicU64,
    failures: Mutex<BTreeMap<String, u64>>,
}

impl WsTally {
    async fn fail(&self, why: String) {
        *self.failures.lock().await.entry(why).or_default() += 1;
    }
}

pub(crate) async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let client = rest::client()?;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(WsTally::default());
    let clients = spawn_ws_clients(&args, &stop, &tally);
    let components = args
        .upload
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    let uploads = (!components.is_empty()).then(|| {
        let stop = stop.clone();
        let gap = Duration::from_secs(args.upload_every.max(1));
        rest::spawn_uploads(&client, &args.rest, components, gap, move |_| {
            !stop.load(Ordering::Relaxed)
        })
    });

    let warmup = Duration::from_secs(args.rest.warmup);
    println!("warm-up: {} s", warmup.as_secs());
    drive(&client, &args, warmup).await?;
    let rss_start = rss_mib(args.server_pid).unwrap_or(0.0);
    let greeks_start = greeks_errors(&client, &args).await?;
    println!("after warm-up: RSS {rss_start:.1} MiB, greeks errors {greeks_start}");

    let sampler = {
        let pid = args.server_pid;
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                samples.extend(rss_mib(pid));
            }
            samples
        })
    };
    let started = Instant::now();
    let duration = Duration::from_secs(args.rest.duration);
    let by_path = drive(&client, &args, duration).await?;
    let elapsed = started.elapsed();
    let rss_end = rss_mib(args.server_pid).unwrap_or(0.0);
    let greeks_end = greeks_errors(&client, &args).await?;
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.await?;
    for client in clients {
        client.abort();
    }
    let uploads = match uploads {
        Some(task) => task.await?,
        None => Vec::new(),
    };

    let mut missed = Vec::new();
    for (path, latencies) in &by_path {
        latencies.print(&format!("GET {path}"), elapsed);
        let ordinary = args.routes.contains(path);
        for (why, count) in &latencies.failures {
            let server_error = why.starts_with("HTTP 5");
            if why == "HTTP 500" || (ordinary && (server_error || why.starts_with("send"))) {
                missed.push(format!("{path}: {count} × {why}"));
            }
        }
    }
    println!("== WebSocket clients with churn");
    println!("connections: {}", tally.connected.load(Ordering::Relaxed));
    println!("messages:    {}", tally.messages.load(Ordering::Relaxed));
    for (why, count) in tally.failures.lock().await.iter() {
        println!("  {why}: {count}");
        missed.push(format!("WebSocket: {count} × {why}"));
    }
    println!("== uploads");
    for (status, took) in &uploads {
        println!("upload: {status:?} in {:.0} ms", took.as_secs_f64() * 1e3);
        if !matches!(status, Ok(code) if (200..300).contains(code)) {
            missed.push(format!("upload answered {status:?}"));
        }
    }
    let peak = samples.iter().copied().fold(rss_end, f64::max);
    // Single readings swing by tens of MiB with what is in flight (a hostile plugin's
    // 3 MB answer, a memory hog's pages), so growth compares levels: the median of the
    // run's first and last tenth.
    let window = (samples.len() / 10).max(1);
    let level_start = median(samples.iter().take(window).copied()).unwrap_or(rss_start);
    let level_end = median(samples.iter().rev().take(window).copied()).unwrap_or(rss_end);
    let growth = if level_start > 0.0 {
        (level_end - level_start) / level_start * 100.0
    } else {
        0.0
    };
    println!("== server");
    println!(
        "RSS after warm-up: {rss_start:.1} MiB; at the end: {rss_end:.1} MiB; peak {peak:.1} MiB"
    );
    println!(
        "RSS level (median of the first and last {window} s): {level_start:.1} → {level_end:.1} MiB"
    );
    println!("RSS growth:        {growth:.2} %");
    // The course over the run tells a leak (steady growth) from caches filling up to
    // their bounds (growth that flattens).
    let course: Vec<String> = [0.25, 0.5, 0.75]
        .iter()
        .filter_map(|share| {
            #[expect(clippy::cast_precision_loss, reason = "an index for display")]
            let at = (samples.len() as f64 * share) as usize;
            samples
                .get(at)
                .map(|rss| format!("{:.0} %: {rss:.1} MiB", share * 100.0))
        })
        .collect();
    println!("RSS over the run:  {}", course.join(", "));
    println!(
        "greeks errors:     {}",
        greeks_end.saturating_sub(greeks_start)
    );
    if growth > args.max_rss_growth_pct {
        missed.push(format!("RSS grew {growth:.2} %"));
    }
    if greeks_end > greeks_start {
        missed.push(format!(
            "{} Greeks recomputations failed",
            greeks_end - greeks_start
        ));
    }
    if missed.is_empty() {
        println!("all soak targets met");
        Ok(())
    } else {
        anyhow::bail!("soak targets missed:\n  {}", missed.join("\n  "))
    }
}

/// The ordinary routes at `--rate` and the hostile ones at `--hostile-rate`, at once.
async fn drive(
    client: &reqwest::Client,
    args: &SoakArgs,
    duration: Duration,
) -> anyhow::Result<BTreeMap<String, crate::report::Latencies>> {
    let hostile_args = RestArgs {
        rate: args.hostile_rate,
        ..args.rest.clone()
    };
    let (mut ordinary, hostile) = tokio::try_join!(
        rest::drive_paths(client, &args.rest, &args.routes, duration),
        async {
            if args.hostile.is_empty() {
                return Ok(BTreeMap::new());
            }
            rest::drive_paths(client, &hostile_args, &args.hostile, duration).await
        }
    )?;
    ordinary.extend(hostile);
    Ok(ordinary)
}

fn spawn_ws_clients(
    args: &SoakArgs,
    stop: &Arc<AtomicBool>,
    tally: &Arc<WsTally>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let url = format!(
        "{}{}token={}",
        args.ws_url,
        if args.ws_url.contains('?') { '&' } else { '?' },
        args.rest.token
    );
    #[expect(clippy::cast_precision_loss, reason = "a mean lifetime in seconds")]
    let mean_life = args.clients as f64 / args.churn.max(0.001);
    let ramp = Duration::from_millis(1);
    (0..args.clients)
        .map(|i| {
            let channel = args.channels[i % args.channels.len()].clone();
            let (url, stop, tally) = (url.clone(), stop.clone(), tally.clone());
            // Lifetimes spread evenly over 0.5..1.5 × the mean, so that replacements
            // arrive at a steady rate instead of in waves.
            #[expect(clippy::cast_precision_loss, reason = "a fraction for spreading")]
            let spread = 0.5 + (i as f64 * 0.618_034).fract();
            let life = Duration::from_secs_f64(mean_life * spread);
            tokio::spawn(async move {
                tokio::time::sleep(ramp * u32::try_from(i).unwrap_or(u32::MAX)).await;
                while !stop.load(Ordering::Relaxed) {
                    if let Err(why) = live_once(&url, &channel, life, &tally).await {
                        tally.fail(why).await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            })
        })
        .collect()
}

/// One client's life: connect, subscribe, read for `life`, close.
async fn live_once(
    url: &str,
    channel: &str,
    life: Duration,
    tally: &WsTally,
) -> Result<(), String> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tally.connected.fetch_add(1, Ordering::Relaxed);
    let subscribe = serde_json::json!({"action": "subscribe", "channels": [channel]});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let deadline = tokio::time::Instant::now() + life;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => break,
            Ok(None) => return Err("connection ended by the server".into()),
            Ok(Some(Err(e))) => return Err(format!("read: {e}")),
            Ok(Some(Ok(Message::Close(frame)))) => {
                let code = frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                return Err(format!("closed by the server with {code}"));
            }
            Ok(Some(Ok(_))) => {
                tally.messages.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let _ = socket.close(None).await;
    Ok(())
}

/// The median of some readings; `None` when there are none.
fn median(readings: impl Iterator<Item = f64>) -> Option<f64> {
    let mut readings: Vec<f64> = readings.collect();
    readings.sort_by(f64::total_cmp);
    readings.get(readings.len() / 2).copied()
}

/// `plugin_errors_total` of the Greeks plugin, summed over its versions.
async fn greeks_errors(client: &reqwest::Client, args: &SoakArgs) -> anyhow::Result<u64> {
    let text = client
        .get(format!("{}/metrics", args.rest.url))
        .bearer_auth(&args.rest.token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let label = format!("plugin=\"{}\"", args.greeks_plugin);
    Ok(text
        .lines()
        .filter(|line| line.starts_with("plugin_errors_total") && line.contains(&label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_ignores_a_spike() {
        let readings = [250.0, 251.0, 310.0, 250.5, 252.0];
        assert_eq!(median(readings.into_iter()), Some(251.0));
        assert_eq!(median(std::iter::empty()), None);
    }
}
