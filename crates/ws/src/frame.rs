//! One publication of a channel, serialised once and shared by every subscriber.
//!
//! A [`Frame`] carries two encodings of the same state: the *update* (for a client that
//! holds the previous frame: a patch of the fields that changed, or the whole small
//! payload)
//! and the *snapshot* (for everyone else). The update is built by the publisher; the
//! snapshot is built lazily, the first time some subscriber needs it (a new subscriber,
//! or one whose updates were conflated), and then reused. Both are shared [`Wire`]
//! messages, framed once, so handing one to ten thousand sockets costs a reference
//! count each, and it is deflated at most once for all the connections that compress.
//!
//! Every data message says what it is:
//! `{"type":"snapshot","channel":..,"seq":..,"server_ts_ms":..,"data":..}` or
//! `{"type":"update","kind":"delta"|"full","channel":..,"seq":..,"prev_seq":..,
//! "server_ts_ms":..,"data":..}`. An update applies only on top of `prev_seq`; a chain
//! client a few frames behind gets a catch-up patch from its own last seq
//! ([`super::delta`]), built once per distinct lag and shared.
//! A channel whose contracts expired publishes one last frame whose update and
//! snapshot are both `{"type":"expired",..}` ([`super::expiry`]).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use serde::Serialize;

use serde_json::Value;

use super::analytics::InstrumentData;
use super::deflate::Wire;
use super::delta::{Recent, patch_since};
use super::expiry::ExpiredNotice;
use super::protocol::now_ms;
use strategy::M2mUpdate;

/// One catch-up delta, built by whoever asks first (`None`: no patch applies).
type CatchUp = Arc<OnceLock<Option<Arc<Wire>>>>;

/// The state a frame was built from, kept to serialise the snapshot on demand.
#[derive(Debug)]
pub enum Payload {
    /// A chain as serialised (the form its patches are computed on).
    Chain(Arc<Value>),
    /// A chain's F&O view, as its REST route answers it.
    View(Arc<Value>),
    Instrument(Arc<InstrumentData>),
    Strategy(Arc<M2mUpdate>),
    /// The channel's contracts expired: the last message it sends.
    Expired(Arc<ExpiredNotice>),
}

/// One publication of one channel.
#[derive(Debug)]
pub struct Frame {
    pub channel: Arc<str>,
    /// Increases by one per publication of the channel.
    pub seq: u64,
    /// The update and the seq it applies on top of; `None` when there is nothing to
    /// apply it to (the first frame of a publisher, or a chain whose strikes changed).
    update: Option<(u64, Arc<Wire>)>,
    /// Chains: the recent frames, this one last, for catch-up patches.
    recent: Recent,
    /// Catch-up deltas by base seq: clients equally far behind share one, built once
    /// (the first to ask builds it, others asking meanwhile wait for it rather than
    /// diffing the chain again). At most one per frame in the history window.
    catch_up: Mutex<Vec<(u64, CatchUp)>>,
    snapshot: OnceLock<Arc<Wire>>,
    payload: Payload,
}

/// The header of a data message.
#[derive(Debug, Clone, Copy)]
struct Head<'a> {
    kind_of_message: &'static str,
    kind: Option<&'static str>,
    channel: &'a str,
    seq: u64,
    prev_seq: Option<u64>,
}

#[derive(Serialize)]
struct DataMessage<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind_of_message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    channel: &'a str,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_seq: Option<u64>,
    server_ts_ms: i64,
    data: &'a T,
}

fn encode<T: Serialize>(head: Head<'_>, data: &T) -> Arc<Wire> {
    let message = DataMessage {
        kind_of_message: head.kind_of_message,
        kind: head.kind,
        channel: head.channel,
        seq: head.seq,
        prev_seq: head.prev_seq,
        server_ts_ms: now_ms(),
        data,
    };
    // Plain data with string keys: serialisation cannot fail; `{}` keeps the type total.
    let text = serde_json::to_vec(&message).unwrap_or_else(|_| b"{}".to_vec());
    Arc::new(Wire::new(&text))
}

impl Frame {
    /// A frame of a chain channel. `recent` holds the publisher's recent frames, this
    /// one last; its update is the patch from the frame before.
    pub(super) fn chain(channel: Arc<str>, seq: u64, chain: Arc<Value>, recent: Recent) -> Self {
        let mut frame = Self::new(channel, seq, None, Payload::Chain(chain));
        frame.recent = recent;
        frame.update = frame.recent.len().checked_sub(2).and_then(|i| {
            let base = frame.recent.get(i)?.seq;
            Some((base, frame.delta(base)?))
        });
        frame
    }

    /// The delta message from frame `base` to this one.
    fn delta(&self, base: u64) -> Option<Arc<Wire>> {
        let patch = patch_since(&self.recent, base)?;
        let head = Head {
            kind_of_message: "update",
            kind: Some("delta"),
            channel: &self.channel,
            seq: self.seq,
            prev_seq: Some(base),
        };
        Some(encode(head, &patch))
    }

    /// A frame of a small channel: its update is the whole payload.
    pub fn full(channel: Arc<str>, seq: u64, previous_seq: Option<u64>, payload: Payload) -> Self {
        let update = previous_seq.map(|prev_seq| {
            let head = Head {
                kind_of_message: "update",
                kind: Some("full"),
                channel: &channel,
                seq,
                prev_seq: Some(prev_seq),
            };
            (prev_seq, payload.encode(head))
        });
        Self::new(channel, seq, update, payload)
    }

    fn new(
        channel: Arc<str>,
        seq: u64,
        update: Option<(u64, Arc<Wire>)>,
        payload: Payload,
    ) -> Self {
        Self {
            channel,
            seq,
            update,
            recent: Arc::new([]),
            catch_up: Mutex::new(Vec::new()),
            snapshot: OnceLock::new(),
            payload,
        }
    }

    /// An update for a client whose last message of this channel was at `last_seq`: the
    /// one-step update, or (chains) a catch-up delta over the recent frames it missed.
    /// `None` when only a snapshot will do.
    pub fn update_after(&self, last_seq: u64) -> Option<Arc<Wire>> {
        if let Some((base, message)) = &self.update
            && *base == last_seq
        {
            return Some(message.clone());
        }
        // Only a base still in the window can be patched from (so the cache holds at
        // most one entry per frame of history).
        if !self.recent.iter().any(|p| p.seq == last_seq) {
            return None;
        }
        let cell = {
            let mut cache = self.catch_up.lock();
            match cache.iter().find(|(base, _)| *base == last_seq) {
                Some((_, cell)) => cell.clone(),
                None => {
                    let cell = Arc::new(OnceLock::new());
                    cache.push((last_seq, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_init(|| self.delta(last_seq)).clone()
    }

    /// The message for a client whose last message of this channel was at `base`
    /// (`None`: nothing it can build on): the one-step update, a catch-up delta, or the
    /// snapshot. Borrowed but for a catch-up, so the common case takes no reference on
    /// a message every subscriber shares.
    pub fn message_after(&self, base: Option<u64>) -> Cow<'_, Arc<Wire>> {
        let Some(base) = base else {
            return Cow::Borrowed(self.snapshot());
        };
        match &self.update {
            Some((one_step, message)) if *one_step == base => Cow::Borrowed(message),
            _ => self
                .update_after(base)
                .map_or_else(|| Cow::Borrowed(self.snapshot()), Cow::Owned),
        }
    }

    /// The full state, serialised on first use.
    pub fn snapshot(&self) -> &Arc<Wire> {
        self.snapshot.get_or_init(|| {
            self.payload.encode(Head {
                kind_of_message: "snapshot",
                kind: None,
                channel: &self.channel,
                seq: self.seq,
                prev_seq: None,
            })
        })
    }
}

impl Payload {
    fn encode(&self, head: Head<'_>) -> Arc<Wire> {
        match self {
            Payload::Chain(chain) => encode(head, chain.as_ref()),
            Payload::View(view) => encode(head, view.as_ref()),
            Payload::Instrument(instrument) => encode(head, instrument.as_ref()),
            Payload::Strategy(valuation) => encode(head, valuation.as_ref()),
            // The same message whether a subscriber was up to date or not.
            Payload::Expired(notice) => {
                let head = Head {
                    kind_of_message: "expired",
                    kind: None,
                    ..head
                };
                encode(head, notice.as_ref())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::delta::History;
    use super::super::delta::fixtures::chain;
    use super::*;

    fn json(wire: &Wire) -> Value {
        serde_json::from_str(&wire.text()).unwrap()
    }

    #[test]
    fn frames_offer_updates_only_on_top_of_a_known_seq() {
        let name: Arc<str> = "NIFTY:2026-11-24".into();
        let first = chain(1, &[(25_000.0, 50.0, 40.0), (25_050.0, 25.0, 70.0)]);
        let second = chain(2, &[(25_000.0, 51.0, 40.0), (25_050.0, 25.0, 70.0)]);
        let third = chain(3, &[(25_000.0, 51.0, 40.0), (25_050.0, 26.0, 70.0)]);
        let mut history = History::default();
        history.record(7, first.clone());
        let frame7 = Frame::chain(name.clone(), 7, first, history.recent());
        assert!(
            frame7.update_after(6).is_none(),
            "a first frame has no update"
        );
        history.record(8, second.clone());
        let frame8 = Frame::chain(name.clone(), 8, second, history.recent());
        assert!(
            frame8.update_after(6).is_none(),
            "a client at 6 needs a snapshot"
        );
        let update = json(&frame8.update_after(7).unwrap());
        assert_eq!(update["type"], "update");
        assert_eq!(update["kind"], "delta");
        assert_eq!(
            (update["seq"].as_u64(), update["prev_seq"].as_u64()),
            (Some(8), Some(7))
        );
        assert_eq!(
            update["data"]["strikes"],
            serde_json::json!([{"strike": 25_000.0, "call": {"ltp": 51.0}}])
        );
        assert!(update["server_ts_ms"].as_i64().unwrap() > 0);

        history.record(9, third.clone());
        let frame9 = Frame::chain(name, 9, third, history.recent());
        // A client that missed 8 catches up from 7 with both changed strikes.
        let catch_up = json(&frame9.update_after(7).unwrap());
        assert_eq!(
            (catch_up["seq"].as_u64(), catch_up["prev_seq"].as_u64()),
            (Some(9), Some(7))
        );
        let strikes: Vec<f64> = catch_up["data"]["strikes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["strike"].as_f64())
            .collect();
        assert_eq!(strikes, [25_000.0, 25_050.0]);
        assert_eq!(
            json(&frame9.update_after(8).unwrap())["data"]["strikes"][0]["strike"],
            25_050.0
        );

        let snapshot = json(frame9.snapshot());
        assert_eq!(snapshot["type"], "snapshot");
        assert_eq!(snapshot["seq"], 9);
        assert!(snapshot.get("prev_seq").is_none());
        assert_eq!(
            snapshot["data"]["strikes"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(snapshot["data"]["expiry"]["date"], "2026-11-24");
    }
}
