//! The latest M2M of each strategy, published for live readers: one
//! `tokio::sync::watch` per strategy id, so a reader always sees the newest valuation
//! and a slow reader never holds up the worker (a watch keeps one value, not a queue).
//!
//! The WebSocket `strategy:{id}` channel subscribes here. The hub does not check who
//! may read a strategy: a subscriber must first check ownership through the store
//! (`Store::strategies().get(owner, id)`), exactly as the HTTP routes do.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::watch;

use crate::money::Money;
use plugin_host::PluginStamp;

/// One valuation of a strategy, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct M2mUpdate {
    pub strategy_id: i64,
    /// When it was valued, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The strategy version that was valued.
    pub strategy_version: i64,
    /// Exact sum of `legs[].m2m`.
    pub m2m: Money,
    pub legs: Vec<LegM2m>,
    /// The `strategy-valuation` version that computed it.
    pub plugin: PluginStamp,
}

/// One leg's share of an [`M2mUpdate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LegM2m {
    pub leg_id: i64,
    pub m2m: Money,
}

type Slot = watch::Sender<Option<Arc<M2mUpdate>>>;

/// Latest-value publication per strategy.
#[derive(Debug, Default)]
pub struct M2mHub {
    slots: Mutex<HashMap<i64, Slot>>,
}

impl M2mHub {
    /// A receiver of the strategy's valuations; holds `None` until the first one.
    pub fn subscribe(&self, strategy_id: i64) -> watch::Receiver<Option<Arc<M2mUpdate>>> {
        self.slots
            .lock()
            .entry(strategy_id)
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    /// Publishes a valuation; kept as the latest even with no subscriber yet.
    pub fn publish(&self, update: M2mUpdate) {
        let id = update.strategy_id;
        let update = Some(Arc::new(update));
        self.slots
            .lock()
            .entry(id)
            .or_insert_with(|| watch::channel(None).0)
            .send_replace(update);
    }

    pub fn latest(&self, strategy_id: i64) -> Option<Arc<M2mUpdate>> {
        self.slots
            .lock()
            .get(&strategy_id)
            .and_then(|slot| slot.borrow().clone())
    }

    /// Drops a deleted strategy's slot; its subscribers see the channel close.
    pub fn forget(&self, strategy_id: i64) {
        self.slots.lock().remove(&strategy_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: i64, paise: i64) -> M2mUpdate {
        M2mUpdate {
            strategy_id: id,
            at_ms: paise,
            strategy_version: 1,
            m2m: Money::from_paise(paise),
            legs: Vec::new(),
            plugin: PluginStamp {
                name: "p".into(),
                version: "1".into(),
                hash: "h".into(),
            },
        }
    }

    #[tokio::test]
    async fn subscribers_see_the_latest_and_the_close() {
        let hub = M2mHub::default();
        let mut early = hub.subscribe(7);
        assert!(early.borrow().is_none());
        hub.publish(update(7, 100));
        hub.publish(update(7, 200));
        hub.publish(update(8, 999));
        early.changed().await.unwrap();
        assert_eq!(
            early.borrow_and_update().as_ref().map(|u| u.m2m),
            Some(Money::from_paise(200)),
            "the newest, not a queue"
        );
        let late = hub.subscribe(7);
        assert_eq!(late.borrow().as_ref().map(|u| u.at_ms), Some(200));
        assert_eq!(hub.latest(8).map(|u| u.at_ms), Some(999));
        hub.forget(7);
        assert!(early.changed().await.is_err(), "closed once forgotten");
        assert_eq!(hub.latest(7), None);
    }
}
