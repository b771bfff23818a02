//! The hub: one publisher per active channel, shared by every connection subscribed to
//! it, and the writer shards that deliver its publications. The first subscriber starts the channel's publisher; when the last one leaves
//! (its [`Topic`] handle is dropped) the publisher is stopped.
//!
//! Each topic publishes on a `tokio::sync::watch` of [`Frame`]s: latest value wins, so a
//! subscriber that is busy simply finds the newest frame when it looks again, and
//! conflation costs nothing. Sequence numbers are kept per channel name across
//! restarts of its publisher, so a channel's `seq` never goes backwards.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::channel::Channel;
use super::connections::Connections;
use super::frame::Frame;
use super::publisher::Publisher;
use super::revocation::UserLookups;
use super::shard::Shards;
use crate::config::WsConfig;
use crate::state::WsState;

/// What a subscriber reads: the channel's latest frame (none before the first).
pub(super) type FrameReceiver = watch::Receiver<Option<Arc<Frame>>>;

#[derive(Debug)]
struct Slot {
    topic: Weak<Topic>,
    /// Last seq handed out for this channel name, across publisher restarts.
    seq: Arc<AtomicU64>,
}

/// Every active channel of the server, and the WebSocket settings.
#[derive(Debug)]
pub struct Hub {
    config: WsConfig,
    slots: Mutex<HashMap<Arc<str>, Slot>>,
    /// Open connections per user, for the per-user cap.
    pub connections: Arc<Connections>,
    /// The user store's recent answers, for the sessions' access checks.
    pub(super) user_lookups: UserLookups,
    /// The writer shards, started with the first connection (inside the runtime).
    shards: OnceLock<Shards>,
}

/// One active channel. Subscribers hold it; dropping the last handle stops the
/// publisher.
#[derive(Debug)]
pub struct Topic {
    sender: watch::Sender<Option<Arc<Frame>>>,
    publisher: AbortHandle,
}

impl Drop for Topic {
    fn drop(&mut self) {
        self.publisher.abort();
        metrics::gauge!("ws_channels_active").decrement(1.0);
    }
}

impl Topic {
    /// The latest frame, if the publisher has produced one.
    pub fn current(&self) -> Option<Arc<Frame>> {
        self.sender.borrow().clone()
    }

    /// A topic with no publisher, fed by the test through `sender`.
    #[cfg(test)]
    pub(super) fn detached(sender: watch::Sender<Option<Arc<Frame>>>) -> Self {
        let task = tokio::spawn(std::future::pending::<()>());
        Self {
            sender,
            publisher: task.abort_handle(),
        }
    }

    /// A receiver of the channel's publications, the current one marked as seen.
    pub(super) fn subscribe(&self) -> FrameReceiver {
        self.sender.subscribe()
    }
}

impl Hub {
    pub fn new(config: WsConfig) -> Self {
        Self {
            config,
            slots: Mutex::new(HashMap::new()),
            connections: Arc::default(),
            user_lookups: UserLookups::default(),
            shards: OnceLock::new(),
        }
    }

    /// The writer shards; the first call starts them.
    pub(super) fn shards(&self) -> &Shards {
        self.shards.get_or_init(|| Shards::start(&self.config))
    }

    pub fn config(&self) -> &WsConfig {
        &self.config
    }

    /// Channels with a running publisher.
    pub fn active_channels(&self) -> usize {
        self.slots
            .lock()
            .values()
            .filter(|slot| slot.topic.strong_count() > 0)
            .count()
    }

    /// The channel's topic, starting its publisher if it has none.
    pub fn topic(&self, state: &WsState, channel: &Channel) -> Arc<Topic> {
        let mut slots = self.slots.lock();
        let slot = slots.entry(channel.name.clone()).or_insert_with(|| Slot {
            topic: Weak::new(),
            seq: Arc::new(AtomicU64::new(0)),
        });
        if let Some(topic) = slot.topic.upgrade() {
            return topic;
        }
        let (sender, _) = watch::channel(None);
        let publisher = Publisher {
            state: state.clone(),
            channel: channel.clone(),
            interval: self.config.publish_interval,
            seq: slot.seq.clone(),
        };
        let task = tokio::spawn(publisher.run(sender.clone()));
        let topic = Arc::new(Topic {
            sender,
            publisher: task.abort_handle(),
        });
        slot.topic = Arc::downgrade(&topic);
        metrics::gauge!("ws_channels_active").increment(1.0);
        tracing::debug!(channel = %channel.name, "channel publisher started");
        topic
    }
}
