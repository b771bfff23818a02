//! Many WebSocket subscribers, measuring update latency from the server's timestamp.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::report::{Latencies, rss_mib};

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
    /// The server's pid, to report its resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

pub(crate) async fn run(args: WsArgs) -> anyhow::Result<()> {
    let results = Arc::new(Mutex::new(Latencies::new()?));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let url = format!(
        "{}{}token={}",
        args.url,
        if args.url.contains('?') { '&' } else { '?' },
        args.token
    );
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.connect_rate.max(1)));
    let ramp = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let channel = args.channels[i % args.channels.len()].clone();
        let url = url.clone();
        let results = results.clone();
        let measuring = measuring.clone();
        let bytes = bytes.clone();
        clients.push(tokio::spawn(async move {
            if let Err(error) = client(&url, &channel, &results, &measuring, &bytes).await {
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
    measuring.store(true, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let mut peak_rss: f64 = 0.0;
    while started.elapsed() < Duration::from_secs(args.duration) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(rss) = args.server_pid.and_then(rss_mib) {
            peak_rss = peak_rss.max(rss);
        }
    }
    measuring.store(false, std::sync::atomic::Ordering::Relaxed);
    let elapsed = started.elapsed();
    let alive = clients.iter().filter(|c| !c.is_finished()).count();
    for client in &clients {
        client.abort();
    }
    let results = results.lock().await.clone();
    results.print(
        &format!(
            "{} WebSocket clients on {} channel(s): update latency",
            args.clients,
            args.channels.len()
        ),
        elapsed,
    );
    println!("clients still connected at the end: {alive}");
    #[expect(clippy::cast_precision_loss, reason = "rates for display")]
    let (per_second, clients) = (
        bytes.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        args.clients.max(1) as f64,
    );
    println!(
        "received {:.1} MB/s of messages ({:.1} KB per client per second)",
        per_second / 1e6,
        per_second / 1e3 / clients
    );
    if args.server_pid.is_some() {
        println!("server peak RSS: {peak_rss:.1} MiB");
    }
    Ok(())
}

async fn client(
    url: &str,
    channel: &str,
    results: &Mutex<Latencies>,
    measuring: &std::sync::atomic::AtomicBool,
    bytes: &AtomicU64,
) -> anyhow::Result<()> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let subscribe = serde_json::json!({"action": "subscribe", "channels": [channel]});
    socket.send(Message::text(subscribe.to_string())).await?;
    let mut local = Latencies::new()?;
    let mut flushed = Instant::now();
    while let Some(message) = socket.next().await {
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(frame) => anyhow::bail!("closed by server: {frame:?}"),
            _ => continue,
        };
        let received = now_ms();
        if measuring.load(std::sync::atomic::Ordering::Relaxed) {
            bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
            for stamp in server_stamps(&text) {
                local.record(Duration::from_secs_f64(((received - stamp) / 1e3).max(0.0)));
            }
        }
        // Merge into the shared histogram now and then, not per message.
        if flushed.elapsed() > Duration::from_millis(500) {
            results.lock().await.merge(&local);
            local = Latencies::new()?;
            flushed = Instant::now();
        }
    }
    results.lock().await.merge(&local);
    Ok(())
}

/// `server_ts_ms` of every update in a frame (one JSON message, a JSON array of them,
/// or several separated by newlines). Found by scanning, not parsing: a chain update is
/// ~100 KB of JSON, and parsing every one would make the generator, not the server, the
/// bottleneck on a shared machine. The server writes `type` and `server_ts_ms` before
/// `data`, and no payload field is named `type`.
fn server_stamps(text: &str) -> Vec<f64> {
    const UPDATE: &str = "\"type\":\"update\"";
    const STAMP: &str = "\"server_ts_ms\":";
    let mut stamps = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(UPDATE) {
        rest = &rest[at + UPDATE.len()..];
        let Some(stamp_at) = rest.find(STAMP) else {
            break;
        };
        let number = &rest[stamp_at + STAMP.len()..];
        let end = number
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(number.len());
        if let Ok(value) = number[..end].parse::<f64>() {
            stamps.push(value);
        }
        rest = &number[end..];
    }
    stamps
}

#[cfg(test)]
mod tests {
    use super::server_stamps;

    #[test]
    fn stamps_are_read_from_single_batched_and_line_separated_frames() {
        let one = r#"{"type":"update","server_ts_ms":10}"#;
        assert_eq!(server_stamps(one), [10.0]);
        let batch = r#"[{"type":"update","server_ts_ms":1},{"type":"ack"},{"type":"update","server_ts_ms":2}]"#;
        assert_eq!(server_stamps(batch), [1.0, 2.0]);
        let lines =
            "{\"type\":\"snapshot\",\"server_ts_ms\":5}\n{\"type\":\"update\",\"server_ts_ms\":6}";
        assert_eq!(server_stamps(lines), [6.0]);
        assert!(server_stamps("not json").is_empty());
    }
}
