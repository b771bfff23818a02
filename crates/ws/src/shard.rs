//! Writer shards: a few tasks (one per core by default) that own every connection's
//! write half and do all the server's WebSocket writing.
//!
//! A task per connection would wake ten thousand times for one publication. A shard
//! wakes once: it watches each channel any of its connections holds (one watch per
//! channel per shard), and when the channel publishes it walks that channel's
//! connections, queues the publication for each ([`Conn::offer`], [`Conn::pump`]) and
//! writes to every connection with nothing pending at once ([`Conn::flush`]). The walk
//! starts one connection further on each time, so the same clients are never always
//! last. Only a connection whose socket took less than it was given waits for
//! writability, polled by the shard alongside everything else; a sweep closes those
//! that wait past the write deadline (4008).
//!
//! Sessions reach their shard through [`Command`]s ([`super::link`]): replies and
//! pings, subscriptions, closes. Every close frame is written here, after anything in
//! flight, under the same deadline, and the socket is shut after it.

use std::collections::{HashMap, HashSet};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::close::Close;
use super::conn::{Conn, Flushed, Tally};
use super::frame::Frame;
use super::hub::{FrameReceiver, Topic};
use super::link::{Command, Link, Outlet};
use super::protocol::Reply;
use crate::config::WsConfig;
use edge::error::ErrorCode;

/// Commands a shard takes from its channel per wake-up at most.
const COMMAND_BATCH: usize = 64;

/// The server's writer shards.
#[derive(Debug)]
pub(super) struct Shards {
    commands: Vec<mpsc::UnboundedSender<Command>>,
    next_id: AtomicU64,
}

impl Shards {
    /// Starts the shards `config` asks for (one per core when it says 0).
    pub(super) fn start(config: &WsConfig) -> Self {
        let count = match config.writers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let commands = (0..count)
            .map(|index| {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(Shard::new(*config).run(index, receiver));
                sender
            })
            .collect();
        Self {
            commands,
            next_id: AtomicU64::new(0),
        }
    }

    /// Hands a connection's write half to a shard (in turn); returns the session's
    /// handle on it.
    pub(super) fn attach(&self, socket: OwnedWriteHalf, deflate: bool) -> Outlet {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let index = usize::try_from(id).unwrap_or(0) % self.commands.len().max(1);
        let link = Arc::new(Link::default());
        // `start` makes at least one shard; without one, the outlet's first command
        // fails and the session ends.
        let commands = self
            .commands
            .get(index)
            .cloned()
            .unwrap_or_else(|| mpsc::unbounded_channel().0);
        let outlet = Outlet::new(id, commands, link);
        outlet.attach(socket, deflate);
        outlet
    }
}

type Changed = (
    Arc<str>,
    u64,
    FrameReceiver,
    Result<(), watch::error::RecvError>,
);
type Watcher = Pin<Box<dyn Future<Output = Changed> + Send>>;

fn watch_next(name: Arc<str>, generation: u64, mut receiver: FrameReceiver) -> Watcher {
    Box::pin(async move {
        let changed = receiver.changed().await;
        (name, generation, receiver, changed)
    })
}

/// One channel as one shard watches it.
struct Watched {
    /// Keeps the channel's publisher running.
    _topic: Arc<Topic>,
    /// Tells this watch from an earlier one of the same name.
    generation: u64,
    subscribers: Vec<u64>,
    /// Where the next walk starts.
    start: usize,
}

impl Watched {
    /// The subscribers in the order this publication reaches them: each walk starts
    /// one further on than the last.
    fn walk(&mut self) -> impl Iterator<Item = u64> + '_ {
        let count = self.subscribers.len();
        self.start = (self.start + 1) % count.max(1);
        let start = self.start;
        (0..count).filter_map(move |i| self.subscribers.get((start + i) % count).copied())
    }
}

/// The channels a shard's connections hold.
#[derive(Default)]
struct Channels {
    watched: HashMap<Arc<str>, Watched>,
    watchers: FuturesUnordered<Watcher>,
    generation: u64,
}

impl Channels {
    /// Adds connection `id` to a channel's subscribers, watching the channel if no
    /// other connection of the shard does; returns the channel's current publication.
    fn join(&mut self, name: &Arc<str>, topic: Arc<Topic>, id: u64) -> Option<Arc<Frame>> {
        if let Some(watched) = self.watched.get_mut(name) {
            if !watched.subscribers.contains(&id) {
                watched.subscribers.push(id);
            }
            return topic.current();
        }
        let mut receiver = topic.subscribe();
        let current = receiver.borrow_and_update().clone();
        self.generation += 1;
        self.watchers
            .push(watch_next(name.clone(), self.generation, receiver));
        self.watched.insert(
            name.clone(),
            Watched {
                _topic: topic,
                generation: self.generation,
                subscribers: vec![id],
                start: 0,
            },
        );
        current
    }

    /// Removes connection `id` from channels; a channel nobody in the shard holds is
    /// no longer watched.
    fn leave(&mut self, id: u64, names: &[Arc<str>]) {
        for name in names {
            if let Some(watched) = self.watched.get_mut(name) {
                watched.subscribers.retain(|s| *s != id);
                if watched.subscribers.is_empty() {
                    self.watched.remove(name);
                }
            }
        }
    }
}

/// The connections of a shard, and their writing.
struct Writers {
    conns: HashMap<u64, Conn>,
    /// Connections waiting for their socket to be writable.
    blocked: HashSet<u64>,
    /// Connections to close (the reason is on their link).
    to_close: Vec<u64>,
    tally: Tally,
}

impl Writers {
    /// Connection `id`, unless it is gone or closing.
    fn live(&mut self, id: u64) -> Option<&mut Conn> {
        self.conns.get_mut(&id).filter(|c| !c.is_closing())
    }

    /// Writes out connection `id`, unless it waits for its socket already.
    fn flush(&mut self, id: u64, now: Instant) {
        if self.blocked.contains(&id) {
            return;
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let flushed = conn.flush(&mut self.tally, now);
        self.settle(id, flushed);
    }

    /// Acts on how writing to connection `id` ended.
    fn settle(&mut self, id: u64, flushed: Flushed) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        match flushed {
            Flushed::Drained if conn.is_closing() => self.finish(id),
            Flushed::Drained => {}
            Flushed::Blocked => {
                self.blocked.insert(id);
            }
            Flushed::Failed if conn.is_closing() => self.finish(id),
            Flushed::Failed => {
                conn.link.close(Close::Gone);
                self.to_close.push(id);
            }
        }
    }

    /// Queues control frames (a reply, a ping, an error) for connection `id` and
    /// writes them out; a control queue already full closes it as a slow consumer.
    fn control(&mut self, id: u64, frames: Bytes, now: Instant) {
        let Some(conn) = self.live(id) else {
            return;
        };
        if conn.control(frames).is_err() {
            conn.link.close(Close::SlowConsumer);
            self.to_close.push(id);
        } else {
            self.flush(id, now);
        }
    }

    /// Done with connection `id`: its socket is shut (dropping the write half sends
    /// FIN) and its session told.
    fn finish(&mut self, id: u64) {
        self.blocked.remove(&id);
        if let Some(conn) = self.conns.remove(&id) {
            tracing::debug!(
                dropped = conn.dropped,
                reason = conn.link.closing().map_or("detached", Close::name),
                "websocket writer done"
            );
            conn.link.finish();
        }
    }

    /// Connections among the blocked whose sockets are writable again.
    fn poll_blocked(&self, cx: &mut Context<'_>) -> Poll<Vec<u64>> {
        let ready: Vec<u64> = self
            .blocked
            .iter()
            .filter(|id| {
                self.conns
                    .get(id)
                    .is_none_or(|conn| conn.poll_writable(cx).is_ready())
            })
            .copied()
            .collect();
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(ready)
        }
    }
}

/// One writer shard.
struct Shard {
    config: WsConfig,
    writers: Writers,
    channels: Channels,
}

impl Shard {
    fn new(config: WsConfig) -> Self {
        Self {
            config,
            writers: Writers {
                conns: HashMap::new(),
                blocked: HashSet::new(),
                to_close: Vec::new(),
                tally: Tally::default(),
            },
            channels: Channels::default(),
        }
    }

    /// Serves its connections until every session and the hub are gone.
    #[tracing::instrument(name = "ws_shard", skip_all, fields(shard = index))]
    async fn run(mut self, index: usize, mut commands: mpsc::UnboundedReceiver<Command>) {
        let sent = metrics::counter!("ws_messages_sent_total");
        let dropped = metrics::counter!("ws_messages_dropped_total");
        let every = (self.config.write_deadline / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut sweep = tokio::time::interval(every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(COMMAND_BATCH);
        loop {
            let waiting = !self.writers.blocked.is_empty();
            tokio::select! {
                biased;
                received = commands.recv_many(&mut batch, COMMAND_BATCH) => {
                    if received == 0 {
                        break;
                    }
                    for command in batch.drain(..) {
                        self.command(command);
                    }
                }
                ready = poll_fn(|cx| self.writers.poll_blocked(cx)), if waiting => {
                    let now = Instant::now();
                    for id in ready {
                        self.writers.blocked.remove(&id);
                        self.writers.flush(id, now);
                    }
                }
                Some(changed) = self.channels.watchers.next(), if !self.channels.watchers.is_empty() => {
                    self.published(changed);
                }
                _ = sweep.tick(), if waiting => self.sweep(),
            }
            self.close_pending();
            let tally = std::mem::take(&mut self.writers.tally);
            if tally.sent > 0 {
                sent.increment(tally.sent);
            }
            if tally.dropped > 0 {
                dropped.increment(tally.dropped);
            }
        }
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Attach {
                id,
                socket,
                link,
                deflate,
            } => {
                let conn = Conn::new(socket, link, deflate, self.config.queue_bytes);
                self.writers.conns.insert(id, conn);
            }
            Command::Control { id, frames } => self.writers.control(id, frames, now),
            Command::Subscribe { id, name, topic } => {
                let Some(conn) = self.writers.conns.get_mut(&id).filter(|c| !c.is_closing()) else {
                    return;
                };
                let current = if conn.holds(&name) {
                    topic.current()
                } else {
                    self.channels.join(&name, topic, id)
                };
                conn.subscribe(&name, current);
                conn.pump(&mut self.writers.tally);
                self.writers.flush(id, now);
            }
            Command::Unsubscribe { id, name } => {
                if let Some(conn) = self.writers.live(id)
                    && conn.unsubscribe(&name)
                {
                    self.channels.leave(id, &[name]);
                }
            }
            Command::Close { id } => self.writers.to_close.push(id),
            Command::Detach { id } => {
                if let Some(conn) = self.writers.conns.get(&id) {
                    let channels = conn.channels();
                    self.channels.leave(id, &channels);
                    self.writers.finish(id);
                }
            }
        }
    }

    /// A watched channel published (or its publisher is gone).
    fn published(&mut self, (name, generation, mut receiver, changed): Changed) {
        let Some(watched) = self.channels.watched.get_mut(&name) else {
            return;
        };
        if watched.generation != generation {
            return;
        }
        if changed.is_err() {
            self.stopped(&name);
            return;
        }
        let frame = receiver.borrow_and_update().clone();
        self.channels
            .watchers
            .push(watch_next(name.clone(), generation, receiver));
        let Some(frame) = frame else {
            return;
        };
        let now = Instant::now();
        for id in watched.walk() {
            let Some(conn) = self.writers.conns.get_mut(&id) else {
                continue;
            };
            if let Some(flushed) = conn.deliver(&name, &frame, &mut self.writers.tally, now) {
                self.writers.settle(id, flushed);
            } else if conn.offer(&name, &frame) {
                conn.pump(&mut self.writers.tally);
                self.writers.flush(id, now);
            }
        }
    }

    /// A channel's publisher is gone: its subscribers are told, and it is dropped.
    fn stopped(&mut self, name: &Arc<str>) {
        let Some(watched) = self.channels.watched.remove(name) else {
            return;
        };
        let message = format!("channel {name} stopped publishing");
        let reply = Reply::Error {
            code: ErrorCode::ChannelClosed,
            message: &message,
            id: None,
        };
        let frames = super::framing::text(&reply.encode());
        let now = Instant::now();
        for id in watched.subscribers {
            let Some(conn) = self.writers.live(id) else {
                continue;
            };
            conn.unsubscribe(name);
            conn.link.stopped(name.clone());
            self.writers.control(id, frames.clone(), now);
        }
    }

    /// Closes connections that waited for their socket past the write deadline.
    fn sweep(&mut self) {
        let now = Instant::now();
        let overdue: Vec<u64> = self
            .writers
            .blocked
            .iter()
            .copied()
            .filter(|id| {
                self.writers
                    .conns
                    .get(id)
                    .is_none_or(|c| c.overdue(now, self.config.write_deadline))
            })
            .collect();
        for id in overdue {
            match self.writers.conns.get(&id) {
                Some(conn) if !conn.is_closing() => {
                    tracing::debug!(
                        deadline_ms = self.config.write_deadline.as_millis(),
                        "websocket write stalled"
                    );
                    conn.link.close(Close::SlowConsumer);
                    self.writers.to_close.push(id);
                }
                // The close frame did not go in time: the socket is shut regardless.
                _ => self.writers.finish(id),
            }
        }
    }

    /// Begins the closes asked for: each connection's close frame goes after anything
    /// in flight.
    fn close_pending(&mut self) {
        let now = Instant::now();
        while let Some(id) = self.writers.to_close.pop() {
            let Some(conn) = self.writers.conns.get_mut(&id) else {
                continue;
            };
            if conn.is_closing() {
                continue;
            }
            let channels = conn.begin_close(now);
            self.channels.leave(id, &channels);
            self.writers.flush(id, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_walk_starts_one_subscriber_further_on() {
        let (sender, _) = watch::channel(None);
        let topic = Arc::new(Topic::detached(sender));
        let mut channels = Channels::default();
        let name: Arc<str> = "NIFTY:2026-12-08".into();
        for id in [7, 8, 9] {
            assert!(channels.join(&name, topic.clone(), id).is_none());
        }
        channels.join(&name, topic.clone(), 8);
        let watched = channels.watched.get_mut(&name).unwrap();
        let walks: Vec<Vec<u64>> = (0..4).map(|_| watched.walk().collect()).collect();
        assert_eq!(
            walks,
            [vec![8, 9, 7], vec![9, 7, 8], vec![7, 8, 9], vec![8, 9, 7]]
        );
        assert_eq!(
            channels.watchers.len(),
            1,
            "one watch per channel per shard"
        );
        channels.leave(8, std::slice::from_ref(&name));
        channels.leave(7, std::slice::from_ref(&name));
        assert_eq!(channels.watched[&name].subscribers, [9]);
        channels.leave(9, std::slice::from_ref(&name));
        assert!(
            channels.watched.is_empty(),
            "nobody holds it: no longer watched"
        );
    }
}
