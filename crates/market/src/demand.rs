//! Which chains clients are asking for. The nearest `tiers.expiries` of every
//! underlying are always subscribed; any other listed expiry is brought live on demand:
//! a REST request for its chain, or a WebSocket channel on it, marks it wanted, the
//! planner subscribes it (Quote mode around the money, within Dhan's budget) and the
//! REST fetcher serves it from Dhan's option chain until the feed has it.
//!
//! A chain stays wanted while a WebSocket channel holds it ([`DemandHold`]) and for
//! `idle` after the last REST request or the last hold's release; then it is released
//! and its instruments unsubscribed. Idle time is real (monotonic) time, not the
//! market clock: it measures clients, not the session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::view::ChainId;

#[derive(Debug, Clone, Copy)]
struct Want {
    /// WebSocket channels holding the chain now.
    holds: usize,
    /// The last REST request, or the last hold's release.
    last: Instant,
}

/// Chains asked for, shared by the API, the WebSocket publishers, the planner and the
/// REST fetcher.
#[derive(Debug)]
pub struct ChainDemand {
    idle: Duration,
    wants: Mutex<HashMap<ChainId, Want>>,
    /// Wakes the planner and the fetcher when a chain is first asked for.
    asked: Notify,
}

impl Default for ChainDemand {
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

impl ChainDemand {
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            wants: Mutex::new(HashMap::new()),
            asked: Notify::new(),
        }
    }

    /// A request for `id` now (REST). True when the chain was not wanted before.
    pub fn touch(&self, id: &ChainId) -> bool {
        let mut wants = self.wants.lock();
        let now = Instant::now();
        let fresh = !wants.contains_key(id);
        wants
            .entry(id.clone())
            .and_modify(|w| w.last = now)
            .or_insert(Want {
                holds: 0,
                last: now,
            });
        drop(wants);
        if fresh {
            self.asked.notify_waiters();
        }
        fresh
    }

    /// Holds `id` wanted until the returned guard drops (a WebSocket channel's life).
    pub fn hold(self: &Arc<Self>, id: &ChainId) -> DemandHold {
        self.touch(id);
        if let Some(want) = self.wants.lock().get_mut(id) {
            want.holds += 1;
        }
        DemandHold {
            demand: self.clone(),
            id: id.clone(),
        }
    }

    fn release(&self, id: &ChainId) {
        if let Some(want) = self.wants.lock().get_mut(id) {
            want.holds = want.holds.saturating_sub(1);
            want.last = Instant::now();
        }
    }

    /// The chains wanted now, in name order; forgets those idle past `idle`.
    pub fn wanted(&self) -> Vec<ChainId> {
        let now = Instant::now();
        let mut wants = self.wants.lock();
        wants.retain(|_, w| w.holds > 0 || now.duration_since(w.last) < self.idle);
        let mut ids: Vec<ChainId> = wants.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Resolves when a chain is asked for that was not wanted before.
    pub async fn asked(&self) {
        self.asked.notified().await;
    }
}

/// Keeps a chain wanted while alive.
#[derive(Debug)]
pub struct DemandHold {
    demand: Arc<ChainDemand>,
    id: ChainId,
}

impl Drop for DemandHold {
    fn drop(&mut self) {
        self.demand.release(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use time::macros::date;

    use super::ChainDemand;
    use crate::ChainId;

    fn id(expiry: time::Date) -> ChainId {
        ChainId {
            underlying: "NIFTY".into(),
            expiry,
        }
    }

    #[test]
    fn a_touch_lasts_the_idle_time_and_a_hold_lasts_its_life() {
        let demand = Arc::new(ChainDemand::new(Duration::ZERO));
        // Idle time zero: a plain request is released at once.
        assert!(demand.touch(&id(date!(2026 - 12 - 29))));
        assert!(demand.wanted().is_empty());
        let hold = demand.hold(&id(date!(2027 - 01 - 26)));
        assert_eq!(demand.wanted(), vec![id(date!(2027 - 01 - 26))]);
        drop(hold);
        assert!(demand.wanted().is_empty());

        let patient = ChainDemand::new(Duration::from_secs(3600));
        assert!(patient.touch(&id(date!(2026 - 12 - 29))));
        assert!(!patient.touch(&id(date!(2026 - 12 - 29))), "already wanted");
        assert_eq!(patient.wanted(), vec![id(date!(2026 - 12 - 29))]);
    }
}
