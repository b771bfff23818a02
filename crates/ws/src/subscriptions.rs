//! One connection's subscriptions and the pump that moves their frames into the
//! client's queue.
//!
//! Each subscription holds the topic (keeping its publisher alive) and one watch
//! receiver, parked in a `FuturesUnordered` until its channel publishes. A published
//! frame waits in `ready` until the queue has room: while the client is behind, the
//! session stops pulling, the watch keeps only the newest frame, and the client later
//! gets that one. Which encoding it gets is decided here, per client: an update from
//! the last message of the channel the client will have received (a message still
//! pending in the queue is replaced, so the base is the one before it), or the
//! snapshot when no update applies to that, so a client never receives a delta it
//! cannot apply. Replacing a pending delta with a catch-up delta rather than a
//! snapshot matters under load: a snapshot is a hundred times larger, and sending them
//! to clients that are only slightly behind is what would push them further behind.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use super::frame::Frame;
use super::hub::{FrameReceiver, Topic};
use super::writer::Link;

type Changed = (u64, FrameReceiver, Result<(), watch::error::RecvError>);
type Watcher = Pin<Box<dyn Future<Output = Changed> + Send>>;

fn watch_next(key: u64, mut receiver: FrameReceiver) -> Watcher {
    Box::pin(async move {
        let changed = receiver.changed().await;
        (key, receiver, changed)
    })
}

struct Subscription {
    name: Arc<str>,
    _topic: Arc<Topic>,
    /// Seq of the last message of this channel queued for the client.
    last_seq: Option<u64>,
    /// While a message of this channel is pending in the queue: the seq the client
    /// holds before it (what a replacement must apply to).
    pending_base: Option<u64>,
    /// A published frame not yet queued.
    latest: Option<Arc<Frame>>,
}

/// The channels one connection holds.
#[derive(Default)]
pub(super) struct Subscriptions {
    by_key: HashMap<u64, Subscription>,
    by_name: HashMap<Arc<str>, u64>,
    next_key: u64,
    pub watchers: FuturesUnordered<Watcher>,
    ready: VecDeque<u64>,
    /// Messages this client never got because a newer one replaced them.
    pub dropped: u64,
}

impl Subscriptions {
    pub(super) fn len(&self) -> usize {
        self.by_key.len()
    }

    pub(super) fn holds(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Whether frames are waiting for room in the queue.
    pub(super) fn backlogged(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Adds a channel, or (already held) re-sends its current state as a snapshot.
    pub(super) fn add(&mut self, name: Arc<str>, topic: Arc<Topic>) {
        if let Some(&key) = self.by_name.get(&name) {
            if let Some(sub) = self.by_key.get_mut(&key) {
                sub.last_seq = None;
                sub.pending_base = None;
                if let Some(frame) = topic.current() {
                    if sub.latest.is_none() {
                        self.ready.push_back(key);
                    }
                    sub.latest = Some(frame);
                }
            }
            return;
        }
        let key = self.next_key;
        self.next_key += 1;
        self.watchers.push(watch_next(key, topic.receiver()));
        self.by_name.insert(name.clone(), key);
        self.by_key.insert(
            key,
            Subscription {
                name,
                _topic: topic,
                last_seq: None,
                pending_base: None,
                latest: None,
            },
        );
    }

    /// Removes a channel and anything of it still queued; false if it was not held.
    pub(super) fn remove(&mut self, name: &str, link: &Link) -> bool {
        let Some(key) = self.by_name.remove(name) else {
            return false;
        };
        self.by_key.remove(&key);
        self.ready.retain(|k| *k != key);
        link.outbox.lock().remove(key);
        true
    }

    /// A watched channel published (or its publisher is gone: returns its name).
    pub(super) fn on_change(&mut self, (key, mut receiver, changed): Changed) -> Option<Arc<str>> {
        let sub = self.by_key.get_mut(&key)?;
        if changed.is_err() {
            let name = sub.name.clone();
            self.by_key.remove(&key);
            self.by_name.remove(&name);
            self.ready.retain(|k| *k != key);
            return Some(name);
        }
        let frame = receiver.borrow_and_update().clone();
        self.watchers.push(watch_next(key, receiver));
        if let Some(frame) = frame {
            if sub.latest.is_none() {
                self.ready.push_back(key);
            }
            sub.latest = Some(frame);
        }
        None
    }

    /// Queues ready frames while the queue has room.
    pub(super) fn pump(&mut self, link: &Link) {
        let mut queued = false;
        while let Some(&key) = self.ready.front() {
            let Some(sub) = self.by_key.get_mut(&key) else {
                self.ready.pop_front();
                continue;
            };
            let Some(frame) = sub.latest.clone() else {
                self.ready.pop_front();
                continue;
            };
            // The queue stays locked from the check to the push, so the pending entry
            // seen here is the one the push replaces (the writer cannot take it in
            // between). A first snapshot is serialised under the lock, once per frame.
            let mut outbox = link.outbox.lock();
            let replacing = outbox.has_pending(key);
            let base = if replacing {
                sub.pending_base
            } else {
                sub.last_seq
            };
            let wire = base
                .and_then(|base| frame.update_after(base))
                .unwrap_or_else(|| frame.snapshot().clone());
            let (message, len) = wire.message(link.deflate);
            if !outbox.fits(key, len) {
                break;
            }
            let replaced = outbox.push_data(key, message, len);
            drop(outbox);
            if !replacing {
                sub.pending_base = sub.last_seq;
            }
            let skipped = sub
                .last_seq
                .map_or(0, |last| frame.seq.saturating_sub(last + 1));
            let dropped = skipped + u64::from(replaced);
            if dropped > 0 {
                self.dropped += dropped;
                metrics::counter!("ws_messages_dropped_total").increment(dropped);
            }
            sub.last_seq = Some(frame.seq);
            sub.latest = None;
            self.ready.pop_front();
            queued = true;
        }
        if queued {
            link.wake();
        }
    }
}
