//! The live DhanHQ feed client: up to five WebSocket connections to Dhan's v2 feed,
//! each carrying at most 5,000 instruments, subscribed in messages of at most 100.
//!
//! The caller hands over a whole [`SubscriptionPlan`] (instrument → mode) whenever it
//! changes; the supervisor here spreads it over connections, keeping every instrument
//! on the connection it already has, so a re-centre only subscribes what is new and
//! unsubscribes what left. Each connection ([`connection`]) reconnects on its own with
//! backoff and resubscribes what it carries; an authentication failure stops them all,
//! because hammering Dhan with a dead token gets the user blocked.

mod backoff;
mod connection;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use backoff::Backoff;
use connection::Connection;

use super::requests::FeedMode;
use crate::DhanCredentials;
use crate::event::FeedEvent;
use crate::status::FeedStatus;
use instruments::InstrumentKey;

/// What should be subscribed, and in which mode. One mode per instrument: the tiers
/// are nested, so the richest mode an instrument needs is the one it gets.
pub type SubscriptionPlan = BTreeMap<InstrumentKey, FeedMode>;

/// Dhan's connection limits (reference `dhanhq.md` §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLimits {
    pub max_connections: usize,
    pub max_instruments_per_connection: usize,
}

impl Default for FeedLimits {
    fn default() -> Self {
        Self {
            max_connections: 5,
            max_instruments_per_connection: 5_000,
        }
    }
}

impl FeedLimits {
    pub fn capacity(&self) -> usize {
        self.max_connections * self.max_instruments_per_connection
    }
}

/// How the live client connects and recovers.
#[derive(Debug, Clone)]
pub struct LiveFeedConfig {
    /// `wss://api-feed.dhan.co` (or the simulator's `ws://` address).
    pub feed_url: url::Url,
    pub credentials: DhanCredentials,
    pub limits: FeedLimits,
    /// No message at all (data or ping) for this long means the feed has stalled.
    /// Dhan pings every 10 s, so a healthy connection is never quiet this long.
    pub inactivity_timeout: Duration,
    pub backoff: Backoff,
}

impl LiveFeedConfig {
    /// The URL of one connection, with the v2 query parameters. Holds the token: never
    /// log it.
    fn connect_url(&self) -> url::Url {
        super::endpoint::feed_connect_url(&self.feed_url, &self.credentials)
    }
}

/// The running client. Dropping it (or calling [`LiveFeed::shutdown`]) closes the
/// connections, sending Dhan's disconnect request first.
#[derive(Debug)]
pub struct LiveFeed {
    plan: watch::Sender<Arc<SubscriptionPlan>>,
    shutdown: watch::Sender<bool>,
    supervisor: Option<JoinHandle<()>>,
}

impl LiveFeed {
    /// Starts the supervisor; connections open once a plan asks for instruments.
    pub fn spawn(
        config: LiveFeedConfig,
        status: Arc<FeedStatus>,
        events: mpsc::Sender<FeedEvent>,
    ) -> Self {
        let (plan, plan_rx) = watch::channel(Arc::new(SubscriptionPlan::new()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let supervisor = Supervisor {
            config: Arc::new(config),
            status,
            events,
            shutdown: shutdown_rx,
            connections: Vec::new(),
            assignment: HashMap::new(),
        };
        let supervisor = tokio::spawn(supervisor.run(plan_rx));
        Self {
            plan,
            shutdown,
            supervisor: Some(supervisor),
        }
    }

    /// Replaces the whole subscription plan.
    pub fn set_plan(&self, plan: SubscriptionPlan) {
        self.plan.send_replace(Arc::new(plan));
    }

    /// Closes every connection politely and waits (briefly) for them to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(supervisor) = self.supervisor.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), supervisor).await;
        }
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// Assigns instruments to connections and starts connections as the plan needs them.
struct Supervisor {
    config: Arc<LiveFeedConfig>,
    status: Arc<FeedStatus>,
    events: mpsc::Sender<FeedEvent>,
    shutdown: watch::Receiver<bool>,
    connections: Vec<ConnectionSlot>,
    /// Which connection carries each planned instrument.
    assignment: HashMap<InstrumentKey, usize>,
}

struct ConnectionSlot {
    plan: watch::Sender<Arc<SubscriptionPlan>>,
    task: JoinHandle<()>,
}

impl Supervisor {
    async fn run(mut self, mut plan: watch::Receiver<Arc<SubscriptionPlan>>) {
        loop {
            let current = plan.borrow_and_update().clone();
            self.apply(&current);
            tokio::select! {
                changed = plan.changed() => if changed.is_err() { break },
                _ = self.shutdown.changed() => break,
            }
        }
        for slot in self.connections.drain(..) {
            // Connections see the same shutdown signal; wait for their goodbyes.
            let _ = tokio::time::timeout(Duration::from_secs(3), slot.task).await;
        }
    }

    /// Spreads `plan` over connections: instruments keep their connection, new ones go
    /// to the least-loaded connection with room, and more connections open only when
    /// the existing ones are full.
    fn apply(&mut self, plan: &SubscriptionPlan) {
        let needed = self.assign(plan);
        while self.connections.len() < needed {
            self.open_connection();
        }
        self.send_subsets(plan);
    }

    /// Updates the instrument-to-connection assignment for `plan` and returns how many
    /// connections it uses. Instruments past every connection's room are left out, and
    /// that is logged.
    fn assign(&mut self, plan: &SubscriptionPlan) -> usize {
        let limits = self.config.limits;
        self.assignment.retain(|key, _| plan.contains_key(key));
        let mut load = vec![0usize; limits.max_connections];
        for &connection in self.assignment.values() {
            if let Some(count) = load.get_mut(connection) {
                *count += 1;
            }
        }
        let has_room = |load: &[usize], c: usize| {
            load.get(c)
                .is_some_and(|&n| n < limits.max_instruments_per_connection)
        };
        let mut active = self.connections.len();
        let mut dropped = 0usize;
        for key in plan.keys() {
            if self.assignment.contains_key(key) {
                continue;
            }
            // The least-loaded open connection with room; a new one only when all are full.
            let target = (0..active)
                .filter(|&c| has_room(&load, c))
                .min_by_key(|&c| (load.get(c).copied(), c))
                .or_else(|| {
                    (active < limits.max_connections).then(|| {
                        active += 1;
                        active - 1
                    })
                });
            match target {
                Some(connection) => {
                    self.assignment.insert(*key, connection);
                    if let Some(count) = load.get_mut(connection) {
                        *count += 1;
                    }
                }
                None => dropped += 1,
            }
        }
        if dropped > 0 {
            tracing::warn!(
                dropped,
                capacity = limits.capacity(),
                "subscription plan exceeds Dhan's connection limits; extra instruments left out"
            );
        }
        active
    }

    /// Gives each connection its part of `plan` (a connection whose part is unchanged
    /// is not woken).
    fn send_subsets(&self, plan: &SubscriptionPlan) {
        let mut per_connection = vec![SubscriptionPlan::new(); self.connections.len()];
        for (key, mode) in plan {
            if let Some(subset) = self
                .assignment
                .get(key)
                .and_then(|&c| per_connection.get_mut(c))
            {
                subset.insert(*key, *mode);
            }
        }
        for (id, (slot, subset)) in self.connections.iter().zip(per_connection).enumerate() {
            let count = subset.len();
            self.status.update_connection(id, |c| c.instruments = count);
            slot.plan.send_if_modified(|current| {
                if **current == subset {
                    false
                } else {
                    *current = Arc::new(subset);
                    true
                }
            });
        }
    }

    fn open_connection(&mut self) {
        let id = self.connections.len();
        let (plan, plan_rx) = watch::channel(Arc::new(SubscriptionPlan::new()));
        let connection = Connection {
            id,
            config: self.config.clone(),
            status: self.status.clone(),
            events: self.events.clone(),
            plan: plan_rx,
            shutdown: self.shutdown.clone(),
        };
        self.status.update_connection(id, |_| {});
        let task = tokio::spawn(connection.run());
        self.connections.push(ConnectionSlot { plan, task });
    }
}
