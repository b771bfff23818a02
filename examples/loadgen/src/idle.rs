//! `loadgen idle`: WebSocket clients that connect and hold no channel, to measure what
//! an idle connection costs the server: its resident memory before the clients and
//! after them, per connection. Kernel socket buffers are not in a process's RSS, so the
//! figure is the server's own memory per connection.

use std::time::Duration;

use clap::Args;
use futures_util::StreamExt;

use crate::report::rss_mib;

#[derive(Debug, Clone, Args)]
pub(crate) struct IdleArgs {
    /// WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:8000/ws/live")]
    pub url: String,
    #[arg(long, env = "LOADGEN_TOKEN")]
    pub token: String,
    /// Clients to open.
    #[arg(long, default_value_t = 10_000)]
    pub clients: usize,
    /// Connections opened per second.
    #[arg(long, default_value_t = 2000)]
    pub connect_rate: u32,
    /// Seconds to wait with every client connected before reading the RSS.
    #[arg(long, default_value_t = 10)]
    pub settle: u64,
    /// The server's pid.
    #[arg(long)]
    pub server_pid: u32,
}

pub(crate) async fn run(args: IdleArgs) -> anyhow::Result<()> {
    let url = format!(
        "{}{}token={}",
        args.url,
        if args.url.contains('?') { '&' } else { '?' },
        args.token
    );
    let before = rss_mib(args.server_pid).ok_or_else(|| anyhow::anyhow!("no such pid"))?;
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.connect_rate.max(1)));
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let url = url.clone();
        clients.push(tokio::spawn(async move {
            let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
            // Reading answers the server's pings; nothing else arrives but the welcome.
            while let Some(message) = socket.next().await {
                message?;
            }
            anyhow::Ok(())
        }));
        tokio::time::sleep(gap).await;
    }
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let after = rss_mib(args.server_pid).ok_or_else(|| anyhow::anyhow!("server gone"))?;
    let alive = clients.iter().filter(|c| !c.is_finished()).count();
    for client in &clients {
        client.abort();
    }
    #[expect(clippy::cast_precision_loss, reason = "a figure for display")]
    let per_connection_kib = (after - before) * 1024.0 / alive.max(1) as f64;
    println!("{alive} of {} idle clients connected", args.clients);
    println!("server RSS: {before:.1} MiB before, {after:.1} MiB with them");
    println!("server RSS per idle connection: {per_connection_kib:.2} KiB");
    Ok(())
}
