//! `GET /status`: what the feed is doing: the trading session (IST) and whether the
//! feed's silence is a stall, connection states, the subscription plan,
//! instruments tracked, packets by type, decode errors, the age of the last packet, and
//! how the REST side is faring.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::api::AppState;
use crate::calendar::SessionStatus;
use crate::feed::status::FeedStatusSnapshot;
use crate::instruments::scrip_master::ScripMasterStatus;
use crate::market::seed::RestStatus;
use crate::market::subscriptions::PlanSummary;

pub fn routes() -> Router<AppState> {
    Router::new().route("/status", get(status))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// Connections, packets by type, decode errors, last packet age.
    #[schema(value_type = Object)]
    pub feed: FeedStatusSnapshot,
    /// What is subscribed in which mode, per underlying.
    #[schema(value_type = Object)]
    pub subscriptions: PlanSummary,
    /// Option-chain REST refreshes.
    #[schema(value_type = Object)]
    pub rest: RestStatus,
    /// Where the instrument list came from, and how fresh it is.
    #[schema(value_type = Object)]
    pub scrip_master: ScripMasterStatus,
    pub instruments_tracked: usize,
    pub chains: usize,
    /// The trading session (IST): open or why closed, the first live expiry, and
    /// whether the feed's silence is a stall (only while open).
    #[schema(value_type = Object)]
    pub market: MarketStatus,
    /// Chain history: rows written, queued and dropped, and the simulator backfill.
    #[schema(value_type = Object)]
    pub history: crate::history::HistoryStats,
}

/// The session now, and whether the feed has stalled in it.
#[derive(Debug, Serialize)]
pub struct MarketStatus {
    #[serde(flatten)]
    pub session: SessionStatus,
    /// The feed is quiet while the market is open. Outside the session silence is
    /// expected (the simulator idles; Dhan sends no trades) and never a stall.
    pub feed_stalled: bool,
}

impl MarketStatus {
    /// The session, and the feed's silence judged by it.
    pub fn new(session: SessionStatus, feed: &FeedStatusSnapshot) -> Self {
        Self {
            feed_stalled: session.open && feed.quiet,
            session,
        }
    }
}

/// What the feed is doing.
#[utoipa::path(
    get,
    path = "/status",
    tag = "operations",
    responses(
        (status = 200, description = "Feed detail", body = Status),
        (status = 401, description = "No valid token", body = crate::api::error::ErrorBody),
    )
)]
pub async fn status(State(state): State<AppState>) -> Json<Status> {
    let feed = state.market.status().snapshot();
    let session = state.market.calendar().session();
    Json(Status {
        market: MarketStatus::new(session, &feed),
        feed,
        subscriptions: state.plan.read().clone(),
        rest: state.rest.lock().clone(),
        scrip_master: state.scrip_master.lock().clone(),
        instruments_tracked: state.market.registry().len(),
        chains: state.market.chain_ids().len(),
        history: state.history.stats(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::MarketStatus;
    use crate::calendar::{ManualClock, MarketCalendar, SessionRules};
    use crate::feed::event::now_ns;
    use crate::feed::status::{FeedSource, FeedStatus};

    #[test]
    fn silence_is_a_stall_only_while_the_market_is_open() {
        let feed = FeedStatus::new(FeedSource::Dhan).with_quiet_after(Duration::from_secs(30));
        feed.record_frame(now_ns() - 60_000_000_000);
        let quiet = feed.snapshot();
        assert!(quiet.quiet);
        let clock = ManualClock::starting_at(datetime!(2026-11-17 11:00 +05:30));
        let calendar = MarketCalendar::new(clock.clone(), SessionRules::default());
        assert!(MarketStatus::new(calendar.session(), &quiet).feed_stalled);
        clock.set(datetime!(2026-11-17 20:00 +05:30));
        let closed = MarketStatus::new(calendar.session(), &quiet);
        assert!(!closed.session.open);
        assert!(!closed.feed_stalled, "after the close silence is expected");

        feed.record_frame(now_ns());
        let lively = feed.snapshot();
        assert!(!lively.quiet);
        clock.set(datetime!(2026-11-17 11:00 +05:30));
        assert!(!MarketStatus::new(calendar.session(), &lively).feed_stalled);
    }
}
