//! `loadgen compare`: optionhub's WebSocket fan-out against this machine's floor, in
//! one invocation, so the two figures share the machine's state and can be read as
//! ratios. The `ws` run goes first; the floor then writes as many sockets with
//! messages of the mean size the clients received, so both move the same bytes.

use clap::Args;

use crate::floor::{self, FloorArgs};
use crate::ws::{self, WsArgs};

#[derive(Debug, Clone, Args)]
pub(crate) struct CompareArgs {
    #[command(flatten)]
    pub ws: WsArgs,
    /// Floor publications, each to every socket (enough writes that the writers' CPU,
    /// counted in 10 ms ticks, is read to a few percent).
    #[arg(long, default_value_t = 100)]
    pub floor_publications: usize,
    /// Milliseconds between floor publications.
    #[arg(long, default_value_t = 300)]
    pub floor_interval_ms: u64,
    /// Floor writer threads (default: one per core).
    #[arg(long)]
    pub floor_writers: Option<usize>,
}

pub(crate) async fn run(args: CompareArgs) -> anyhow::Result<()> {
    let clients = args.ws.clients;
    let server = ws::measure(args.ws).await?;
    server.print();
    let writers = args.floor_writers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let floor_args = FloorArgs {
        clients,
        bytes: usize::try_from(server.mean_message_bytes())?.max(8),
        publications: args.floor_publications,
        interval_ms: args.floor_interval_ms,
        writers,
    };
    let bytes = floor_args.bytes;
    let started = std::time::Instant::now();
    let (floor_latencies, writes) = floor::measure(floor_args).await?;
    floor_latencies.print(
        &format!("floor: {clients} sockets, {bytes} bytes per message, {writers} writers"),
        started.elapsed(),
    );
    writes.print();

    println!("== optionhub / floor");
    for (name, quantile) in [("p50", 0.50), ("p99", 0.99)] {
        let (ours, floor) = (server.latencies.ms(quantile), floor_latencies.ms(quantile));
        println!(
            "{name}:         {:.2}x ({ours:.1} ms / {floor:.1} ms)",
            ours / floor.max(1e-3)
        );
    }
    let (_, _, floor) = writes.micros_per_write();
    let measured = [
        ("CPU", server.server_micros_per_delivery()),
        ("CPU net", server.delivery_micros()),
    ];
    for (name, micros) in measured {
        match micros {
            Some((_, _, ours)) => println!(
                "{name:<12} {:.2}x ({ours:.2} µs per delivery / {floor:.2} µs per write)",
                ours / floor.max(1e-9)
            ),
            None => {
                println!("{name:<12} not measured (give --server-pid and a reachable /metrics)")
            }
        }
    }
    Ok(())
}
