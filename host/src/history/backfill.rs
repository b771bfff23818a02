//! Simulator backfill: on a first start in simulator mode, the current session so far
//! is replayed at high speed so the history endpoints have data from the first minute.
//!
//! A second market over the simulator's universe and seed is stepped from the session's
//! open (09:15 IST, or at most the configured span back) to now; at every snapshot
//! instant each live chain is rebuilt from its quotes, priced by the active greeks-model
//! plugin exactly as the live Greeks worker prices it ([`live_greeks::snapshot`] and
//! [`live_greeks::chain_greeks`]), turned into rows by the recorder's
//! [`chain_rows`](super::recorder::chain_rows) and queued like live snapshots. It waits
//! for room in the queue rather than overflowing it, runs in the background while the
//! server serves, and gives up after a wall-clock budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use time::{OffsetDateTime, Time, UtcOffset};

use super::queue::SnapshotQueue;
use super::recorder::chain_rows;
use crate::feed::sim::model::{SimMarket, SimQuote};
use crate::market::book::InstrumentBook;
use crate::market::{ChainId, ChainView, MarketState};
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::{self, ChainGreeks};

/// The replay steps the simulated market by at most this much at a time.
const MAX_STEP: Duration = Duration::from_secs(5);
/// A backfill still running after this long stops where it is.
const WALL_CLOCK_BUDGET: Duration = Duration::from_secs(300);
/// India Standard Time.
const IST: UtcOffset = match UtcOffset::from_hms(5, 30, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};
/// The cash session opens at 09:15 IST.
const SESSION_OPEN: Time = match Time::from_hms(9, 15, 0) {
    Ok(time) => time,
    Err(_) => Time::MIDNIGHT,
};

/// Where the backfill is, for `/status` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackfillState {
    /// Not simulator mode, or backfill configured off.
    #[default]
    Off,
    /// History for the session already existed (not a first start).
    Skipped,
    Running,
    Done,
    /// Stopped early: the wall-clock budget ran out, or the database could not be read.
    Incomplete,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BackfillStatus {
    pub state: BackfillState,
    /// Snapshot instants replayed so far.
    pub points: u64,
    /// Rows queued so far.
    pub rows: u64,
}

/// The most recent session open (09:15 IST) at or before `now`.
pub fn session_open(now: OffsetDateTime) -> OffsetDateTime {
    let local = now.to_offset(IST);
    let open = local.replace_time(SESSION_OPEN);
    if open <= local {
        open
    } else {
        open - time::Duration::days(1)
    }
}

/// The stretch to replay: from the session's open, but at most `max_span` back, to now.
pub fn span(now: OffsetDateTime, max_span: Duration) -> (OffsetDateTime, OffsetDateTime) {
    let earliest = time::Duration::try_from(max_span)
        .ok()
        .and_then(|d| now.checked_sub(d))
        .unwrap_or(now);
    (session_open(now).max(earliest), now)
}

/// What a backfill works with.
#[derive(Debug)]
pub struct Backfill {
    pub sim: SimMarket,
    pub market: Arc<MarketState>,
    pub plugins: Arc<PluginHost>,
    pub queue: Arc<SnapshotQueue>,
    pub interval: Duration,
    pub rate: f64,
    pub end: OffsetDateTime,
    pub status: Arc<Mutex<BackfillStatus>>,
}

impl Backfill {
    /// Replays up to `end`; returns the final state.
    pub async fn run(self) -> BackfillState {
        let Backfill {
            mut sim,
            market,
            plugins,
            queue,
            interval,
            rate,
            end,
            status,
        } = self;
        let started = Instant::now();
        let templates: Vec<(ChainId, ChainView)> = market
            .chain_ids()
            .into_iter()
            .filter_map(|id| market.chain_view(&id).map(|view| (id, view)))
            .collect();
        let step = interval.min(MAX_STEP).max(Duration::from_millis(100));
        let Ok(interval_t) = time::Duration::try_from(interval) else {
            return BackfillState::Incomplete;
        };
        let mut next = sim.now() + interval_t;
        let mut seq = 0u64;
        while next <= end {
            if started.elapsed() > WALL_CLOCK_BUDGET {
                tracing::warn!(
                    budget_secs = WALL_CLOCK_BUDGET.as_secs(),
                    "history backfill ran out of time"
                );
                return BackfillState::Incomplete;
            }
            // Step the simulated market to the next snapshot instant, off the runtime.
            let target = next;
            let Ok(stepped) = tokio::task::spawn_blocking(move || {
                while sim.now() < target {
                    let left = target - sim.now();
                    let dt = Duration::try_from(left).unwrap_or(step).min(step);
                    if dt.is_zero() {
                        break;
                    }
                    sim.step(dt);
                }
                sim
            })
            .await
            else {
                return BackfillState::Incomplete;
            };
            sim = stepped;
            seq += 1;
            let ts_ms = unix_ms(sim.now());
            let mut rows = Vec::new();
            for (_, template) in &templates {
                let view = replayed_view(template, &sim, seq);
                if view.spot <= 0.0 {
                    continue;
                }
                let greeks = price(&plugins, &view, rate).await;
                rows.extend(chain_rows(&view, greeks.as_ref(), ts_ms));
            }
            // Back-pressure: the backfill may wait, live snapshots may not.
            queue.wait_for_room(queue.limit() / 2).await;
            let queued = u64::try_from(rows.len()).unwrap_or(u64::MAX);
            queue.push(rows);
            {
                let mut s = status.lock();
                s.points += 1;
                s.rows += queued;
            }
            next += interval_t;
        }
        BackfillState::Done
    }
}

/// The chain `template` with every book replaced by the replayed market's quote.
pub fn replayed_view(template: &ChainView, sim: &SimMarket, seq: u64) -> ChainView {
    let mut view = template.clone();
    view.spot = sim.spot(&view.underlying).unwrap_or(0.0);
    view.seq = seq;
    view.as_of_ns = i64::try_from(sim.now().unix_timestamp_nanos()).unwrap_or(i64::MAX);
    for row in &mut view.rows {
        for contract in [&mut row.call, &mut row.put].into_iter().flatten() {
            if let Some(quote) = sim.quote(&contract.key()) {
                contract.book = book_of(quote);
            }
        }
    }
    view
}

/// The Greeks of a replayed chain from the active greeks-model plugin; `None` when there
/// is none or it fails (the rows are kept without Greeks).
async fn price(plugins: &Arc<PluginHost>, view: &ChainView, rate: f64) -> Option<ChainGreeks> {
    let snapshot = live_greeks::snapshot(view, rate)?;
    let ids = snapshot.contracts.security_id.clone();
    let outcome = plugins
        .blocking(move |host| host.call_greeks(&snapshot.into()))
        .await;
    match outcome {
        Ok(Ok(stamped)) => Some(live_greeks::chain_greeks(
            view.seq,
            &ids,
            stamped.value,
            stamped.plugin,
        )),
        _ => None,
    }
}

fn book_of(q: &SimQuote) -> InstrumentBook {
    let top = q.depth.first().copied().unwrap_or_default();
    InstrumentBook {
        ltp: q.ltp,
        ltq: q.ltq,
        ltt: q.ltt,
        atp: q.atp,
        volume: q.volume,
        total_buy_qty: q.total_buy_qty,
        total_sell_qty: q.total_sell_qty,
        oi: q.oi,
        oi_day_high: q.oi_day_high,
        oi_day_low: q.oi_day_low,
        open: q.open,
        high: q.high,
        low: q.low,
        close: q.close,
        prev_close: q.prev_close,
        prev_oi: q.prev_oi,
        prev_volume: q.prev_volume,
        bid: top.bid_price,
        bid_qty: u64::from(top.bid_qty),
        ask: top.ask_price,
        ask_qty: u64::from(top.ask_qty),
        depth: None,
        feed_updated_ns: 0,
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_session_opens_at_0915_ist() {
        // 10:00 IST: today's open.
        assert_eq!(
            session_open(datetime!(2026-11-20 04:30 UTC)),
            datetime!(2026-11-20 09:15 +5:30)
        );
        // 08:00 IST: yesterday's.
        assert_eq!(
            session_open(datetime!(2026-11-20 02:30 UTC)),
            datetime!(2026-11-19 09:15 +5:30)
        );
        let now = datetime!(2026-11-20 06:00 UTC);
        assert_eq!(
            span(now, Duration::from_secs(3600)),
            (datetime!(2026-11-20 05:00 UTC), now),
            "capped to the span"
        );
        assert_eq!(
            span(now, Duration::from_secs(86_400)).0,
            datetime!(2026-11-20 09:15 +5:30)
        );
    }
}
