//! Dhan's scrip master (reference `dhanhq.md` §8): the daily CSV that names every
//! contract. This module reads both of its layouts (compact and detailed, detected from
//! the header), writes the detailed one (for the simulator), and keeps a local copy that
//! is refreshed from Dhan when it is older than a given age.
//!
//! Only the rows optionhub needs survive parsing (see [`Filter`]); the rest of a
//! ~200k-row file is skipped as it streams past. Lot sizes, tick sizes and expiries come
//! from here every day, never from constants.

mod columns;
mod error;
mod fetch;
mod filter;
mod parse;
mod refresh;
mod vocabulary;
mod write;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub use columns::MasterFormat;
pub use error::ScripMasterError;
pub use fetch::{LoadedMaster, MasterSource, load_or_fetch};
pub use filter::{Filter, canonical_underlying};
pub use parse::{BadRow, MAX_KEPT_BAD_ROWS, ParsedMaster, RowError, parse};
pub use refresh::{RefreshPlan, ScripMasterStatus, keep_fresh};
pub use vocabulary::InstrumentClass;
pub use write::{WriteError, write_detailed};

/// Dhan's compact master (all segments).
pub const COMPACT_URL: &str = "https://images.dhan.co/api-data/api-scrip-master.csv";
/// Dhan's detailed master (all segments).
pub const DETAILED_URL: &str = "https://images.dhan.co/api-data/api-scrip-master-detailed.csv";
