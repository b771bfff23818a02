//! Keeps plugins from waiting inside host code, where the CPU deadline cannot reach them.
//!
//! Epoch interruption stops a call only while guest code runs; a guest that calls into
//! the host and waits there holds its call slot and its blocking thread for as long as
//! the host function waits. In the deny-all sandbox (see [`super::sandbox`]) the only
//! WASI functions that can wait are `wasi:io/poll.poll` and `pollable.block`, and they
//! wait only as long as one of the pollables they are given is not ready. The pollables
//! a plugin can obtain:
//! - clock subscriptions (`wasi:clocks/monotonic-clock.subscribe-duration` and
//!   `subscribe-instant`): real timers, replaced here;
//! - stdin's `subscribe`: stdin is WASI's empty stream, closed and so always ready;
//! - stdout's and stderr's `subscribe`: [`super::sandbox::CapturedOutput`], always ready
//!   (its `check-write` always grants room, so `blocking-write-and-flush` never waits);
//! - files, sockets and name lookups: none can be opened (no preopens; TCP, UDP and
//!   lookups are denied before any socket or stream exists).
//!
//! So replacing the two clock subscriptions closes every wait: a zero-length wait (or an
//! instant that has already passed) gets a pollable that is ready at once, as a guest's
//! non-blocking `poll` idiom expects; any real wait traps with [`ClockWait`], which the
//! caller reports as "plugins may not block". The plugin's monotonic clock is frozen at
//! zero, so a plugin could not observe a wait anyway.

use std::time::Duration;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, WasiView};

use super::sandbox::{CallState, FrozenClock};

/// The interface as `wasmtime_wasi::p2::add_to_linker_sync` names it (wasmtime-wasi 48);
/// guests importing any 0.2.x version resolve to it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// A plugin asked to wait on a clock. Raised from the host function, so the call traps at
/// once; [`super::plugin`] turns it into [`super::CallError::Blocked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("plugin waited on a clock for {} ms; plugins may not block", wait.as_millis())]
pub struct ClockWait {
    pub wait: Duration,
}

/// Replaces the clock subscriptions `wasmtime_wasi` linked (call after it).
pub fn refuse_clock_waits(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |store: StoreContextMut<'_, CallState>, (nanos,): (u64,)| {
            ready_or_refuse(store, nanos).map(|pollable| (pollable,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |store: StoreContextMut<'_, CallState>, (when,): (u64,)| {
            let nanos = when.saturating_sub(FrozenClock.now());
            ready_or_refuse(store, nanos).map(|pollable| (pollable,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A pollable that is ready now for a zero wait; a [`ClockWait`] trap for any other.
fn ready_or_refuse(
    mut store: StoreContextMut<'_, CallState>,
    nanos: u64,
) -> wasmtime::Result<Resource<DynPollable>> {
    if nanos > 0 {
        return Err(wasmtime::Error::new(ClockWait {
            wait: Duration::from_nanos(nanos),
        }));
    }
    let table = store.data_mut().ctx().table;
    let ready = table.push(ReadyNow)?;
    subscribe(table, ready)
}

/// The pollable of a wait that is already over.
struct ReadyNow;

#[wasmtime_wasi::async_trait]
impl Pollable for ReadyNow {
    async fn ready(&mut self) {}
}
