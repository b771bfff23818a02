//! The sandbox one plugin call runs in: a fresh [`Store`] whose data is [`CallState`].
//!
//! Plugins are built for `wasm32-wasip2`, so Rust's standard library makes them import a
//! handful of WASI interfaces even when they never use them. Rather than trap on those
//! imports, the host links real WASI with a context that grants nothing:
//! - no preopened directories (every filesystem call fails), no environment, no args;
//! - no network (TCP, UDP and name lookup denied);
//! - clocks frozen at the Unix epoch, and "random" bytes that are a constant, so a plugin
//!   can neither learn the time nor be nondeterministic: the host passes `as-of` in;
//! - stdin empty; stdout and stderr captured into a per-call buffer with a size cap
//!   (bytes past the cap are dropped and counted, never an error).
//!
//! Memory is capped per store by [`MemoryCap`], which records that the cap was hit so the
//! caller can say so instead of reporting a bare trap. The store is dropped after the
//! call, so a trapped instance can never serve again.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::config::SandboxLimits;

/// The data of one call's store.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    output: CapturedOutput,
}

impl std::fmt::Debug for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallState")
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// Whether the guest tried to grow memory past the cap during this call.
    pub fn memory_cap_hit(&self) -> bool {
        self.memory.cap_hit
    }

    /// Largest linear memory the guest reached, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.memory.peak
    }

    /// What the guest printed, up to the cap.
    pub fn output(&self) -> &CapturedOutput {
        &self.output
    }
}

/// Builds the store for one call: deny-all WASI, memory cap, CPU deadline.
pub fn new_store(
    engine: &Engine,
    limits: &SandboxLimits,
    epoch_tick: Duration,
) -> Store<CallState> {
    let output = CapturedOutput::new(limits.max_log_bytes);
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(output.clone())
        .stderr(output.clone())
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![0]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![0]))
        .insecure_random_seed(0)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = CallState {
        wasi,
        table: ResourceTable::new(),
        memory: MemoryCap {
            cap: limits.memory_bytes,
            peak: 0,
            cap_hit: false,
        },
        output,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    store.set_epoch_deadline(deadline_ticks(limits.deadline, epoch_tick));
    store.set_hostcall_fuel(hostcall_fuel(limits));
    store
}

/// Least hostcall fuel a store gets, whatever the result cap: enough for the WASI calls
/// Rust's standard library makes (stdout writes of up to 64 KiB, see [`CapturedOutput`]).
const MIN_HOSTCALL_FUEL: usize = 1 << 20;

/// wasmtime's "hostcall fuel" bounds, in bytes of host memory, what is copied out of the
/// guest in one go: a call's whole result as it is lifted, and the arguments of each call
/// the guest makes into the host. Setting it to the result cap refuses an oversized
/// result while it is being copied, before the host holds it (the default is 128 MiB per
/// copy, on every one of the call slots at once). It counts host-side sizes, so a result
/// made of many small items is charged for what it costs the host, not for its payload.
/// What the guest receives is not counted: that data is the host's already.
fn hostcall_fuel(limits: &SandboxLimits) -> usize {
    limits.max_result_bytes.max(MIN_HOSTCALL_FUEL)
}

/// wasmtime's message when a copy out of the guest runs out of hostcall fuel (its error
/// type is private, so the text is what can be matched; a test pins it).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// Whether `error` is a copy out of the guest refused by [`hostcall_fuel`].
pub fn is_hostcall_fuel_exhausted(error: &wasmtime::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.to_string().contains(HOSTCALL_FUEL_EXHAUSTED))
}

/// Epoch ticks for a deadline: rounded up, plus one because the current tick may be
/// nearly over when the call starts.
fn deadline_ticks(deadline: Duration, tick: Duration) -> u64 {
    let tick_ns = tick.as_nanos().max(1);
    let ticks = deadline.as_nanos().div_ceil(tick_ns);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

/// Caps linear memory and table growth for one store.
#[derive(Debug)]
struct MemoryCap {
    cap: usize,
    peak: usize,
    cap_hit: bool,
}

/// Tables hold function references; a plugin needs few. The cap stops a guest from using
/// tables as a way around the memory cap.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.cap_hit = true;
            // An error (rather than `Ok(false)`) traps at once with a clear message; a
            // refused grow would surface in Rust guests as an anonymous `unreachable`.
            return Err(wasmtime::format_err!(
                "plugin memory cap of {} MiB exceeded (tried to grow to {} MiB)",
                self.cap >> 20,
                desired.div_ceil(1 << 20)
            ));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// A clock stuck at the Unix epoch: plugins get time only from the host's `as-of`.
pub(super) struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// stdout and stderr of one call, interleaved, kept up to a cap.
#[derive(Clone, Debug)]
pub struct CapturedOutput {
    inner: Arc<Mutex<OutputBuffer>>,
}

#[derive(Debug, Default)]
struct OutputBuffer {
    kept: Vec<u8>,
    cap: usize,
    dropped: usize,
}

impl CapturedOutput {
    fn new(cap: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(OutputBuffer {
                kept: Vec::new(),
                cap,
                dropped: 0,
            })),
        }
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.inner.lock();
        let room = buffer.cap.saturating_sub(buffer.kept.len());
        let keep = bytes.len().min(room);
        buffer.kept.extend_from_slice(&bytes[..keep]);
        buffer.dropped += bytes.len() - keep;
    }

    /// The kept text (lossily decoded) and how many bytes were dropped past the cap.
    pub fn text(&self) -> (String, usize) {
        let buffer = self.inner.lock();
        (
            String::from_utf8_lossy(&buffer.kept).into_owned(),
            buffer.dropped,
        )
    }

    pub fn is_empty(&self) -> bool {
        let buffer = self.inner.lock();
        buffer.kept.is_empty() && buffer.dropped == 0
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always accept: bytes past the cap are dropped, so a chatty plugin keeps working.
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.append(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        let tick = Duration::from_millis(10);
        assert_eq!(deadline_ticks(Duration::from_millis(100), tick), 11);
        assert_eq!(deadline_ticks(Duration::from_millis(101), tick), 12);
        assert_eq!(deadline_ticks(Duration::ZERO, tick), 1);
    }

    #[test]
    fn captured_output_keeps_up_to_the_cap_and_counts_the_rest() {
        let out = CapturedOutput::new(5);
        out.append(b"hello world");
        out.append(b"!");
        assert_eq!(out.text(), ("hello".to_string(), 7));
    }
}
