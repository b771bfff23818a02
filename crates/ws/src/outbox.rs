//! One client's outgoing queue, bounded in bytes, with conflation per channel.
//!
//! Entries are messages framed for the wire, shared with every other subscriber of the
//! publication; the writer shard writes them from the front, many per write. An entry
//! being written leaves the queue first (the shard keeps it with its offset), so what
//! is still queued is whole and may be replaced. Data holds at most one pending entry
//! per subscription: a newer frame *replaces* the pending one in place (latest wins)
//! and the replacement is counted as dropped. Data is flow-controlled: only data that
//! [`Outbox::fits`] under the cap is queued; the rest waits as the subscription's
//! latest frame, where it is conflated for free. Control messages (acks, errors, pongs, pings) are never conflated; they
//! have a cap of their own of the same size, and a control message over it means the
//! client sends requests but does not read the answers: a slow consumer.
//!
//! A single data message larger than the cap is still accepted into a queue with no
//! other data, so a snapshot bigger than the cap does not make a healthy client
//! unservable. At most, then, a queue holds `cap` of replies plus `cap` (or one message)
//! of data.

use std::collections::VecDeque;

use std::io::IoSlice;

use bytes::Bytes;

#[derive(Debug)]
struct Entry {
    /// The subscription a data entry belongs to; `None` for control messages.
    key: Option<u64>,
    frames: Bytes,
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

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether subscription `key` has data pending (not yet being written).
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
            .map_or(0, |e| e.frames.len());
        data == replaced || data - replaced + len <= self.cap
    }

    /// Queues data for `key`, replacing its pending entry if any. Returns whether one
    /// was replaced (a dropped message). The caller checked [`Self::fits`].
    pub(super) fn push_data(&mut self, key: u64, frames: Bytes) -> bool {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == Some(key)) {
            self.bytes = self.bytes - entry.frames.len() + frames.len();
            entry.frames = frames;
            true
        } else {
            self.bytes += frames.len();
            self.entries.push_back(Entry {
                key: Some(key),
                frames,
            });
            false
        }
    }

    /// Queues a control message, in order.
    pub(super) fn push_control(&mut self, frames: Bytes) -> Result<(), Overflow> {
        let len = frames.len();
        if self.control_bytes > 0 && self.control_bytes + len > self.cap {
            return Err(Overflow);
        }
        self.bytes += len;
        self.control_bytes += len;
        self.entries.push_back(Entry { key: None, frames });
        Ok(())
    }

    /// Drops the pending data of `key` (after an unsubscribe); returns how many.
    pub(super) fn remove(&mut self, key: u64) -> usize {
        let before = self.entries.len();
        let mut freed = 0;
        self.entries.retain(|e| {
            let keep = e.key != Some(key);
            if !keep {
                freed += e.frames.len();
            }
            keep
        });
        self.bytes -= freed;
        before - self.entries.len()
    }

    /// Points `slices` at the pending messages, oldest first; returns how many it
    /// filled.
    pub(super) fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut filled = 0;
        for (slot, entry) in slices.iter_mut().zip(&self.entries) {
            *slot = IoSlice::new(&entry.frames);
            filled += 1;
        }
        filled
    }

    /// Takes the oldest message, to be written.
    pub(super) fn pop_front(&mut self) -> Option<Bytes> {
        let entry = self.entries.pop_front()?;
        self.bytes -= entry.frames.len();
        if entry.key.is_none() {
            self.control_bytes -= entry.frames.len();
        }
        Some(entry.frames)
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

    fn frames(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn padded(s: &str, len: usize) -> Bytes {
        let mut text = s.to_string();
        text.extend(std::iter::repeat_n(' ', len - s.len()));
        Bytes::from(text)
    }

    fn drain(q: &mut Outbox) -> Vec<String> {
        std::iter::from_fn(|| q.pop_front())
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .collect()
    }

    #[test]
    fn data_is_conflated_per_subscription_in_place() {
        let mut q = Outbox::new(100);
        assert!(q.push_control(frames("ack")).is_ok());
        assert!(!q.push_data(1, padded("a1", 10)));
        assert!(!q.push_data(2, padded("b1", 10)));
        // A newer frame of subscription 1 replaces the pending one, keeping its place.
        assert!(q.has_pending(1));
        assert!(q.push_data(1, padded("a2", 20)));
        assert_eq!(q.bytes(), 33);
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(q.slices(&mut slices), 2, "as many as there are slots");
        assert_eq!(&*slices[1], &padded("a2", 20)[..]);
        assert_eq!(drain(&mut q), ["ack", "a2", "b1"]);
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
        q.push_data(1, padded("big", 1_000));
        assert!(q.fits(1, 900), "replacing the only entry is always allowed");
        assert!(!q.fits(2, 1), "another channel must wait");
        q.pop_front();
        q.push_data(1, padded("x", 60));
        assert!(q.fits(2, 40));
        assert!(!q.fits(2, 41));
        assert!(q.fits(1, 100), "the replaced entry's bytes count as freed");
        // Replies do not take room from data.
        q.push_control(padded("ack", 90)).unwrap();
        assert!(q.fits(2, 40));
    }

    #[test]
    fn control_has_its_own_cap_and_overflows_past_it() {
        let mut q = Outbox::new(100);
        q.push_data(1, padded("snapshot", 5_000));
        assert!(
            q.push_control(padded("ack", 60)).is_ok(),
            "data does not block replies"
        );
        assert!(q.push_control(padded("pong", 40)).is_ok());
        assert_eq!(q.push_control(frames("p")), Err(Overflow));
        drain(&mut q);
        assert!(
            q.push_control(padded("pong", 100)).is_ok(),
            "taken replies free room"
        );
        // No replies pending: any one reply fits.
        let mut q = Outbox::new(10);
        assert!(q.push_control(padded("huge", 1_000_000)).is_ok());
    }

    #[test]
    fn unsubscribe_removes_pending_data_only() {
        let mut q = Outbox::new(1_000);
        q.push_data(1, padded("a", 10));
        q.push_control(padded("ack", 5)).unwrap();
        q.push_data(2, padded("b", 10));
        assert_eq!(q.remove(1), 1);
        assert_eq!(q.bytes(), 15);
        assert_eq!(drain(&mut q), ["ack", "b"]);
    }
}
