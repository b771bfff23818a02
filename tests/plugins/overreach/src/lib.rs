//! Test fixture: a `custom-analytics` plugin (info name `overreach`) that tries, in the
//! way its `mode` parameter asks, to hold the host inside a WASI call or to make it copy,
//! log or serve more than it should. It complements `hostile`, whose misbehaviour stays
//! inside guest code: this one imports `wasi:clocks/monotonic-clock` and `wasi:io/poll`
//! directly (see `wit/world.wit`), the interfaces through which a guest could wait in
//! host code where epoch interruption cannot reach it.
//!
//! Without a `mode` parameter it behaves: it returns scalar `contracts`, the number of
//! contracts in the chain, which is what the load-time self-test sees. Parameters other
//! than `mode` and `len` are ignored; a repeated name counts by its last value.
//!
//! The modes, with what the host is expected to do about each:
//!
//! - `sleep`: `std::thread::sleep` for 30 s. The host must end the call within its
//!   deadline (plus one epoch tick) with an error that says the plugin tried to block.
//! - `block`: `monotonic-clock.subscribe-duration(30 s)`, then `pollable.block`. Same.
//! - `sleep-until`: `subscribe-instant(now + 30 s)`, then `pollable.block`. Same.
//! - `poll`: busy-polls a 30 s clock pollable: `wasi:io/poll.poll` on it, again and
//!   again, until it reports ready. Same.
//! - `spin-ready`: asks a zero-length clock pollable `ready` and `poll`s it in a loop:
//!   host calls that each return at once, forever. The host must stop it at its
//!   deadline.
//! - `zero-sleep`: blocks on zero-length clock subscriptions in a loop (each one ready at
//!   once). The host must stop it at its deadline.
//! - `long-error`: answers `invalid-input` with a message of `len` bytes (default
//!   1 MiB). The host must shorten it before it reaches logs or API bodies.
//! - `long-column`: returns a table whose second column has a `len`-byte name (default
//!   1 MiB) and the wrong length, so the host rejects the output; its complaint must not
//!   repeat the whole name.
//! - `many-series`: returns `len` series (default 300 000), each named `s` with no
//!   values: little payload, but far more host memory once copied out than the default
//!   16 MiB result cap allows. The host must refuse it while copying.
//!
//! Any other `mode` gets `invalid-input` naming the accepted modes; a `len` that is not a
//! whole number gets `invalid-input` too.
//!
//! Built with feature `long-name`, `info()` reports a name of 1 MiB of `a`s, which the
//! host must refuse without repeating it whole.

// Only a component makes sense of this crate; natively its export names cannot even link.
#![cfg(target_arch = "wasm32")]
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "fixture:overreach/overreach",
    generate_all,
});

use std::hint::black_box;
use std::time::Duration;

use exports::optionhub::analytics::custom::{
    AnalyticsResult, Guest as Custom, NamedScalar, NamedSeries, NamedTable, ParamSpec, PluginError,
    PricedChain,
};
use exports::optionhub::analytics::meta::{Guest as Meta, PluginInfo};
use wasi::clocks::monotonic_clock;
use wasi::io::poll;

/// Every accepted `mode`, for the error message and the parameter description.
const MODES: &str = "sleep, block, sleep-until, poll, spin-ready, zero-sleep, long-error, \
                     long-column, many-series (or none)";

/// How long the blocking modes ask to wait: far past any deadline.
const WAIT: Duration = Duration::from_secs(30);

/// Default `len` of the long-text modes.
const LONG_TEXT: usize = 1 << 20;

/// Default `len` of `many-series`.
const MANY_SERIES: usize = 300_000;

struct Overreach;

impl Meta for Overreach {
    fn info() -> PluginInfo {
        let name = if cfg!(feature = "long-name") {
            "a".repeat(LONG_TEXT)
        } else {
            "overreach".into()
        };
        PluginInfo {
            name,
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Tries to block in WASI calls or flood the host (param `mode`)".into(),
        }
    }
}

impl Custom for Overreach {
    fn params() -> Vec<ParamSpec> {
        vec![
            ParamSpec {
                name: "mode".into(),
                description: format!("How to overreach: one of {MODES}"),
                default_value: String::new(),
            },
            ParamSpec {
                name: "len".into(),
                description: "Size of the long-text and many-series modes".into(),
                default_value: String::new(),
            },
        ]
    }

    fn run(
        input: PricedChain,
        params: Vec<(String, String)>,
    ) -> Result<AnalyticsResult, PluginError> {
        let mode = param(&params, "mode").unwrap_or("");
        let len = |default| len(param(&params, "len"), default);
        match mode {
            "" => Ok(scalar(
                "contracts",
                input.chain.contracts.strike.len() as f64,
            )),
            "sleep" => {
                std::thread::sleep(WAIT);
                Ok(scalar("slept", 1.0))
            }
            "block" => {
                monotonic_clock::subscribe_duration(nanos(WAIT)).block();
                Ok(scalar("blocked", 1.0))
            }
            "sleep-until" => {
                let when = monotonic_clock::now().saturating_add(nanos(WAIT));
                monotonic_clock::subscribe_instant(when).block();
                Ok(scalar("blocked", 1.0))
            }
            "poll" => {
                let pollable = monotonic_clock::subscribe_duration(nanos(WAIT));
                let mut polls: u64 = 0;
                while !pollable.ready() {
                    black_box(poll::poll(&[&pollable]));
                    polls += 1;
                }
                Ok(scalar("polls", polls as f64))
            }
            "spin-ready" => {
                let pollable = monotonic_clock::subscribe_duration(0);
                loop {
                    black_box(pollable.ready());
                    black_box(poll::poll(&[&pollable]));
                }
            }
            "zero-sleep" => loop {
                monotonic_clock::subscribe_duration(0).block();
            },
            "long-error" => Err(PluginError::InvalidInput("e".repeat(len(LONG_TEXT)?))),
            "long-column" => Ok(long_column(len(LONG_TEXT)?)),
            "many-series" => Ok(many_series(len(MANY_SERIES)?)),
            other => Err(PluginError::InvalidInput(format!(
                "param `mode`: unknown value `{other}`; accepted values: {MODES}"
            ))),
        }
    }
}

/// The value of the last `name` parameter, if any.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Param `len`, or `default` when absent.
fn len(text: Option<&str>, default: usize) -> Result<usize, PluginError> {
    match text {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| {
            PluginError::InvalidInput(format!("param `len`: `{text}` is not a whole number"))
        }),
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// A result holding one unitless scalar.
fn scalar(name: &str, value: f64) -> AnalyticsResult {
    AnalyticsResult {
        scalars: vec![NamedScalar {
            name: name.into(),
            unit: String::new(),
            value,
        }],
        series: Vec::new(),
        tables: Vec::new(),
    }
}

fn series(name: String, values: Vec<f64>) -> NamedSeries {
    NamedSeries {
        name,
        unit: String::new(),
        values,
    }
}

/// A table whose second column has a `len`-byte name and one row fewer than the first.
fn long_column(len: usize) -> AnalyticsResult {
    AnalyticsResult {
        scalars: Vec::new(),
        series: Vec::new(),
        tables: vec![NamedTable {
            name: "t".into(),
            columns: vec![
                series("a".into(), vec![1.0]),
                series("c".repeat(len), Vec::new()),
            ],
        }],
    }
}

/// `len` empty series named `s`.
fn many_series(len: usize) -> AnalyticsResult {
    AnalyticsResult {
        scalars: Vec::new(),
        series: (0..len).map(|_| series("s".into(), Vec::new())).collect(),
        tables: Vec::new(),
    }
}

export!(Overreach);
