//! One client's outgoing queue, bounded in bytes, with conflation per channel.
//!
//! The session pushes; the writer takes everything pending in one batch (feed many,
//! flush once). Data holds at most one pending entry per subscription: a newer frame
//! *replaces* the pending one in place (latest wins) and the replacement is counted as
//! dropped. Data is flow-controlled: the session only pushes data that [`Outbox::fits`]
//! under the cap, and otherwise leaves it in the channel's watch, where it is conflated
//! for free. Control messages (acks, errors, pongs, pings) are never conflated; they
//! have a cap of their own of the same size, and a control message over it means the
//! client sends requests but does not read the answers: a slow consumer.
//!
//! A single data message larger than the cap is still accepted into a queue with no
//! other data, so a snapshot bigger than the cap does not make a healthy client
//! unservable. At most, then, a queue holds `cap` of replies plus `cap` (or one message)
//! of data.

use std::collections::VecDeque;

use tokio_tungstenite::tungstenite::Message;

#[derive(Debug)]
struct Entry {
    /// The subscription a data entry belongs to; `None` for control messages.
    key: Option<u64>,
    bytes: usize,
    message: Message,
}

/// The queue did not have room for a control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Overflow;

/// A client's pending messages.
#[derive(Debug)]
pub(super) struct Outbox {
    entries: VecDeque<Entry>,
    /// Bytes pending, data and control.
    bytes: usize,
    /// Bytes of control messages pending.
    control_bytes: usize,
    cap: usize,
}

impl Outbox {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            control_bytes: 0,
            cap,
        }
    }

    /// Bytes pending.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether subscription `key` has data pending (not yet taken by the writer).
    pub(super) fn has_pending(&self, key: u64) -> bool {
        self.entries.iter().any(|e| e.key == Some(key))
    }

    /// Whether `len` bytes of data for `key` fit, counting the pending entry it would
    /// replace as freed.
    pub(super) fn fits(&self, key: u64, len: usize) -> bool {
        let data = self.bytes - self.control_bytes;
        let replaced = self
            .entries
            .iter()
            .find(|e| e.key == Some(key))
            .map_or(0, |e| e.bytes);
        data == replaced || data - replaced + len <= self.cap
    }

    /// Queues data for `key`, replacing its pending entry if any. Returns whether one
    /// was replaced (a dropped message). The caller checked [`Self::fits`].
    pub(super) fn push_data(&mut self, key: u64, message: Message, len: usize) -> bool {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == Some(key)) {
            self.bytes = self.bytes - entry.bytes + len;
            entry.bytes = len;
            entry.message = message;
            true
        } else {
            self.bytes += len;
            self.entries.push_back(Entry {
                key: Some(key),
                bytes: len,
                message,
            });
            false
        }
    }

    /// Queues a control message, in order.
    pub(super) fn push_control(&mut self, message: Message, len: usize) -> Result<(), Overflow> {
        if self.control_bytes > 0 && self.control_bytes + len > self.cap {
            return Err(Overflow);
        }
        self.bytes += len;
        self.control_bytes += len;
        self.entries.push_back(Entry {
            key: None,
            bytes: len,
            message,
        });
        Ok(())
    }

    /// Drops the pending data of `key` (after an unsubscribe); returns how many.
    pub(super) fn remove(&mut self, key: u64) -> usize {
        let before = self.entries.len();
        let mut freed = 0;
        self.entries.retain(|e| {
            let keep = e.key != Some(key);
            if !keep {
                freed += e.bytes;
            }
            keep
        });
        self.bytes -= freed;
        before - self.entries.len()
    }

    /// Takes pending messages, oldest first, up to `max_bytes` (always at least one).
    pub(super) fn take_batch(&mut self, max_bytes: usize) -> Vec<Message> {
        let mut batch = Vec::new();
        let mut taken = 0;
        while let Some(front) = self.entries.front() {
            if !batch.is_empty() && taken + front.bytes > max_bytes {
                break;
            }
            let Some(entry) = self.entries.pop_front() else {
                break;
            };
            taken += entry.bytes;
            self.bytes -= entry.bytes;
            if entry.key.is_none() {
                self.control_bytes -= entry.bytes;
            }
            batch.push(entry.message);
        }
        batch
    }

    /// Forgets everything pending (the connection is closing).
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.control_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Message {
        Message::Text(s.into())
    }

    fn texts(batch: &[Message]) -> Vec<String> {
        batch
            .iter()
            .map(|m| match m {
                Message::Text(t) => t.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn data_is_conflated_per_subscription_in_place() {
        let mut q = Outbox::new(100);
        assert!(q.push_control(text("ack"), 3).is_ok());
        assert!(!q.push_data(1, text("a1"), 10));
        assert!(!q.push_data(2, text("b1"), 10));
        // A newer frame of subscription 1 replaces the pending one, keeping its place.
        assert!(q.has_pending(1));
        assert!(q.push_data(1, text("a2"), 20));
        assert_eq!(q.bytes(), 33);
        assert_eq!(texts(&q.take_batch(usize::MAX)), ["ack", "a2", "b1"]);
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        assert!(!q.has_pending(1));
    }

    #[test]
    fn data_fits_under_the_cap_and_alone_whatever_its_size() {
        let mut q = Outbox::new(100);
        assert!(
            q.fits(1, 1_000),
            "an empty queue takes one oversized message"
        );
        q.push_data(1, text("big"), 1_000);
        assert!(q.fits(1, 900), "replacing the only entry is always allowed");
        assert!(!q.fits(2, 1), "another channel must wait");
        q.take_batch(usize::MAX);
        q.push_data(1, text("x"), 60);
        assert!(q.fits(2, 40));
        assert!(!q.fits(2, 41));
        assert!(q.fits(1, 100), "the replaced entry's bytes count as freed");
        // Replies do not take room from data.
        q.push_control(text("ack"), 90).unwrap();
        assert!(q.fits(2, 40));
    }

    #[test]
    fn control_has_its_own_cap_and_overflows_past_it() {
        let mut q = Outbox::new(100);
        q.push_data(1, text("snapshot"), 5_000);
        assert!(
            q.push_control(text("ack"), 60).is_ok(),
            "data does not block replies"
        );
        assert!(q.push_control(text("pong"), 40).is_ok());
        assert_eq!(q.push_control(text("pong"), 1), Err(Overflow));
        q.take_batch(usize::MAX);
        assert!(
            q.push_control(text("pong"), 100).is_ok(),
            "taken replies free room"
        );
        // No replies pending: any one reply fits.
        let mut q = Outbox::new(10);
        assert!(q.push_control(text("huge"), 1_000_000).is_ok());
    }

    #[test]
    fn batches_respect_the_byte_budget_but_take_at_least_one() {
        let mut q = Outbox::new(1_000);
        for (i, len) in [300, 300, 300].into_iter().enumerate() {
            q.push_data(i as u64, text(&i.to_string()), len);
        }
        assert_eq!(texts(&q.take_batch(650)), ["0", "1"]);
        assert_eq!(texts(&q.take_batch(10)), ["2"]);
        assert!(q.take_batch(10).is_empty());
    }

    #[test]
    fn unsubscribe_removes_pending_data_only() {
        let mut q = Outbox::new(1_000);
        q.push_data(1, text("a"), 10);
        q.push_control(text("ack"), 5).unwrap();
        q.push_data(2, text("b"), 10);
        assert_eq!(q.remove(1), 1);
        assert_eq!(q.bytes(), 15);
        assert_eq!(texts(&q.take_batch(usize::MAX)), ["ack", "b"]);
    }
}
