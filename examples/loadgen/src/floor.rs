//! The machine's floor for one-to-many delivery: the lowest update latency any server
//! could reach here with its clients on the same machine.
//!
//! A publisher thread (or several) writes one pre-built message to each of N loopback
//! TCP sockets: one `write` per socket, no WebSocket framing, no JSON, no task
//! hand-offs, nothing a real server would add. The receivers are tokio tasks, one per
//! socket, as in `loadgen ws`. Each message carries the time it was published, so
//! the latency is publish-to-receive, like `server_ts_ms` in `loadgen ws`. Whatever
//! p99 this prints is a lower bound for `loadgen ws` with as many clients on this
//! machine. The writer threads also time their own CPU, so a server's CPU per delivered
//! message can be read against the CPU one bare write costs here.

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use crate::cpu::CpuTime;
use crate::report::Latencies;

#[derive(Debug, Clone, Args)]
pub(crate) struct FloorArgs {
    /// Receiving sockets (each takes two file descriptors, both ends being here).
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Bytes per message (the mean optionhub chain delta is about 4,800).
    #[arg(long, default_value_t = 4_800)]
    pub bytes: usize,
    /// Publications, each to every socket.
    #[arg(long, default_value_t = 20)]
    pub publications: usize,
    /// Milliseconds between publications.
    #[arg(long, default_value_t = 300)]
    pub interval_ms: u64,
    /// Publisher threads, each writing to its share of the sockets.
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

pub(crate) async fn run(args: FloorArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (latencies, writes) = measure(args).await?;
    latencies.print(
        "raw TCP fan-out floor (publish to receive)",
        started.elapsed(),
    );
    writes.print();
    Ok(())
}

/// What the publisher threads did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writes {
    /// The slowest publication, from its first write to its last.
    pub slowest: Duration,
    /// Writes made, one per socket per publication.
    pub count: u64,
    pub sockets: usize,
    /// The writer threads' CPU while writing.
    pub cpu: CpuTime,
    /// The receivers' CPU over the same passes (the process's, less the writers').
    pub receivers: CpuTime,
}

impl Writes {
    /// CPU per write: user, system and total µs.
    pub(crate) fn micros_per_write(&self) -> (f64, f64, f64) {
        self.cpu.micros_per(self.count)
    }

    pub(crate) fn print(&self) {
        println!(
            "write pass:  slowest {:.1} ms to write one publication to {} sockets",
            self.slowest.as_secs_f64() * 1e3,
            self.sockets
        );
        let (user, system, total) = self.micros_per_write();
        println!(
            "CPU per write: {total:.2} µs (user {user:.2}, system {system:.2}) over {} writes",
            self.count
        );
        let (_, _, receiving) = self.receivers.micros_per(self.count);
        println!("receivers' CPU: {receiving:.2} µs per message");
    }
}

/// The latencies of every publication but the first, and what the writes cost.
pub(crate) async fn measure(args: FloorArgs) -> anyhow::Result<(Latencies, Writes)> {
    anyhow::ensure!(args.bytes >= 8, "a message needs 8 bytes for its timestamp");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let results = Arc::new(Mutex::new(Latencies::new()?));
    let mut senders = Vec::with_capacity(args.clients);
    let mut receivers = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (connected, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let receiver = connected?;
        receiver.set_nodelay(true)?;
        let sender = accepted?.0.into_std()?;
        sender.set_nonblocking(false)?;
        sender.set_nodelay(true)?;
        senders.push(sender);
        let results = Arc::clone(&results);
        let (bytes, publications) = (args.bytes, args.publications);
        receivers.push(tokio::spawn(async move {
            let mut stream = receiver;
            let mut message = vec![0_u8; bytes];
            let mut mine = Latencies::new()?;
            for publication in 0..publications {
                stream.read_exact(&mut message).await?;
                let mut stamp = [0_u8; 8];
                stamp.copy_from_slice(&message[..8]);
                let sent = u64::from_le_bytes(stamp);
                // The first publication finds cold buffers; it is not counted.
                if publication > 0 {
                    mine.record(Duration::from_micros(now_micros().saturating_sub(sent)));
                }
            }
            results.lock().await.merge(&mine);
            anyhow::Ok(())
        }));
    }
    let before = CpuTime::of_self().unwrap_or_default();
    let publisher = std::thread::spawn(move || publish(senders, &args));
    for receiver in receivers {
        receiver.await??;
    }
    let mut writes = publisher
        .join()
        .map_err(|_| anyhow::anyhow!("the publisher thread panicked"))??;
    let spent = CpuTime::of_self().unwrap_or_default().since(before);
    writes.receivers = spent.since(writes.cpu);
    let latencies = results.lock().await.clone();
    Ok((latencies, writes))
}

/// Writes every publication to every socket. The writer threads live for the whole
/// run and each reads its own CPU once before its first write and once after its last:
/// `/proc` counts in 10 ms ticks, so a thread per publication, whose pass is a few
/// milliseconds, would read as if it had spent nothing.
fn publish(mut sockets: Vec<TcpStream>, args: &FloorArgs) -> anyhow::Result<Writes> {
    let share = sockets.len().div_ceil(args.writers.max(1)).max(1);
    let writers = sockets.len().div_ceil(share);
    // Every pass starts when all writers and the pacing thread meet at `start`, and
    // ends when they meet again at `done`.
    let start = Barrier::new(writers + 1);
    let done = Barrier::new(writers + 1);
    let (publications, bytes) = (args.publications, args.bytes);
    let count = (publications * sockets.len()) as u64;
    let total = sockets.len();
    std::thread::scope(|scope| {
        let threads: Vec<_> = sockets
            .chunks_mut(share)
            .map(|part| {
                let (start, done) = (&start, &done);
                scope.spawn(move || write_passes(part, bytes, publications, start, done))
            })
            .collect();
        let mut slowest = Duration::ZERO;
        std::thread::sleep(Duration::from_millis(500));
        for _ in 0..publications {
            let pass = Instant::now();
            start.wait();
            done.wait();
            slowest = slowest.max(pass.elapsed());
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
        let mut cpu = CpuTime::default();
        for thread in threads {
            let spent = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
            cpu = cpu + spent;
        }
        Ok(Writes {
            slowest,
            count,
            sockets: total,
            cpu,
            receivers: CpuTime::default(),
        })
    })
}

/// One writer thread's passes over its sockets; returns the CPU it spent, or the first
/// write error. A socket that fails is skipped thereafter rather than ending the
/// thread, which must still meet the others at every barrier.
fn write_passes(
    sockets: &mut [TcpStream],
    bytes: usize,
    publications: usize,
    start: &Barrier,
    done: &Barrier,
) -> std::io::Result<CpuTime> {
    let mut message = vec![b'x'; bytes];
    let mut alive = vec![true; sockets.len()];
    let mut failed = None;
    let before = CpuTime::of_thread().unwrap_or_default();
    for _ in 0..publications {
        start.wait();
        message[..8].copy_from_slice(&now_micros().to_le_bytes());
        for (socket, alive) in sockets.iter_mut().zip(alive.iter_mut()) {
            if *alive && let Err(error) = socket.write_all(&message) {
                *alive = false;
                failed.get_or_insert(error);
            }
        }
        done.wait();
    }
    let spent = CpuTime::of_thread().unwrap_or_default().since(before);
    failed.map_or(Ok(spent), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_socket_receives_every_publication_but_the_first_is_not_counted() {
        let args = FloorArgs {
            clients: 25,
            bytes: 1_000,
            publications: 4,
            interval_ms: 10,
            writers: 2,
        };
        let (latencies, writes) = measure(args).await.unwrap();
        assert_eq!(latencies.count(), 25 * 3);
        assert_eq!(latencies.failed(), 0);
        assert_eq!((writes.count, writes.sockets), (100, 25));
    }
}
