//! `loadgen`: drives a running optionhub and reports latency percentiles.
//!
//! - `loadgen rest`: GETs one route at a fixed request rate (open loop: latency is taken
//!   from when a request was *due*, so a stalled server cannot hide its queueing behind a
//!   slower send rate), for a duration; reports throughput, p50/p90/p99/max and failures
//!   by status.
//! - `loadgen ws`: opens N WebSocket clients, each subscribed to a channel, and measures
//!   update latency as (receive time − the server's `server_ts_ms` stamp); reports the
//!   same percentiles, the server's deliveries and conflated messages (its `/metrics`),
//!   and, given its pid, its RSS and CPU per delivered message.
//! - `loadgen floor`: no server at all: the lowest latency one-to-many delivery can have
//!   on this machine (raw loopback TCP writes to N sockets), and the CPU one write costs,
//!   to read `ws` figures against.
//! - `loadgen idle`: N WebSocket clients holding no channel; the server's RSS per
//!   idle connection.
//! - `loadgen compare`: `ws`, then `floor` at the same client count and message size,
//!   printing the ratios.
//! - `loadgen swap`: `rest` load while a plugin is uploaded through `POST /admin/plugins`
//!   halfway through; reports failed requests (expected: zero).
//! - `loadgen wire`: WebSocket bytes per client per second, with and without
//!   permessage-deflate, side by side in one run.
//! - `loadgen soak`: WebSocket churn, REST with hostile plugins alongside and periodic
//!   uploads for a long run; checks RSS growth, 5xx and failed Greeks recomputations.
//!
//! Client and server share the machine in our figures (see BENCHMARKS.md), so the
//! generator is kept cheap: one shared HTTP client, one task per WebSocket, reading
//! frames in place ([`lean_client`]) as cheaply as the floor's receivers read.
#![forbid(unsafe_code)]

mod compare;
mod cpu;
mod floor;
mod idle;
mod lean_client;
mod report;
mod rest;
mod scrape;
mod soak;
mod wire;
mod ws;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Load generator for optionhub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// GET a route at a fixed rate.
    Rest(rest::RestArgs),
    /// Many WebSocket subscribers.
    Ws(ws::WsArgs),
    /// REST load with a plugin upload in the middle.
    Swap(rest::SwapArgs),
    /// This machine's floor for fan-out latency: raw TCP writes, no server.
    Floor(floor::FloorArgs),
    /// Idle WebSocket clients: the server's memory per connection.
    Idle(idle::IdleArgs),
    /// `ws`, then `floor` at the same client count and message size, with the ratios.
    Compare(compare::CompareArgs),
    /// A long mixed run: WebSocket churn, REST with hostile plugins, uploads.
    Soak(soak::SoakArgs),
    /// WebSocket bytes per client per second, with and without permessage-deflate.
    Wire(wire::WireArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Rest(args) => rest::run(args).await,
            Command::Ws(args) => ws::run(args).await,
            Command::Swap(args) => rest::swap(args).await,
            Command::Floor(args) => floor::run(args).await,
            Command::Idle(args) => idle::run(args).await,
            Command::Compare(args) => compare::run(args).await,
            Command::Soak(args) => soak::run(args).await,
            Command::Wire(args) => wire::run(args).await,
        }
    })
}
