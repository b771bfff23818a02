//! Test fixture: a `custom-analytics` plugin (info name `hostile`) that misbehaves in the
//! way its `mode` parameter asks, so the host's tests can check every sandbox limit
//! against real guest code rather than hand-written WAT.
//!
//! Without a `mode` parameter (or with `mode = ""`) it behaves: it returns one scalar,
//! `contracts`, the number of contracts in the chain. That is what the host's load-time
//! self-test sees (it passes no parameters), so the plugin loads. Parameters other than
//! `mode` and `len` are ignored; if a name is repeated, its last value counts.
//!
//! The modes, with what the host is expected to do about each:
//!
//! - `loop`: spins forever on a counter passed through `black_box`, so the optimiser
//!   cannot remove the loop. The host must interrupt it (CPU deadline).
//! - `hog`: allocates 1 MiB chunks, writes every byte and keeps them all until an
//!   allocation fails, then frees them and returns scalar `mib_held` (the number of chunks
//!   it held). The host must cap linear memory; it may also trap the call at the cap.
//! - `trap`: `panic!("hostile plugin panicked on purpose")`. Panics abort in wasm, so
//!   this is a trap. The host must report it and keep serving.
//! - `read-file`: reads `/etc/hostname`, then `/etc/passwd`, and returns scalar
//!   `file_bytes`: the length of the first file that could be read, or `-1` if every read
//!   failed. The host grants no filesystem, so it must be `-1`.
//! - `read-clock`: returns scalar `clock_secs`: `SystemTime::now()` in seconds since the
//!   Unix epoch (`0` if the clock reads earlier). The host's clock is frozen at the epoch,
//!   so it must be `0`.
//! - `read-env`: returns scalar `env_vars`: `std::env::vars().count()`. The host passes no
//!   environment, so it must be `0`.
//! - `huge-output`: returns series `huge` holding 20 000 000 `f64` (160 MB), or param
//!   `len` values. The host must refuse it with its result-size cap.
//! - `print`: writes 10 MiB to stdout and 10 MiB to stderr, then returns scalars
//!   `stdout_bytes` and `stderr_bytes` (the bytes each stream accepted). The host must
//!   cap what it captures.
//! - `nan`: returns scalar `nan` with the value NaN. The host must reject non-finite
//!   output.
//!
//! Any other `mode` gets `invalid-input` naming the accepted modes.
//!
//! The `huge-output` list must sit in guest memory before the host can lift it, so the
//! default 160 MB needs a memory cap above that. Under the host's default caps (64 MiB
//! memory, 16 MiB result), a test passes something like `len = 3000000` (24 MB)
//! instead. If a memory grow fails (rather than trapping, as optionhub's cap does),
//! the guest returns `unsupported` saying so instead of aborting, so a test can still
//! tell the memory cap from the result-size cap. A `len` that is not a whole number
//! gets `invalid-input`.

// Only a component makes sense of this crate; natively its export names cannot even link.
#![cfg(target_arch = "wasm32")]
#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../../wit", world: "custom-analytics" });

use std::hint::black_box;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use exports::optionhub::analytics::custom::{
    AnalyticsResult, Guest as Custom, NamedScalar, NamedSeries, ParamSpec, PluginError, PricedChain,
};
use exports::optionhub::analytics::meta::{Guest as Meta, PluginInfo};

/// Every accepted `mode`, for the error message and the parameter description.
const MODES: &str =
    "loop, hog, trap, read-file, read-clock, read-env, huge-output, print, nan (or none)";

/// One allocation chunk for `hog`.
const MIB: usize = 1 << 20;

/// Default number of values in the `huge-output` series: 20 000 000 f64 = 160 MB.
const HUGE_LEN: usize = 20_000_000;

/// Bytes written to each of stdout and stderr by `print`.
const PRINT_BYTES: usize = 10 * MIB;

struct Hostile;

impl Meta for Hostile {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Misbehaves on request (param `mode`) to test the host's sandbox".into(),
        }
    }
}

impl Custom for Hostile {
    fn params() -> Vec<ParamSpec> {
        vec![
            ParamSpec {
                name: "mode".into(),
                description: format!("How to misbehave: one of {MODES}"),
                default_value: String::new(),
            },
            ParamSpec {
                name: "len".into(),
                description: "Mode huge-output only: how many f64 values to return".into(),
                default_value: HUGE_LEN.to_string(),
            },
        ]
    }

    fn run(
        input: PricedChain,
        params: Vec<(String, String)>,
    ) -> Result<AnalyticsResult, PluginError> {
        let mode = param(&params, "mode").unwrap_or("");
        match mode {
            "" => Ok(scalar(
                "contracts",
                input.chain.contracts.strike.len() as f64,
            )),
            "loop" => spin(),
            "hog" => Ok(scalar("mib_held", hog() as f64)),
            "trap" => panic!("hostile plugin panicked on purpose"),
            "read-file" => Ok(scalar("file_bytes", read_file())),
            "read-clock" => Ok(scalar("clock_secs", read_clock())),
            "read-env" => Ok(scalar("env_vars", std::env::vars().count() as f64)),
            "huge-output" => huge_output(huge_len(param(&params, "len"))?),
            "print" => Ok(print()),
            "nan" => Ok(scalar("nan", f64::NAN)),
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

/// The `huge-output` length: param `len`, default [`HUGE_LEN`].
fn huge_len(len: Option<&str>) -> Result<usize, PluginError> {
    match len {
        None => Ok(HUGE_LEN),
        Some(text) => text.trim().parse().map_err(|_| {
            PluginError::InvalidInput(format!(
                "param `len`: `{text}` is not a whole number; accepted values: 0, 1, 2, ..."
            ))
        }),
    }
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

/// Never returns: `black_box` makes the counter observable, so the loop cannot be removed.
fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocates, touches and keeps 1 MiB chunks until an allocation fails; returns how many
/// chunks it held. Uses `try_reserve` so running out is an error here, not an abort.
fn hog() -> usize {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        if chunks.try_reserve(1).is_err() {
            break;
        }
        let mut chunk: Vec<u8> = Vec::new();
        if chunk.try_reserve_exact(MIB).is_err() {
            break;
        }
        // Write every byte so the pages are really committed, not just reserved.
        chunk.resize(MIB, 0xA5);
        chunks.push(black_box(chunk));
    }
    black_box(&chunks).len()
}

/// Length of the first file that could be read, or -1 if none could.
fn read_file() -> f64 {
    ["/etc/hostname", "/etc/passwd"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map_or(-1.0, |text| text.len() as f64)
}

/// Wall-clock seconds since the Unix epoch, 0 if the clock reads earlier than that.
fn read_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// A series of `len` values (160 MB by default), which the host must refuse by its
/// result-size cap.
fn huge_output(len: usize) -> Result<AnalyticsResult, PluginError> {
    let mut values: Vec<f64> = Vec::new();
    if values.try_reserve_exact(len).is_err() {
        return Err(PluginError::Unsupported(format!(
            "huge-output: could not allocate {len} f64 values in guest memory"
        )));
    }
    values.extend((0..len).map(|i| i as f64));
    Ok(AnalyticsResult {
        scalars: Vec::new(),
        series: vec![NamedSeries {
            name: "huge".into(),
            unit: String::new(),
            values,
        }],
        tables: Vec::new(),
    })
}

/// Writes `PRINT_BYTES` to stdout and to stderr; returns how many bytes each accepted.
fn print() -> AnalyticsResult {
    let line = format!("{}\n", "hostile plugin output ".repeat(46));
    let stdout_bytes = flood(&mut std::io::stdout().lock(), line.as_bytes());
    let stderr_bytes = flood(&mut std::io::stderr().lock(), line.as_bytes());
    AnalyticsResult {
        scalars: vec![
            NamedScalar {
                name: "stdout_bytes".into(),
                unit: "bytes".into(),
                value: stdout_bytes as f64,
            },
            NamedScalar {
                name: "stderr_bytes".into(),
                unit: "bytes".into(),
                value: stderr_bytes as f64,
            },
        ],
        series: Vec::new(),
        tables: Vec::new(),
    }
}

/// Writes `line` repeatedly until `PRINT_BYTES` are out or the stream refuses; returns the
/// bytes written. A closed or capped stream is not an error for this fixture.
fn flood(out: &mut impl Write, line: &[u8]) -> usize {
    let mut written = 0;
    while written < PRINT_BYTES {
        let take = line.len().min(PRINT_BYTES - written);
        match out.write(&line[..take]) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n,
        }
    }
    let _flushed = out.flush();
    written
}

export!(Hostile);
