//! Many WebSocket subscribers, measuring update latency from the server's timestamp,
//! and what the server spent: its CPU per delivered message (from `/proc/PID/stat` and
//! its `ws_messages_sent_total` over the same window), deliveries per second and the
//! messages it conflated, beside the generator's own CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use tokio::sync::Mutex;

use crate::cpu::CpuTime;
use crate::lean_client::{Frame, LeanClient};
use crate::report::{Latencies, rss_mib};
use crate::scrape;

#[derive(Debug, Clone, Args)]
pub(crate) struct WsArgs {
    /// WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:8000/ws/live")]
    pub url: String,
    #[arg(long, env = "LOADGEN_TOKEN")]
    pub token: String,
    /// Clients to open.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Channels, spread round-robin over the clients (one each).
    #[arg(long, value_delimiter = ',', required = true)]
    pub channels: Vec<String>,
    /// Seconds to measure once every client is connected.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Connections opened per second while ramping up.
    #[arg(long, default_value_t = 2000)]
    pub connect_rate: u32,
    /// The server's pid, to report its resident memory and CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seconds to measure the server's CPU before any client connects: its background
    /// (feed, ingest, Greeks), subtracted from the CPU per delivery.
    #[arg(long, default_value_t = 10)]
    pub baseline: u64,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// What one `loadgen ws` run measured.
#[derive(Debug, Clone)]
pub(crate) struct WsReport {
    pub clients: usize,
    pub channels: usize,
    /// Publish-to-receive latencies over the measured window.
    pub latencies: Latencies,
    pub elapsed: Duration,
    /// Clients still connected when the window closed.
    pub alive: usize,
    /// Messages and their bytes received over the window.
    pub messages: u64,
    pub bytes: u64,
    pub peak_rss_mib: Option<f64>,
    /// The server's CPU over the window (with its pid).
    pub server_cpu: Option<CpuTime>,
    /// The server's CPU with no client, and over how long.
    pub server_idle: Option<(CpuTime, Duration)>,
    /// The generator's own CPU over the window.
    pub own_cpu: Option<CpuTime>,
    /// Messages the server sent and dropped (conflated) over the window, from its
    /// `/metrics`.
    pub delivered: Option<u64>,
    pub dropped: Option<u64>,
}

impl WsReport {
    /// Mean bytes of a received message.
    pub(crate) fn mean_message_bytes(&self) -> u64 {
        self.bytes / self.messages.max(1)
    }

    /// The server's CPU per delivered message: user, system and total µs.
    pub(crate) fn server_micros_per_delivery(&self) -> Option<(f64, f64, f64)> {
        Some(self.server_cpu?.micros_per(self.delivered?))
    }

    /// The server's CPU per delivered message beyond its background with no client:
    /// what the deliveries cost.
    pub(crate) fn delivery_micros(&self) -> Option<(f64, f64, f64)> {
        let (idle, idle_window) = self.server_idle?;
        let net = self.server_cpu?.beyond(idle, idle_window, self.elapsed);
        Some(net.micros_per(self.delivered?))
    }

    pub(crate) fn print(&self) {
        self.latencies.print(
            &format!(
                "{} WebSocket clients on {} channel(s): update latency",
                self.clients, self.channels
            ),
            self.elapsed,
        );
        println!("clients still connected at the end: {}", self.alive);
        #[expect(clippy::cast_precision_loss, reason = "rates for display")]
        let (per_second, clients) = (
            self.bytes as f64 / self.elapsed.as_secs_f64(),
            self.clients.max(1) as f64,
        );
        println!(
            "received {:.1} MB/s of messages ({:.1} KB per client per second), {} bytes per message",
            per_second / 1e6,
            per_second / 1e3 / clients,
            self.mean_message_bytes()
        );
        if let Some(delivered) = self.delivered {
            #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
            let rate = delivered as f64 / self.elapsed.as_secs_f64();
            println!("server deliveries: {delivered} ({rate:.0} /s)");
        }
        if let Some(dropped) = self.dropped {
            println!("server conflated (dropped) messages: {dropped}");
        }
        if let Some((user, system, total)) = self.server_micros_per_delivery() {
            println!("server CPU per delivery: {total:.2} µs (user {user:.2}, system {system:.2})");
        }
        if let Some((idle, window)) = self.server_idle {
            println!(
                "server CPU with no client: {:.1} % of a core",
                idle.total().as_secs_f64() / window.as_secs_f64().max(1e-9) * 100.0
            );
        }
        if let Some((user, system, total)) = self.delivery_micros() {
            println!(
                "server CPU per delivery beyond that: {total:.2} µs (user {user:.2}, system {system:.2})"
            );
        }
        if let Some(cpu) = self.own_cpu {
            let (_, _, per_message) = cpu.micros_per(self.messages);
            println!(
                "generator CPU: {:.2} s (user {:.2}, system {:.2}), {per_message:.2} µs per message",
                cpu.total().as_secs_f64(),
                cpu.user.as_secs_f64(),
                cpu.system.as_secs_f64()
            );
        }
        if let Some(rss) = self.peak_rss_mib {
            println!("server peak RSS: {rss:.1} MiB");
        }
    }
}

pub(crate) async fn run(args: WsArgs) -> anyhow::Result<()> {
    measure(args).await?.print();
    Ok(())
}

/// Counters of the server's deliveries, read at both ends of the window.
struct ServerCounters {
    client: reqwest::Client,
    url: String,
}

impl ServerCounters {
    async fn read(&self) -> Option<(f64, f64)> {
        let sent = scrape::fetch_counter(&self.client, &self.url, "ws_messages_sent_total");
        let dropped = scrape::fetch_counter(&self.client, &self.url, "ws_messages_dropped_total");
        match tokio::join!(sent, dropped) {
            (Ok(sent), Ok(dropped)) => Some((sent, dropped)),
            (Err(error), _) | (_, Err(error)) => {
                eprintln!("cannot read the server's metrics: {error}");
                None
            }
        }
    }
}

/// Opens the clients, then measures for `args.duration` seconds.
pub(crate) async fn measure(args: WsArgs) -> anyhow::Result<WsReport> {
    let results = Arc::new(Mutex::new(Latencies::new()?));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = tokio::sync::watch::Sender::new(false);
    let received = Arc::new(Received::default());
    let url = format!(
        "{}{}token={}",
        args.url,
        if args.url.contains('?') { '&' } else { '?' },
        args.token
    );
    let counters = scrape::metrics_url(&args.url).map(|url| ServerCounters {
        client: reqwest::Client::new(),
        url,
    });
    let server_idle = match args.server_pid {
        Some(pid) => idle_cpu(pid, Duration::from_secs(args.baseline)).await,
        None => None,
    };
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.connect_rate.max(1)));
    let ramp = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let channel = args.channels[i % args.channels.len()].clone();
        let url = url.clone();
        let results = results.clone();
        let measuring = measuring.clone();
        let received = received.clone();
        let stop = stop.subscribe();
        clients.push(tokio::spawn(async move {
            if let Err(error) = client(&url, &channel, &results, &measuring, &received, stop).await
            {
                results.lock().await.fail(format!("client: {error}"));
            }
        }));
        tokio::time::sleep(gap).await;
    }
    println!(
        "{} clients started in {:.1} s",
        args.clients,
        ramp.elapsed().as_secs_f64()
    );
    // Let the last clients get their snapshots before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server_before = args.server_pid.and_then(CpuTime::of_process);
    let own_before = CpuTime::of_self();
    let counted_before = match &counters {
        Some(counters) => counters.read().await,
        None => None,
    };
    measuring.store(true, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let mut peak_rss: Option<f64> = None;
    while started.elapsed() < Duration::from_secs(args.duration) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(rss) = args.server_pid.and_then(rss_mib) {
            peak_rss = Some(peak_rss.unwrap_or(0.0).max(rss));
        }
    }
    measuring.store(false, std::sync::atomic::Ordering::Relaxed);
    let elapsed = started.elapsed();
    let server_cpu = args
        .server_pid
        .and_then(CpuTime::of_process)
        .zip(server_before)
        .map(|(after, before)| after.since(before));
    let own_cpu = CpuTime::of_self()
        .zip(own_before)
        .map(|(after, before)| after.since(before));
    let counted_after = match &counters {
        Some(counters) => counters.read().await,
        None => None,
    };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "counters are whole, non-negative numbers"
    )]
    let (delivered, dropped) = match (counted_before, counted_after) {
        (Some((sent0, dropped0)), Some((sent1, dropped1))) => (
            Some((sent1 - sent0).max(0.0) as u64),
            Some((dropped1 - dropped0).max(0.0) as u64),
        ),
        _ => (None, None),
    };
    let alive = clients.iter().filter(|c| !c.is_finished()).count();
    stop.send_replace(true);
    // Every client adds its latencies as it stops; one that does not stop in time
    // is cut off, and what it measured is lost (and its stop counted as a failure).
    let stopping = futures_util::future::join_all(clients.iter_mut());
    if tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .is_err()
    {
        results
            .lock()
            .await
            .fail("client: did not stop within 30 s".to_owned());
        for client in &clients {
            client.abort();
        }
    }
    let latencies = results.lock().await.clone();
    Ok(WsReport {
        clients: args.clients,
        channels: args.channels.len(),
        latencies,
        elapsed,
        alive,
        messages: received.messages.load(Ordering::Relaxed),
        bytes: received.bytes.load(Ordering::Relaxed),
        peak_rss_mib: peak_rss,
        server_cpu,
        server_idle,
        own_cpu,
        delivered,
        dropped,
    })
}

/// The server's CPU over `window` with no client of ours connected.
async fn idle_cpu(pid: u32, window: Duration) -> Option<(CpuTime, Duration)> {
    if window.is_zero() {
        return None;
    }
    let before = CpuTime::of_process(pid)?;
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let spent = CpuTime::of_process(pid)?.since(before);
    Some((spent, started.elapsed()))
}

/// What the clients received while measuring.
#[derive(Debug, Default)]
struct Received {
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// One client: reads until told to stop, recording each update's latency while the
/// window is open, and adds its latencies to `results` once, at the end. (Adding them
/// now and then would cost the generator more per message than the floor's receivers,
/// which add theirs once: a client's histogram is hundreds of kilobytes.)
async fn client(
    url: &str,
    channel: &str,
    results: &Mutex<Latencies>,
    measuring: &std::sync::atomic::AtomicBool,
    received: &Received,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut socket = LeanClient::connect(url).await?;
    let subscribe = serde_json::json!({"action": "subscribe", "channels": [channel]});
    socket.send_text(&subscribe.to_string()).await?;
    let mut local = Latencies::new()?;
    let outcome = loop {
        let read = socket.next_frames(|frame| {
            let arrived = now_ms();
            if !measuring.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            let (bytes, stamp) = match frame {
                Frame::Text(payload) => {
                    received.messages.fetch_add(1, Ordering::Relaxed);
                    (payload.len(), server_stamp(payload))
                }
                // The rest of a fragmented message: bytes, not a message.
                Frame::Other(len) => (len, None),
            };
            received.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            if let Some(stamp) = stamp {
                local.record(Duration::from_secs_f64(((arrived - stamp) / 1e3).max(0.0)));
            }
        });
        tokio::select! {
            read = read => if let Err(error) = read {
                break Err(error);
            },
            _ = stop.changed() => break Ok(()),
        }
    };
    results.lock().await.merge(&local);
    outcome
}

/// How far into a message its `server_ts_ms` can be: the server writes `type`,
/// `kind`, `channel`, `seq`, `prev_seq` and `server_ts_ms` before `data`.
const HEAD_BYTES: usize = 512;

/// `server_ts_ms` of an update message (one message per frame, as the server sends
/// them), read from the message's head without parsing or scanning the rest: a chain
/// update is kilobytes of JSON, and a generator that read all of it would spend more
/// per message than the floor's receivers, and so take the shared cores from the
/// server it measures.
fn server_stamp(text: &[u8]) -> Option<f64> {
    const UPDATE: &str = "{\"type\":\"update\"";
    const STAMP: &str = "\"server_ts_ms\":";
    let head = &text[..text.len().min(HEAD_BYTES)];
    let head = match std::str::from_utf8(head) {
        Ok(head) => head,
        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).ok()?,
    };
    let head = head.strip_prefix(UPDATE)?;
    let head = &head[..head.find("\"data\":").unwrap_or(head.len())];
    let number = &head[head.find(STAMP)? + STAMP.len()..];
    let end = number
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(number.len());
    number[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::server_stamp;

    #[test]
    fn the_stamp_is_read_from_an_updates_head_only() {
        let update = r#"{"type":"update","kind":"delta","channel":"NIFTY:2026-12-08","seq":7,"prev_seq":6,"server_ts_ms":1765100000123,"data":{"x":1}}"#;
        assert_eq!(server_stamp(update.as_bytes()), Some(1_765_100_000_123.0));
        let snapshot = r#"{"type":"snapshot","channel":"c","seq":5,"server_ts_ms":5,"data":{}}"#;
        assert_eq!(server_stamp(snapshot.as_bytes()), None);
        // A stamp-like field inside the data is not the message's.
        let late = r#"{"type":"update","seq":1,"data":{"server_ts_ms":9}}"#;
        assert_eq!(server_stamp(late.as_bytes()), None);
        let far = format!(
            r#"{{"type":"update","pad":"{}","server_ts_ms":3}}"#,
            "x".repeat(600)
        );
        assert_eq!(server_stamp(far.as_bytes()), None, "only the head is read");
        assert_eq!(server_stamp(b"not json"), None);
        assert_eq!(
            server_stamp("{\"type\":\"update\",\"server_ts_ms\":4,\"é\"".as_bytes()),
            Some(4.0)
        );
    }
}
