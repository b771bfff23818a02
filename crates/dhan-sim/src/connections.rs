//! The simulator's book of open feed connections, for Dhan's per-user rules: at most
//! five at once (a sixth knocks out the oldest with reason 805), and ways for tests to
//! disconnect everyone (a token expiring) or cut connections dead (a network fault).

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::mpsc;

/// Dhan's limit of feed connections per user.
pub(crate) const MAX_CONNECTIONS: usize = 5;

/// What the server tells one connection's task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// Send a code-50 packet with this reason, then close.
    Disconnect(u16),
    /// Drop the socket without a close frame.
    Abort,
}

#[derive(Debug, Default)]
pub(crate) struct ConnectionBook {
    open: Mutex<Vec<(u64, mpsc::UnboundedSender<Control>)>>,
    next_id: AtomicU64,
    attempts: AtomicU64,
}

impl ConnectionBook {
    pub(crate) fn count_attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Registers a new connection, evicting the oldest when the limit is reached.
    pub(crate) fn register(&self) -> (u64, mpsc::UnboundedReceiver<Control>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut open = self.open.lock();
        while open.len() >= MAX_CONNECTIONS {
            let (_, oldest) = open.remove(0);
            let _ = oldest.send(Control::Disconnect(805));
        }
        open.push((id, sender));
        (id, receiver)
    }

    pub(crate) fn remove(&self, id: u64) {
        self.open.lock().retain(|(open, _)| *open != id);
    }

    pub(crate) fn open_count(&self) -> usize {
        self.open.lock().len()
    }

    pub(crate) fn disconnect_all(&self, reason: u16) {
        for (_, control) in self.open.lock().drain(..) {
            let _ = control.send(Control::Disconnect(reason));
        }
    }

    pub(crate) fn abort_all(&self) {
        for (_, control) in self.open.lock().drain(..) {
            let _ = control.send(Control::Abort);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ConnectionBook, Control, MAX_CONNECTIONS};

    #[test]
    fn a_sixth_connection_evicts_the_oldest_with_805() {
        let book = ConnectionBook::default();
        let mut receivers: Vec<_> = (0..MAX_CONNECTIONS).map(|_| book.register().1).collect();
        assert_eq!(book.open_count(), MAX_CONNECTIONS);
        let _sixth = book.register();
        assert_eq!(book.open_count(), MAX_CONNECTIONS);
        assert_eq!(receivers[0].try_recv(), Ok(Control::Disconnect(805)));
        assert!(receivers[1].try_recv().is_err());
    }
}
