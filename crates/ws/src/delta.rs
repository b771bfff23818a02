//! Deltas of a chain: the JSON patch that turns one publication into the next, carrying
//! only the fields that changed.
//!
//! In a live market every quote and every Greek of a chain moves within a second, so a
//! delta that re-sends whole strike rows is nearly as large as the snapshot (a NIFTY
//! chain is about 100 KB). A field-level patch is a fraction of that, and bytes are what
//! limit fan-out to thousands of sockets. The rules, which README states for clients:
//!
//! - `data` is an RFC 7396 JSON merge patch of the chain object: a key present replaces
//!   the value (objects are patched recursively, arrays are replaced whole), a `null`
//!   removes the key, a key absent is unchanged;
//! - except `strikes`, which lists only the changed rows, each a merge patch of that row
//!   matched by its `strike` (rows are never added or removed by a delta: when the
//!   strike list changes, only a snapshot describes the chain).
//!
//! The publisher keeps the chains of its last [`HISTORY`] frames, so a client a few
//! frames behind (its updates conflated while it was slow) is sent one *catch-up* patch
//! straight from its last frame instead of a snapshot.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

/// Frames of history kept per chain channel.
pub(super) const HISTORY: usize = 32;

/// The RFC 7396 merge patch turning `prev` into `next`; `None` when they are equal.
/// Objects are not compared whole before they are diffed: the diff is the comparison,
/// so a changed object is walked once rather than twice.
pub(super) fn merge_diff(prev: &Value, next: &Value) -> Option<Value> {
    match (prev, next) {
        (Value::Object(prev), Value::Object(next)) => {
            let patch = object_diff(prev, next, |_| true);
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ => (prev != next).then(|| next.clone()),
    }
}

/// The merge patch between two objects, over the keys `include` accepts.
///
/// Successive publications hold their keys in the same order, so `prev` is walked
/// alongside `next` and each key found where it was; only when the two part (a key
/// added or removed) are the remaining keys looked up.
fn object_diff(
    prev: &Map<String, Value>,
    next: &Map<String, Value>,
    include: impl Fn(&str) -> bool,
) -> Map<String, Value> {
    let mut patch = Map::new();
    let mut aligned = prev.len() == next.len();
    let mut beside = prev.iter();
    for (key, value) in next {
        let old = if aligned {
            match beside.next() {
                Some((old_key, old)) if old_key == key => Some(old),
                _ => {
                    aligned = false;
                    prev.get(key)
                }
            }
        } else {
            prev.get(key)
        };
        if !include(key) {
            continue;
        }
        let changed = match old {
            // A null in `next` would read as "remove", which is the same thing here:
            // the snapshot's null and an absent key mean the same to a client.
            Some(old) => merge_diff(old, value),
            None => Some(value.clone()),
        };
        if let Some(changed) = changed {
            patch.insert(key.clone(), changed);
        }
    }
    // Walked alongside to the end with as many keys: the two have the same keys.
    if !aligned {
        for key in prev.keys().filter(|key| include(key)) {
            if !next.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    patch
}

/// The patch turning chain `prev` into chain `next` (both as serialised), following the
/// module's rules; `None` when the strike lists differ (then only a snapshot will do).
pub(super) fn chain_patch(prev: &Value, next: &Value) -> Option<Value> {
    let (Value::Object(prev), Value::Object(next)) = (prev, next) else {
        return None;
    };
    let (Some(Value::Array(old_rows)), Some(Value::Array(new_rows))) =
        (prev.get("strikes"), next.get("strikes"))
    else {
        return None;
    };
    let same_strikes = old_rows.len() == new_rows.len()
        && old_rows
            .iter()
            .zip(new_rows)
            .all(|(a, b)| a.get("strike") == b.get("strike"));
    if !same_strikes {
        return None;
    }
    let mut patch = object_diff(prev, next, |key| key != "strikes");
    let rows = old_rows
        .iter()
        .zip(new_rows)
        .filter_map(|(old, new)| {
            let Value::Object(mut row) = merge_diff(old, new)? else {
                return None;
            };
            row.insert("strike".into(), new.get("strike")?.clone());
            Some(Value::Object(row))
        })
        .collect();
    patch.insert("strikes".into(), Value::Array(rows));
    Some(Value::Object(patch))
}

/// How the history holds a chain it published.
///
/// A chain as a `Value` is several times its JSON, and thirty-two of them per channel
/// would be most of a busy server's memory; so only the last two are kept whole (the
/// newest, and the one every one-step update is patched from). An older chain is kept
/// as the patch that made it from the chain before (computed anyway, for the one-step
/// update), and one in [`CHECKPOINT`] as its JSON, to rebuild the others from. A chain
/// older than the last two is only read again to patch a lagging client from, once per
/// base and frame; serialising every chain as it aged would cost the publisher more
/// than anything else it does.
#[derive(Debug, Clone)]
pub(super) enum Past {
    Whole(Arc<Value>),
    Compact(Bytes),
    /// The chain before it, with this entry's step applied.
    Stepped,
}

/// One frame in the history: its seq, its chain, and the patch from the frame before
/// (`None` for the first, or when the strike list changed).
#[derive(Debug, Clone)]
pub(super) struct Published {
    pub seq: u64,
    chain: Past,
    step: Option<Arc<Value>>,
}

/// A channel's recent frames, oldest first, the newest last.
pub(super) type Recent = Arc<[Published]>;

/// Frames kept whole at the end of the history.
const WHOLE: usize = 2;

/// One older frame in this many keeps its chain as JSON; the rest keep their step.
const CHECKPOINT: u64 = 8;

/// The publisher's record of its recent frames: at least [`HISTORY`] of them (once it
/// has published that many), and fewer than `HISTORY + CHECKPOINT`.
#[derive(Debug, Default)]
pub(super) struct History {
    recent: VecDeque<Published>,
    recorded: u64,
}

impl History {
    /// Records frame `seq`, which published `chain`.
    pub(super) fn record(&mut self, seq: u64, chain: Arc<Value>) {
        let step = match self.recent.back().map(|last| &last.chain) {
            Some(Past::Whole(previous)) => chain_patch(previous, &chain).map(Arc::new),
            _ => None,
        };
        self.recent.push_back(Published {
            seq,
            chain: Past::Whole(chain),
            step,
        });
        self.recorded += 1;
        let checkpoint = self.recorded.is_multiple_of(CHECKPOINT);
        if let Some(index) = self.recent.len().checked_sub(WHOLE + 1)
            && let Some(aged) = self.recent.get_mut(index)
            && let Past::Whole(chain) = &aged.chain
        {
            aged.chain = if index > 0 && aged.step.is_some() && !checkpoint {
                Past::Stepped
            } else {
                compact(chain)
            };
        }
        // The oldest frames go a group at a time: a kept chain with the steps that
        // stand on it.
        while let Some(group) = (1..self.recent.len())
            .find(|&i| !matches!(self.recent.get(i).map(|p| &p.chain), Some(Past::Stepped)))
            && self.recent.len() - group >= HISTORY
        {
            self.recent.drain(..group);
        }
    }

    pub(super) fn recent(&self) -> Recent {
        self.recent.iter().cloned().collect()
    }
}

/// A chain as JSON; were it not to serialise (plain JSON does), it stays whole.
fn compact(chain: &Arc<Value>) -> Past {
    match serde_json::to_vec(chain.as_ref()) {
        Ok(json) => Past::Compact(Bytes::from(json)),
        Err(_) => Past::Whole(chain.clone()),
    }
}

/// The chain of `recent[index]`, rebuilt from the nearest chain kept before it and the
/// steps since. A rebuilt chain lacks the keys a step removed with `null`, as a client
/// that applied the same steps does.
fn chain_at(recent: &[Published], index: usize) -> Option<Arc<Value>> {
    let start = (0..=index).rev().find(|&i| {
        recent
            .get(i)
            .is_some_and(|p| !matches!(p.chain, Past::Stepped))
    })?;
    let mut chain = match &recent.get(start)?.chain {
        Past::Whole(chain) if start == index => return Some(chain.clone()),
        Past::Whole(chain) => chain.as_ref().clone(),
        Past::Compact(json) => serde_json::from_slice(json).ok()?,
        Past::Stepped => return None,
    };
    for published in recent.get(start + 1..=index)? {
        apply_chain_patch(&mut chain, published.step.as_deref()?);
    }
    Some(Arc::new(chain))
}

/// The patch from frame `base` to the newest frame of `recent`, when `base` is an
/// older frame still in the window (and the strike list has not changed since).
pub(super) fn patch_since(recent: &[Published], base: u64) -> Option<Value> {
    let newest = recent.last()?;
    if base >= newest.seq {
        return None;
    }
    let index = recent.iter().position(|p| p.seq == base)?;
    if index + 2 == recent.len()
        && let Some(step) = &newest.step
    {
        return Some(step.as_ref().clone());
    }
    let (old, new) = (
        chain_at(recent, index)?,
        chain_at(recent, recent.len() - 1)?,
    );
    chain_patch(&old, &new)
}

/// Applies a chain delta's `data` to a chain held as JSON, by the module's rules: the
/// reference for clients, and what the tests use to prove that deltas rebuild the
/// snapshot exactly.
pub fn apply_chain_patch(chain: &mut Value, patch: &Value) {
    fn merge(target: &mut Value, patch: &Value) {
        let Value::Object(patch) = patch else {
            *target = patch.clone();
            return;
        };
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        if let Value::Object(target) = target {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
    }
    let Value::Object(fields) = patch else {
        return;
    };
    for (key, value) in fields {
        if key == "strikes" {
            for row_patch in value.as_array().into_iter().flatten() {
                let rows = chain.get_mut("strikes").and_then(Value::as_array_mut);
                let row = rows.and_then(|rows| {
                    rows.iter_mut()
                        .find(|row| row.get("strike") == row_patch.get("strike"))
                });
                if let Some(row) = row {
                    merge(row, row_patch);
                }
            }
        } else if let Value::Object(chain) = chain {
            if value.is_null() {
                chain.remove(key);
            } else {
                merge(chain.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
pub(super) mod fixtures {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use market::book::InstrumentBook;

    /// One side of a strike, shaped as the live chain's contracts are (the book's fields
    /// flattened beside the id).
    fn contract(security_id: u32, ltp: f64) -> Value {
        let book = InstrumentBook {
            ltp,
            ..InstrumentBook::default()
        };
        let mut contract = serde_json::to_value(book).unwrap();
        contract["security_id"] = json!(security_id);
        contract["oi_change"] = json!(0);
        contract["greeks"] = Value::Null;
        contract
    }

    /// A published chain with (strike, call price, put price) rows.
    pub(crate) fn chain(seq: u64, prices: &[(f64, f64, f64)]) -> Arc<Value> {
        let strikes: Vec<Value> = prices
            .iter()
            .enumerate()
            .map(|(i, &(strike, call, put))| {
                json!({
                    "strike": strike,
                    "call": contract(2 * i as u32, call),
                    "put": contract(2 * i as u32 + 1, put),
                })
            })
            .collect();
        Arc::new(json!({
            "underlying": "NIFTY",
            "expiry": {
                "date": "2026-11-24",
                "kind": "weekly",
                "position": "current",
                "label": "NIFTY 24 NOV (weekly, current)",
                "lot_size": 75,
                "strike_step": 50.0,
            },
            "spot": 25_010.0,
            "forward": null,
            "atm_strike": 25_000.0,
            "lot_size": 75,
            "strike_step": 50.0,
            "seq": seq,
            "as_of": null,
            "greeks": null,
            "source": null,
            "strikes": strikes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fixtures::chain;
    use super::*;

    #[test]
    fn merge_diff_keeps_only_what_changed() {
        let prev = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "gone": true});
        let next = json!({"a": 1, "b": {"c": 2, "d": 4}, "e": [1, 3], "new": "x"});
        assert_eq!(
            merge_diff(&prev, &next),
            Some(json!({"b": {"d": 4}, "e": [1, 3], "new": "x", "gone": null}))
        );
        assert_eq!(merge_diff(&prev, &prev), None);
        assert_eq!(merge_diff(&json!(1.5), &json!(2.5)), Some(json!(2.5)));
        // Keys added or removed, with the rest unchanged around them.
        let (short, long) = (json!({"a": 1, "c": 3}), json!({"a": 1, "b": 2, "c": 3}));
        assert_eq!(merge_diff(&short, &long), Some(json!({"b": 2})));
        assert_eq!(merge_diff(&long, &short), Some(json!({"b": null})));
        assert_eq!(merge_diff(&json!({"a": 1}), &json!([1])), Some(json!([1])));
    }

    #[test]
    fn only_changed_fields_of_changed_strikes_are_sent() {
        let rows = [
            (24_950.0, 80.0, 20.0),
            (25_000.0, 50.0, 40.0),
            (25_050.0, 25.0, 70.0),
        ];
        let before = chain(10, &rows);
        let after = chain(
            11,
            &[
                (24_950.0, 80.0, 20.0),
                (25_000.0, 52.5, 40.0),
                (25_050.0, 25.0, 68.0),
            ],
        );
        let patch = chain_patch(&before, &after).unwrap();
        assert_eq!(
            patch,
            json!({
                "seq": 11,
                "strikes": [
                    {"strike": 25_000.0, "call": {"ltp": 52.5}},
                    {"strike": 25_050.0, "put": {"ltp": 68.0}},
                ]
            })
        );
        let unchanged = chain_patch(&after, &after).unwrap();
        assert_eq!(unchanged, json!({"strikes": []}));
    }

    #[test]
    fn applying_the_patch_rebuilds_the_next_chain_exactly() {
        let before = chain(1, &[(24_950.0, 80.0, 20.0), (25_000.0, 50.0, 40.0)]);
        let mut after = (*chain(2, &[(24_950.0, 81.0, 19.0), (25_000.0, 50.0, 41.5)])).clone();
        after["spot"] = json!(25_020.5);
        after["as_of"] = json!("2026-11-24T09:20:00Z");
        after["strikes"][1]["put"] = Value::Null;
        let patch = chain_patch(&before, &after).unwrap();
        let mut client = (*before).clone();
        apply_chain_patch(&mut client, &patch);
        // The client has no `put` key where the server has `put: null`: the same state.
        let mut expected = after.clone();
        if let Some(row) = expected["strikes"][1].as_object_mut() {
            row.remove("put");
        }
        assert_eq!(client, expected);
    }

    #[test]
    fn a_changed_strike_list_has_no_patch() {
        let before = chain(1, &[(24_950.0, 80.0, 20.0), (25_000.0, 50.0, 40.0)]);
        let moved = chain(2, &[(25_000.0, 50.0, 40.0), (25_050.0, 25.0, 70.0)]);
        let shorter = chain(2, &[(24_950.0, 80.0, 20.0)]);
        assert!(chain_patch(&before, &moved).is_none());
        assert!(chain_patch(&before, &shorter).is_none());
    }

    #[test]
    fn catch_up_patches_go_straight_from_any_frame_in_the_window() {
        let mut history = History::default();
        history.record(5, chain(1, &[(25_000.0, 50.0, 40.0)]));
        history.record(6, chain(2, &[(25_000.0, 51.0, 40.0)]));
        history.record(8, chain(3, &[(25_000.0, 51.0, 42.0)]));
        let recent = history.recent();
        // Only the last two are kept whole; 5 is patched from its JSON.
        let kept: Vec<bool> = recent
            .iter()
            .map(|published| matches!(published.chain, Past::Whole(_)))
            .collect();
        assert_eq!(kept, [false, true, true]);
        let from_5 = patch_since(&recent, 5).unwrap();
        assert_eq!(
            from_5["strikes"][0],
            json!({"strike": 25_000.0, "call": {"ltp": 51.0}, "put": {"ltp": 42.0}})
        );
        let from_6 = patch_since(&recent, 6).unwrap();
        assert_eq!(
            from_6["strikes"][0],
            json!({"strike": 25_000.0, "put": {"ltp": 42.0}})
        );
        assert!(patch_since(&recent, 7).is_none(), "7 was never published");
        assert!(patch_since(&recent, 8).is_none(), "nothing to catch up on");
        assert!(patch_since(&recent, 4).is_none(), "older than the window");
    }

    #[test]
    fn history_is_bounded() {
        let mut history = History::default();
        let value = chain(1, &[(25_000.0, 50.0, 40.0)]);
        for seq in 0..(HISTORY as u64 + 10) {
            history.record(seq, value.clone());
        }
        let recent = history.recent();
        assert!(
            (HISTORY..HISTORY + CHECKPOINT as usize).contains(&recent.len()),
            "{}",
            recent.len()
        );
        let oldest = recent[0].seq;
        assert!(patch_since(&recent, oldest).is_some());
        assert!(
            patch_since(&recent, oldest - 1).is_none(),
            "older than the window"
        );
    }

    #[test]
    fn every_chain_in_the_window_is_rebuilt_from_checkpoints_and_steps() {
        let mut history = History::default();
        let chains: Vec<Arc<Value>> = (0..60_u32)
            .map(|i| {
                let i = f64::from(i);
                chain(
                    u64::from(i as u32),
                    &[(25_000.0, 50.0 + i, 40.0), (25_050.0, 25.0, 70.0 - i % 3.0)],
                )
            })
            .collect();
        for (seq, chain) in chains.iter().enumerate() {
            history.record(seq as u64, chain.clone());
        }
        let recent = history.recent();
        let kinds = |wanted: fn(&Past) -> bool| recent.iter().filter(|p| wanted(&p.chain)).count();
        assert_eq!(kinds(|p| matches!(p, Past::Whole(_))), 2);
        assert!(kinds(|p| matches!(p, Past::Compact(_))) >= 4, "checkpoints");
        assert!(
            kinds(|p| matches!(p, Past::Stepped)) >= 20,
            "the rest as steps"
        );
        let newest = chains.last().unwrap().as_ref();
        for published in &recent[..recent.len() - 1] {
            let mut rebuilt = chains[published.seq as usize].as_ref().clone();
            let patch = patch_since(&recent, published.seq).unwrap();
            apply_chain_patch(&mut rebuilt, &patch);
            assert_eq!(&rebuilt, newest, "catch-up from {}", published.seq);
        }
    }
}
