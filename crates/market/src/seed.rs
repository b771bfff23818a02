//! Seeding and refreshing chains from Dhan's option-chain REST API.
//!
//! At start every tracked chain is fetched once, so the API has prices, OI and bid/ask
//! before the feed has said anything; afterwards the chains are refetched in turn,
//! because only the Full tier carries bid/ask on the feed. Results go into the same
//! event stream as feed frames (and so into recordings). When Dhan says slow down, the
//! refresher backs off and the market keeps the last good chain; when it refuses the
//! credentials, the refresher stops and says so in status.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use time::Date;
use tokio::sync::mpsc;

use dhan::event::{FeedEvent, FeedPayload, now_ns};
use dhan::rest::{DhanRestClient, RestError};
use instruments::InstrumentKey;

/// How the REST side is doing, for `/status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestStatus {
    pub requests: u64,
    pub errors: u64,
    pub rate_limited: u64,
    pub last_ok_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Set when Dhan refused the credentials; the refresher has stopped.
    pub auth_failed: bool,
}

/// One chain to keep fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainTarget {
    pub underlying: InstrumentKey,
    pub expiry: Date,
}

/// Seeds and refreshes chains.
#[derive(Debug)]
pub struct ChainSeeder {
    pub client: Arc<DhanRestClient>,
    pub events: mpsc::Sender<FeedEvent>,
    pub status: Arc<Mutex<RestStatus>>,
    /// Pause after a rate-limit answer.
    pub rate_limit_pause: Duration,
}

impl ChainSeeder {
    /// Fetches each target once; failures are recorded and skipped. Returns how many
    /// chains arrived.
    pub async fn seed(&self, targets: &[ChainTarget]) -> usize {
        let mut seeded = 0;
        for target in targets {
            match self.fetch(*target).await {
                Ok(()) => seeded += 1,
                Err(error) if error.is_auth_failure() => break,
                Err(_) => {}
            }
        }
        seeded
    }

    /// Refreshes the targets in turn, one every `spacing`, until the event stream
    /// closes or Dhan refuses the credentials. `targets` is asked again every round,
    /// so the round after an expiry rolls refreshes the next expiries.
    pub async fn refresh_forever(&self, targets: impl Fn() -> Vec<ChainTarget>, spacing: Duration) {
        loop {
            let targets = targets();
            if targets.is_empty() {
                tokio::time::sleep(spacing).await;
            }
            for target in &targets {
                tokio::time::sleep(spacing).await;
                match self.fetch(*target).await {
                    Err(error) if error.is_auth_failure() => return,
                    Err(error) if error.is_rate_limited() => {
                        tokio::time::sleep(self.rate_limit_pause).await;
                    }
                    _ => {}
                }
                if self.events.is_closed() {
                    return;
                }
            }
        }
    }

    pub(super) async fn fetch(&self, target: ChainTarget) -> Result<(), RestError> {
        let result = self
            .client
            .option_chain(target.underlying, target.expiry)
            .await;
        self.record(&result);
        match result {
            Ok(data) => {
                let event = FeedEvent {
                    received_at_ns: now_ns(),
                    payload: FeedPayload::OptionChain {
                        underlying: target.underlying,
                        expiry: target.expiry,
                        data: Box::new(data),
                    },
                };
                // A closed stream means shutdown; nothing to report.
                let _ = self.events.send(event).await;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%error, underlying = target.underlying.security_id, expiry = %target.expiry, "option chain request failed; keeping the last good chain");
                Err(error)
            }
        }
    }

    fn record<T>(&self, result: &Result<T, RestError>) {
        let mut status = self.status.lock();
        status.requests += 1;
        match result {
            Ok(_) => status.last_ok_ms = Some(now_ns() / 1_000_000),
            Err(error) => {
                status.errors += 1;
                if error.is_rate_limited() {
                    status.rate_limited += 1;
                }
                if error.is_auth_failure() {
                    status.auth_failed = true;
                }
                status.last_error = Some(error.to_string());
            }
        }
    }
}
