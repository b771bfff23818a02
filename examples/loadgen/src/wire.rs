//! `loadgen wire`: WebSocket bytes on the wire per client per second, with and without
//! permessage-deflate, measured in one run.
//!
//! Half the clients offer permessage-deflate in the handshake, half do not; all
//! subscribe to the same channels at once. Each counts every byte its socket receives
//! (frame headers included: what a network carries, not what the application reads).
//! It parses no frame: tokio-tungstenite cannot read compressed frames, and for
//! counting bytes none is needed. The clients never answer pings, so keep `--duration`
//! under the server's idle timeout (2.5 heartbeats, 50 s by default).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone, Args)]
pub(crate) struct WireArgs {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: String,
    /// WebSocket path.
    #[arg(long, default_value = "/ws/live")]
    pub path: String,
    #[arg(long, env = "LOADGEN_TOKEN")]
    pub token: String,
    /// Clients of each kind (compressing and plain).
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Channels each client subscribes to.
    #[arg(long, value_delimiter = ',', required = true)]
    pub channels: Vec<String>,
    /// Seconds to measure, after the snapshots.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
}

/// Bytes received by the clients of one kind while measuring.
#[derive(Debug, Default)]
struct Tally {
    bytes: AtomicU64,
    /// Clients whose handshake answer accepted the extension.
    negotiated: AtomicU64,
    failed: AtomicU64,
}

pub(crate) async fn run(args: WireArgs) -> anyhow::Result<()> {
    let measuring = Arc::new(AtomicBool::new(false));
    let (plain, deflate) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        for (offer, tally) in [(false, &plain), (true, &deflate)] {
            let (args, tally, measuring) = (args.clone(), tally.clone(), measuring.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(error) = client(&args, offer, &tally, &measuring).await {
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("client: {error}");
                }
            }));
        }
    }
    // Every client's snapshots arrive before measuring starts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for task in &tasks {
        task.abort();
    }
    #[expect(clippy::cast_precision_loss, reason = "rates for display")]
    let per_client = |tally: &Tally| {
        tally.bytes.load(Ordering::Relaxed) as f64 / elapsed / args.clients.max(1) as f64
    };
    let (plain_rate, deflate_rate) = (per_client(&plain), per_client(&deflate));
    println!(
        "== {} + {} WebSocket clients on {}, {:.0} s",
        args.clients,
        args.clients,
        args.channels.join(","),
        elapsed
    );
    println!(
        "plain:    {:.1} KB per client per second ({} failed)",
        plain_rate / 1e3,
        plain.failed.load(Ordering::Relaxed)
    );
    println!(
        "deflate:  {:.1} KB per client per second ({} negotiated, {} failed)",
        deflate_rate / 1e3,
        deflate.negotiated.load(Ordering::Relaxed),
        deflate.failed.load(Ordering::Relaxed)
    );
    if deflate_rate > 0.0 {
        println!("ratio:    {:.2}x fewer bytes", plain_rate / deflate_rate);
    }
    Ok(())
}

async fn client(
    args: &WireArgs,
    offer: bool,
    tally: &Tally,
    measuring: &AtomicBool,
) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(&args.addr).await?;
    stream.set_nodelay(true)?;
    let extension = if offer {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET {}?token={} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n",
        args.path, args.token, args.addr
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0u8; 64 << 10];
    let mut head = Vec::new();
    // What follows the handshake answer (the welcome) is not measured anyway.
    loop {
        let n = stream.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "closed during the handshake");
        head.extend_from_slice(&buffer[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_lowercase();
    anyhow::ensure!(
        text.starts_with("http/1.1 101"),
        "refused: {}",
        text.lines().next().unwrap_or("")
    );
    if text.contains("sec-websocket-extensions: permessage-deflate") {
        tally.negotiated.fetch_add(1, Ordering::Relaxed);
    }
    let subscribe = serde_json::json!({"action": "subscribe", "channels": args.channels});
    stream
        .write_all(&masked_text(subscribe.to_string().as_bytes()))
        .await?;
    loop {
        let n = stream.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "closed by the server");
        if measuring.load(Ordering::Relaxed) {
            tally.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// One masked, final text frame (a client must mask).
fn masked_text(payload: &[u8]) -> Vec<u8> {
    let key = [0x5a, 0x17, 0xc3, 0x88];
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}
