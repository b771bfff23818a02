//! Deltas of a chain: which strikes changed between two publications, and the message
//! that carries only those.
//!
//! The publisher remembers the changed strikes of its last [`HISTORY`] frames, so a
//! client a few frames behind (its updates conflated while it was slow) can be sent
//! one *catch-up* delta from its last seq (the union of what changed since) instead of
//! a full snapshot, which is often a hundred times larger. Beyond that window, or when
//! the strike list itself changed, only a snapshot will do.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;
use time::Date;

use crate::api::market::{LiveChain, LiveStrike};
use crate::plugins::live_greeks::ChainGreeks;

/// Frames of changed-strike history kept per chain channel.
pub const HISTORY: usize = 32;

/// What changed in a chain: every chain-level field, and only the changed strikes.
#[derive(Debug, Serialize)]
pub struct ChainDelta<'a> {
    pub underlying: &'a str,
    pub expiry: Date,
    pub spot: Option<f64>,
    pub forward: Option<f64>,
    pub atm_strike: Option<f64>,
    /// The market's chain sequence (as in the REST answer's `seq`).
    pub seq: u64,
    pub as_of: Option<&'a str>,
    pub greeks: Option<&'a ChainGreeks>,
    pub strikes: Vec<&'a LiveStrike>,
}

/// Indices of the strikes whose call or put differ; `None` when the strike lists
/// differ (then only a snapshot describes `next`).
pub fn changed_strikes(prev: &LiveChain, next: &LiveChain) -> Option<Vec<usize>> {
    let same_strikes = prev.strikes.len() == next.strikes.len()
        && prev
            .strikes
            .iter()
            .zip(&next.strikes)
            .all(|(a, b)| a.strike.to_bits() == b.strike.to_bits());
    same_strikes.then(|| {
        prev.strikes
            .iter()
            .zip(&next.strikes)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i)
            .collect()
    })
}

/// The delta carrying `indices` of `chain`.
pub fn delta_of<'a>(chain: &'a LiveChain, indices: &[usize]) -> ChainDelta<'a> {
    ChainDelta {
        underlying: &chain.underlying,
        expiry: chain.expiry.date,
        spot: chain.spot,
        forward: chain.forward,
        atm_strike: chain.atm_strike,
        seq: chain.seq,
        as_of: chain.as_of.as_deref(),
        greeks: chain.greeks.as_ref(),
        strikes: indices
            .iter()
            .filter_map(|&i| chain.strikes.get(i))
            .collect(),
    }
}

/// One frame in the history: its seq, and the strikes changed since the frame before
/// it (`None` when unknown: the first frame, or the strike list changed).
pub type Change = (u64, Option<Arc<[usize]>>);

/// A channel's recent frames, oldest first.
pub type Changes = Arc<[Change]>;

/// The publisher's record of recent changes.
#[derive(Debug, Default)]
pub struct History {
    recent: VecDeque<Change>,
}

impl History {
    /// Records frame `seq` and what changed since the publisher's previous frame.
    pub fn record(&mut self, seq: u64, changed: Option<Vec<usize>>) {
        if self.recent.len() == HISTORY {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, changed.map(Arc::from)));
    }

    pub fn changes(&self) -> Changes {
        self.recent.iter().cloned().collect()
    }
}

/// The strikes changed after `base` up to the newest frame of `changes`, if every frame
/// in between is known (consecutive seqs, each with its changes); sorted, no duplicates.
pub fn changed_since(changes: &[Change], base: u64) -> Option<Vec<usize>> {
    let newest = changes.last()?.0;
    let expected = usize::try_from(newest.checked_sub(base)?).ok()?;
    let after: Vec<&Change> = changes.iter().filter(|(s, _)| *s > base).collect();
    if expected == 0 || after.len() != expected {
        return None;
    }
    let mut union = Vec::new();
    for (_, changed) in after {
        union.extend(changed.as_deref()?.iter().copied());
    }
    union.sort_unstable();
    union.dedup();
    Some(union)
}

#[cfg(test)]
pub(super) mod fixtures {
    use time::macros::date;

    use crate::api::market::{ExpiryLabel, LiveChain, LiveContract, LiveStrike};
    use crate::instruments::ExpiryFlag;
    use crate::market::book::InstrumentBook;

    fn contract(security_id: u32, ltp: f64) -> Option<LiveContract> {
        Some(LiveContract {
            security_id,
            book: InstrumentBook {
                ltp,
                ..InstrumentBook::default()
            },
            oi_change: 0,
            greeks: None,
        })
    }

    /// A chain with (strike, call price, put price) rows.
    pub fn chain(seq: u64, prices: &[(f64, f64, f64)]) -> LiveChain {
        LiveChain {
            underlying: "NIFTY".into(),
            expiry: ExpiryLabel {
                date: date!(2026 - 11 - 24),
                kind: ExpiryFlag::Weekly,
                position: "current",
                label: "NIFTY 24 NOV (weekly, current)".into(),
                lot_size: 75,
                strike_step: 50.0,
            },
            spot: Some(25_010.0),
            forward: None,
            atm_strike: Some(25_000.0),
            lot_size: 75,
            strike_step: 50.0,
            seq,
            as_of: None,
            greeks: None,
            strikes: prices
                .iter()
                .enumerate()
                .map(|(i, &(strike, call, put))| LiveStrike {
                    strike,
                    call: contract(2 * i as u32, call),
                    put: contract(2 * i as u32 + 1, put),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::chain;
    use super::*;

    #[test]
    fn only_changed_strikes_are_listed() {
        let before = chain(
            10,
            &[
                (24_950.0, 80.0, 20.0),
                (25_000.0, 50.0, 40.0),
                (25_050.0, 25.0, 70.0),
            ],
        );
        let after = chain(
            11,
            &[
                (24_950.0, 80.0, 20.0),
                (25_000.0, 52.5, 40.0),
                (25_050.0, 25.0, 68.0),
            ],
        );
        assert_eq!(changed_strikes(&before, &after), Some(vec![1, 2]));
        assert_eq!(changed_strikes(&after, &after), Some(vec![]));
        let delta = delta_of(&after, &[1, 2]);
        let strikes: Vec<f64> = delta.strikes.iter().map(|s| s.strike).collect();
        assert_eq!(strikes, [25_000.0, 25_050.0]);
        assert_eq!(delta.seq, 11);
    }

    #[test]
    fn a_changed_strike_list_has_no_delta() {
        let before = chain(1, &[(24_950.0, 80.0, 20.0), (25_000.0, 50.0, 40.0)]);
        let moved = chain(2, &[(25_000.0, 50.0, 40.0), (25_050.0, 25.0, 70.0)]);
        let shorter = chain(2, &[(24_950.0, 80.0, 20.0)]);
        assert!(changed_strikes(&before, &moved).is_none());
        assert!(changed_strikes(&before, &shorter).is_none());
    }

    #[test]
    fn catch_up_unions_consecutive_known_changes_only() {
        let mut history = History::default();
        history.record(5, None);
        history.record(6, Some(vec![3]));
        history.record(7, Some(vec![1, 3]));
        history.record(8, Some(vec![0]));
        let changes = history.changes();
        assert_eq!(changed_since(&changes, 7), Some(vec![0]));
        assert_eq!(changed_since(&changes, 6), Some(vec![0, 1, 3]));
        assert_eq!(changed_since(&changes, 5), Some(vec![0, 1, 3]));
        assert_eq!(
            changed_since(&changes, 4),
            None,
            "what changed before 5 is unknown"
        );
        assert_eq!(changed_since(&changes, 8), None, "nothing to catch up on");
        assert_eq!(changed_since(&changes, 9), None);
        // A hole in the seqs (frames of another publisher) breaks the chain of deltas.
        history.record(10, Some(vec![2]));
        let changes = history.changes();
        assert_eq!(changed_since(&changes, 8), None);
        assert_eq!(changed_since(&changes, 9), Some(vec![2]));
    }

    #[test]
    fn history_is_bounded() {
        let mut history = History::default();
        for seq in 0..(HISTORY as u64 + 10) {
            history.record(seq, Some(vec![]));
        }
        let changes = history.changes();
        assert_eq!(changes.len(), HISTORY);
        assert_eq!(changed_since(&changes, 9), Some(vec![]));
        assert_eq!(changed_since(&changes, 8), None, "older than the window");
    }
}
