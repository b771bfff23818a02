//! What a session and its writer shard share, and the session's way to reach the shard.
//!
//! A connection is split: its session (one task) reads the client and decides, its
//! writer shard (shared with many connections, see [`super::shard`]) owns the socket's
//! write half and everything queued for it. The session speaks to the shard in
//! [`Command`]s, in order, over the shard's channel, so a reply queued before a
//! subscription is written before that channel's snapshot. The shard answers through
//! the [`Link`]: why the connection is closing, when it has finished (close frame
//! written, socket shut), and which channels it dropped on its own.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, mpsc};

use super::close::Close;
use super::hub::Topic;

/// What a session asks of its shard.
pub(super) enum Command {
    /// A new connection: its write half, and whether it negotiated deflate.
    Attach {
        id: u64,
        socket: OwnedWriteHalf,
        link: Arc<Link>,
        deflate: bool,
    },
    /// A control message's frames, queued in order (never conflated).
    Control { id: u64, frames: Bytes },
    /// Start sending a channel (or, already sent, send its current state again).
    Subscribe {
        id: u64,
        name: Arc<str>,
        topic: Arc<Topic>,
    },
    /// Stop sending a channel, and drop what of it is queued.
    Unsubscribe { id: u64, name: Arc<str> },
    /// The link says why: send the close frame, then shut the socket.
    Close { id: u64 },
    /// The session is gone: forget the connection.
    Detach { id: u64 },
}

/// The state a session and its shard share.
#[derive(Debug, Default)]
pub(super) struct Link {
    closing: OnceLock<Close>,
    /// Set once the shard is done with the socket.
    finished: OnceLock<()>,
    finished_signal: Notify,
    /// Channels the shard stopped sending on its own (their publisher is gone).
    stopped: Mutex<Vec<Arc<str>>>,
}

impl Link {
    /// Records why the connection closes; the first reason given wins. Returns whether
    /// this was the first.
    pub(super) fn close(&self, reason: Close) -> bool {
        let first = self.closing.set(reason).is_ok();
        if first {
            reason.count();
        }
        first
    }

    pub(super) fn closing(&self) -> Option<Close> {
        self.closing.get().copied()
    }

    /// The shard is done: the close frame went (or its deadline passed) and the socket
    /// is shut.
    pub(super) fn finish(&self) {
        if self.finished.set(()).is_ok() {
            self.finished_signal.notify_one();
        }
    }

    /// Waits until the shard is done with the socket.
    pub(super) async fn finished(&self) {
        if self.finished.get().is_none() {
            self.finished_signal.notified().await;
        }
    }

    pub(super) fn stopped(&self, name: Arc<str>) {
        self.stopped.lock().push(name);
    }

    /// Channels the shard stopped since the last call.
    pub(super) fn take_stopped(&self) -> Vec<Arc<str>> {
        std::mem::take(&mut *self.stopped.lock())
    }
}

/// A session's handle on its connection's shard.
pub(super) struct Outlet {
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
    pub link: Arc<Link>,
}

impl Outlet {
    pub(super) fn new(id: u64, commands: mpsc::UnboundedSender<Command>, link: Arc<Link>) -> Self {
        Self { id, commands, link }
    }

    fn send(&self, command: Command) {
        // A shard outlives the sessions it serves; should it be gone, the session ends.
        if self.commands.send(command).is_err() {
            self.link.finish();
        }
    }

    /// Hands the connection's write half to the shard.
    pub(super) fn attach(&self, socket: OwnedWriteHalf, deflate: bool) {
        self.send(Command::Attach {
            id: self.id,
            socket,
            link: self.link.clone(),
            deflate,
        });
    }

    /// Queues a control message's frames.
    pub(super) fn control(&self, frames: Bytes) {
        self.send(Command::Control {
            id: self.id,
            frames,
        });
    }

    pub(super) fn subscribe(&self, name: Arc<str>, topic: Arc<Topic>) {
        self.send(Command::Subscribe {
            id: self.id,
            name,
            topic,
        });
    }

    pub(super) fn unsubscribe(&self, name: Arc<str>) {
        self.send(Command::Unsubscribe { id: self.id, name });
    }

    /// Closes the connection for `reason` (unless it is already closing).
    pub(super) fn close(&self, reason: Close) {
        if self.link.close(reason) {
            self.send(Command::Close { id: self.id });
        }
    }
}

impl Drop for Outlet {
    fn drop(&mut self) {
        self.send(Command::Detach { id: self.id });
    }
}
