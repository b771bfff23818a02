//! Keeping the local copy of the scrip master fresh while the server runs, and saying in
//! `/status` where the running instrument set came from.
//!
//! The registry a server starts with stays its registry: chains, books and subscriptions
//! are laid out from it. What a daily refresh does is keep the local copy current (so a
//! restart starts from today's contracts, even if Dhan is unreachable then) and report
//! contracts that appeared since start, which a restart picks up.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Filter, LoadedMaster, MasterSource, load_or_fetch};
use crate::registry::InstrumentRegistry;

/// The scrip master's line in `/status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScripMasterStatus {
    /// When the data in use was downloaded (RFC 3339).
    pub fetched_at: Option<String>,
    /// `fresh`, `cached` or `stale_fallback`.
    pub source: &'static str,
    /// Why the last download failed, when it did.
    pub last_error: Option<String>,
    /// Contracts kept for the configured underlyings.
    pub instruments: usize,
    /// Rows that could not be read (reported and skipped).
    pub bad_rows: usize,
    /// Contracts in the latest copy that the running registry does not have (a restart
    /// tracks them).
    pub new_since_start: usize,
}

impl ScripMasterStatus {
    /// The status of a load.
    pub fn of(loaded: &LoadedMaster) -> Self {
        let (source, last_error) = match &loaded.source {
            MasterSource::Fresh => ("fresh", None),
            MasterSource::Cached => ("cached", None),
            MasterSource::StaleFallback { error } => ("stale_fallback", Some(error.to_string())),
        };
        Self {
            fetched_at: loaded
                .fetched_at
                .format(&time::format_description::well_known::Rfc3339)
                .ok(),
            source,
            last_error,
            instruments: loaded.master.instruments.len(),
            bad_rows: loaded.master.bad_row_count,
            new_since_start: 0,
        }
    }
}

/// Where the copy lives and how often it is refreshed.
#[derive(Debug, Clone)]
pub struct RefreshPlan {
    pub url: String,
    pub cache_file: PathBuf,
    pub every: Duration,
    pub filter: Filter,
}

/// Refreshes the copy every `plan.every`, updating `status`; never returns.
pub async fn keep_fresh(
    plan: RefreshPlan,
    registry: Arc<InstrumentRegistry>,
    status: Arc<Mutex<ScripMasterStatus>>,
) {
    let mut ticker = tokio::time::interval(plan.every.max(Duration::from_secs(60)));
    // The first tick is immediate, and start-up has just loaded the master.
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match load_or_fetch(&plan.url, &plan.cache_file, plan.every, &plan.filter).await {
            Ok(loaded) => {
                let new = loaded
                    .master
                    .instruments
                    .iter()
                    .filter(|i| registry.get(&i.key).is_none())
                    .count();
                if new > 0 {
                    tracing::warn!(
                        new,
                        "the scrip master lists contracts this run does not track; a restart picks them up"
                    );
                }
                let mut next = ScripMasterStatus::of(&loaded);
                next.new_since_start = new;
                *status.lock() = next;
            }
            Err(error) => {
                tracing::warn!(%error, at = %OffsetDateTime::now_utc(), "scrip master refresh failed; keeping the current copy");
                status.lock().last_error = Some(error.to_string());
            }
        }
    }
}
