//! Logging: structured `tracing` events, filtered by `RUST_LOG` (default `info`), as
//! readable lines or JSON.
//!
//! Some dependencies print whole HTTP requests at debug and trace level, and those
//! requests carry secrets: the Dhan feed URL has the access token in its query string,
//! and Dhan's REST requests carry it in a header. Those targets are capped below debug
//! here, whatever `RUST_LOG` says, so no setting can put a token in the log.

use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Log targets (and their children) that print requests verbatim below `INFO`:
/// tungstenite's client handshake logs the request line with the feed URL and its token
/// (`tungstenite::handshake::client`), and hyper's protocol traces print header blocks.
/// Their `INFO` and above carry no request contents.
pub const REQUEST_PRINTING_TARGETS: [&str; 3] = ["tungstenite", "tokio_tungstenite", "hyper"];

/// Whether an event or span may reach the log: everything but the debug and trace
/// output of [`REQUEST_PRINTING_TARGETS`].
pub fn may_log(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    let printing_requests = REQUEST_PRINTING_TARGETS.iter().any(|prefix| {
        target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    });
    !printing_requests || *metadata.level() <= Level::INFO
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let secrets_kept_out = filter_fn(may_log);
    let _ = match format {
        LogFormat::Pretty => builder.finish().with(secrets_kept_out).try_init(),
        LogFormat::Json => builder.json().finish().with(secrets_kept_out).try_init(),
    };
}

mod catalog;
pub mod metrics;
