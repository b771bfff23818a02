//! Why a scrip master could not be loaded at all. A bad row is not one of these: it is
//! reported in [`super::ParsedMaster::bad_rows`] and the load goes on.

use std::path::PathBuf;

use super::MasterFormat;

/// A scrip master that could not be read, fetched or stored.
#[derive(Debug, thiserror::Error)]
pub enum ScripMasterError {
    /// The header lacks columns optionhub needs (named here), so no row can be read.
    #[error("scrip master header ({format:?} layout) lacks column(s) {}", missing.join(", "))]
    MissingColumns {
        format: MasterFormat,
        missing: Vec<&'static str>,
    },
    /// The CSV itself could not be read (I/O, or a header that is not UTF-8).
    #[error("reading scrip master CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A file operation on the local copy failed.
    #[error("{action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The download failed in transport (connect, timeout, body).
    #[error("fetching scrip master from {url}: {source}")]
    Request { url: String, source: reqwest::Error },
    /// The server answered with a non-success status.
    #[error("fetching scrip master from {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    /// The blocking task that parses a file panicked or was cancelled.
    #[error("scrip master parse task failed: {0}")]
    ParseTask(#[from] tokio::task::JoinError),
}
