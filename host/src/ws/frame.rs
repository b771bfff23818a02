//! One publication of a channel, serialised once and shared by every subscriber.
//!
//! A [`Frame`] carries two encodings of the same state: the *update* (for a client that
//! holds the previous frame: only the strikes that changed, or the whole small payload)
//! and the *snapshot* (for everyone else). The update is built by the publisher; the
//! snapshot is built lazily, the first time some subscriber needs it (a new subscriber,
//! or one whose updates were conflated), and then reused. Both are `Utf8Bytes`, so
//! handing one to ten thousand sockets costs a reference count each.
//!
//! Every data message says what it is:
//! `{"type":"snapshot","channel":..,"seq":..,"server_ts_ms":..,"data":..}` or
//! `{"type":"update","kind":"delta"|"full","channel":..,"seq":..,"prev_seq":..,
//! "server_ts_ms":..,"data":..}`. An update applies only on top of `prev_seq`.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use time::Date;

use super::analytics::{ChainSummary, InstrumentData};
use super::protocol::now_ms;
use crate::api::market::{LiveChain, LiveStrike};
use crate::plugins::live_greeks::ChainGreeks;

/// The state a frame was built from, kept to serialise the snapshot on demand.
#[derive(Debug)]
pub enum Payload {
    Chain(Arc<LiveChain>),
    Summary(Arc<ChainSummary>),
    Instrument(Arc<InstrumentData>),
}

/// One publication of one channel.
#[derive(Debug)]
pub struct Frame {
    pub channel: Arc<str>,
    /// Increases by one per publication of the channel.
    pub seq: u64,
    /// The update and the seq it applies on top of; `None` when there is nothing to
    /// apply it to (the first frame of a publisher, or a chain whose strikes changed).
    update: Option<(u64, Utf8Bytes)>,
    snapshot: OnceLock<Utf8Bytes>,
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

fn encode<T: Serialize>(head: Head<'_>, data: &T) -> Utf8Bytes {
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
    serde_json::to_string(&message)
        .unwrap_or_else(|_| "{}".into())
        .into()
}

impl Frame {
    /// A frame of a chain channel: its update is the delta against `previous` (the
    /// publisher's last frame, at its seq), when the strike lists line up.
    pub fn chain(
        channel: Arc<str>,
        seq: u64,
        chain: Arc<LiveChain>,
        previous: Option<(u64, &LiveChain)>,
    ) -> Self {
        let update = previous.and_then(|(prev_seq, prev)| {
            let delta = chain_delta(prev, &chain)?;
            let head = Head {
                kind_of_message: "update",
                kind: Some("delta"),
                channel: &channel,
                seq,
                prev_seq: Some(prev_seq),
            };
            Some((prev_seq, encode(head, &delta)))
        });
        Self::new(channel, seq, update, Payload::Chain(chain))
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
        update: Option<(u64, Utf8Bytes)>,
        payload: Payload,
    ) -> Self {
        Self {
            channel,
            seq,
            update,
            snapshot: OnceLock::new(),
            payload,
        }
    }

    /// The update, if the client's last message of this channel was at `last_seq`.
    pub fn update_after(&self, last_seq: u64) -> Option<&Utf8Bytes> {
        self.update
            .as_ref()
            .filter(|(base, _)| *base == last_seq)
            .map(|(_, message)| message)
    }

    /// The full state, serialised on first use.
    pub fn snapshot(&self) -> &Utf8Bytes {
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
    fn encode(&self, head: Head<'_>) -> Utf8Bytes {
        match self {
            Payload::Chain(chain) => encode(head, chain.as_ref()),
            Payload::Summary(summary) => encode(head, summary.as_ref()),
            Payload::Instrument(instrument) => encode(head, instrument.as_ref()),
        }
    }
}

/// What changed in a chain since the previous frame: every chain-level field, and only
/// the strikes whose call or put changed.
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

/// The delta from `prev` to `next`; `None` when their strike lists differ (then only a
/// snapshot describes `next`).
pub fn chain_delta<'a>(prev: &LiveChain, next: &'a LiveChain) -> Option<ChainDelta<'a>> {
    let same_strikes = prev.strikes.len() == next.strikes.len()
        && prev
            .strikes
            .iter()
            .zip(&next.strikes)
            .all(|(a, b)| a.strike.to_bits() == b.strike.to_bits());
    if !same_strikes {
        return None;
    }
    Some(ChainDelta {
        underlying: &next.underlying,
        expiry: next.expiry.date,
        spot: next.spot,
        forward: next.forward,
        atm_strike: next.atm_strike,
        seq: next.seq,
        as_of: next.as_of.as_deref(),
        greeks: next.greeks.as_ref(),
        strikes: prev
            .strikes
            .iter()
            .zip(&next.strikes)
            .filter(|(a, b)| a != b)
            .map(|(_, b)| b)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use time::macros::date;

    use super::*;
    use crate::api::market::{ExpiryLabel, LiveContract};
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

    fn chain(seq: u64, prices: &[(f64, f64, f64)]) -> LiveChain {
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

    fn json(text: &Utf8Bytes) -> Value {
        serde_json::from_str(text.as_str()).unwrap()
    }

    #[test]
    fn delta_carries_only_the_changed_strikes() {
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
        let delta = chain_delta(&before, &after).unwrap();
        let strikes: Vec<f64> = delta.strikes.iter().map(|s| s.strike).collect();
        assert_eq!(strikes, [25_000.0, 25_050.0]);
        assert_eq!(delta.seq, 11);
        assert!(chain_delta(&after, &after).unwrap().strikes.is_empty());
    }

    #[test]
    fn a_changed_strike_list_has_no_delta() {
        let before = chain(1, &[(24_950.0, 80.0, 20.0), (25_000.0, 50.0, 40.0)]);
        let moved = chain(2, &[(25_000.0, 50.0, 40.0), (25_050.0, 25.0, 70.0)]);
        let shorter = chain(2, &[(24_950.0, 80.0, 20.0)]);
        assert!(chain_delta(&before, &moved).is_none());
        assert!(chain_delta(&before, &shorter).is_none());
    }

    #[test]
    fn frames_offer_the_update_only_on_top_of_its_base() {
        let first = Arc::new(chain(1, &[(25_000.0, 50.0, 40.0), (25_050.0, 25.0, 70.0)]));
        let second = Arc::new(chain(2, &[(25_000.0, 51.0, 40.0), (25_050.0, 25.0, 70.0)]));
        let name: Arc<str> = "NIFTY:2026-11-24".into();
        let frame1 = Frame::chain(name.clone(), 7, first.clone(), None);
        assert!(
            frame1.update_after(6).is_none(),
            "a first frame has no update"
        );
        let frame2 = Frame::chain(name, 8, second, Some((7, &first)));
        assert!(frame2.update_after(6).is_none(), "a client at 6 missed 7");
        let update = json(frame2.update_after(7).unwrap());
        assert_eq!(update["type"], "update");
        assert_eq!(update["kind"], "delta");
        assert_eq!(
            (update["seq"].as_u64(), update["prev_seq"].as_u64()),
            (Some(8), Some(7))
        );
        assert_eq!(update["data"]["strikes"].as_array().map(Vec::len), Some(1));
        assert!(update["server_ts_ms"].as_i64().unwrap() > 0);
        let snapshot = json(frame2.snapshot());
        assert_eq!(snapshot["type"], "snapshot");
        assert_eq!(snapshot["seq"], 8);
        assert!(snapshot.get("prev_seq").is_none());
        assert_eq!(
            snapshot["data"]["strikes"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(snapshot["data"]["expiry"]["date"], "2026-11-24");
    }
}
