//! Recording and replaying the feed: every raw frame (and every REST option chain) with
//! the time it arrived, so that a replay drives the market through exactly the inputs a
//! live run saw and ends in the same chain states.
//!
//! File format (little-endian): the 8-byte magic `OHFEED01`, then records of
//! `kind: u8` (1 frame, 2 option chain, 3 instruments), `received_at_ns: i64`,
//! `len: u32` and `len` payload bytes. The first record is always the instruments the
//! live run tracked (JSON), so a replay rebuilds the same registry without the scrip
//! master of that day. A frame's payload is the WebSocket message as received; an
//! option chain's is JSON ([`ChainRecord`]). A recording cut short by a crash ends in a partial
//! record, which replay reports and stops at.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::Date;
use tokio::sync::mpsc;

use super::event::{FeedEvent, FeedPayload};
use crate::rest::types::OptionChainData;
use instruments::{Instrument, InstrumentKey};

const MAGIC: &[u8; 8] = b"OHFEED01";
const KIND_FRAME: u8 = 1;
const KIND_OPTION_CHAIN: u8 = 2;
const KIND_INSTRUMENTS: u8 = 3;
/// Largest record accepted on replay: a WebSocket frame or one chain's JSON is far
/// smaller; anything bigger is corruption, not data.
const MAX_RECORD_BYTES: u32 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("recording I/O: {0}")]
    Io(#[from] io::Error),
    #[error("not an optionhub feed recording (bad magic)")]
    BadMagic,
    #[error("corrupt recording at record {record}: {reason}")]
    Corrupt { record: u64, reason: String },
}

/// The JSON payload of an option-chain record.
#[derive(Debug, Serialize, Deserialize)]
struct ChainRecord {
    underlying: InstrumentKey,
    expiry: Date,
    data: OptionChainData,
}

/// Appends events to a recording file.
#[derive(Debug)]
pub struct Recorder {
    out: BufWriter<File>,
    records: u64,
}

impl Recorder {
    /// Creates (or truncates) `path` and writes the header and the instruments.
    pub fn create(path: &Path, instruments: &[Instrument]) -> Result<Self, RecordError> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        out.write_all(MAGIC)?;
        let mut recorder = Self { out, records: 0 };
        let json = serde_json::to_vec(instruments).map_err(io::Error::other)?;
        recorder.write_record(KIND_INSTRUMENTS, 0, &json)?;
        Ok(recorder)
    }

    fn write_record(
        &mut self,
        kind: u8,
        received_at_ns: i64,
        payload: &[u8],
    ) -> Result<(), RecordError> {
        let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
        self.out.write_all(&[kind])?;
        self.out.write_all(&received_at_ns.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(payload)?;
        self.records += 1;
        Ok(())
    }

    pub fn write(&mut self, event: &FeedEvent) -> Result<(), RecordError> {
        let (kind, payload): (u8, std::borrow::Cow<'_, [u8]>) = match &event.payload {
            FeedPayload::Frame(frame) => (KIND_FRAME, frame.as_ref().into()),
            FeedPayload::OptionChain {
                underlying,
                expiry,
                data,
            } => {
                let record = ChainRecord {
                    underlying: *underlying,
                    expiry: *expiry,
                    data: (**data).clone(),
                };
                let json = serde_json::to_vec(&record).map_err(io::Error::other)?;
                (KIND_OPTION_CHAIN, json.into())
            }
        };
        self.write_record(kind, event.received_at_ns, &payload)?;
        // Flush now and then so a crash loses little; the buffer absorbs the rest.
        if self.records.is_multiple_of(1024) {
            self.out.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush()?;
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Err(error) = self.out.flush() {
            tracing::error!(%error, "could not flush the feed recording");
        }
    }
}

/// Reads a recording, one event at a time.
#[derive(Debug)]
pub struct RecordingReader {
    input: BufReader<File>,
    records: u64,
    instruments: Vec<Instrument>,
}

impl RecordingReader {
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let mut input = BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut magic = [0u8; 8];
        input
            .read_exact(&mut magic)
            .map_err(|_| RecordError::BadMagic)?;
        if &magic != MAGIC {
            return Err(RecordError::BadMagic);
        }
        let mut reader = Self {
            input,
            records: 0,
            instruments: Vec::new(),
        };
        match reader.next_record()? {
            Some((KIND_INSTRUMENTS, _, payload)) => {
                reader.instruments = serde_json::from_slice(&payload)
                    .map_err(|e| reader.corrupt(&format!("instruments record: {e}")))?;
            }
            _ => return Err(reader.corrupt("the recording does not start with its instruments")),
        }
        Ok(reader)
    }

    /// The instruments the recorded run tracked.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The next event, `None` at a clean end.
    pub fn next_event(&mut self) -> Result<Option<FeedEvent>, RecordError> {
        let Some((kind, received_at_ns, payload)) = self.next_record()? else {
            return Ok(None);
        };
        let payload = match kind {
            KIND_FRAME => FeedPayload::Frame(Bytes::from(payload)),
            KIND_OPTION_CHAIN => {
                let record: ChainRecord = serde_json::from_slice(&payload)
                    .map_err(|e| self.corrupt(&format!("option chain record: {e}")))?;
                FeedPayload::OptionChain {
                    underlying: record.underlying,
                    expiry: record.expiry,
                    data: Box::new(record.data),
                }
            }
            other => return Err(self.corrupt(&format!("unknown record kind {other}"))),
        };
        Ok(Some(FeedEvent {
            received_at_ns,
            payload,
        }))
    }

    /// The next raw record: kind, arrival time, payload.
    fn next_record(&mut self) -> Result<Option<(u8, i64, Vec<u8>)>, RecordError> {
        let mut head = [0u8; 13];
        match read_full(&mut self.input, &mut head)? {
            0 => return Ok(None),
            13 => {}
            _ => return Err(self.corrupt("recording ends inside a record header")),
        }
        let [kind, rest @ ..] = head;
        let (time, len) = rest.split_at(8);
        let received_at_ns =
            i64::from_le_bytes(time.try_into().map_err(|_| self.corrupt("header"))?);
        let len = u32::from_le_bytes(len.try_into().map_err(|_| self.corrupt("header"))?);
        if len > MAX_RECORD_BYTES {
            return Err(self.corrupt(&format!("record of {len} bytes")));
        }
        let mut payload = vec![0u8; len as usize];
        if read_full(&mut self.input, &mut payload)? != payload.len() {
            return Err(self.corrupt("recording ends inside a record"));
        }
        self.records += 1;
        Ok(Some((kind, received_at_ns, payload)))
    }

    fn corrupt(&self, reason: &str) -> RecordError {
        RecordError::Corrupt {
            record: self.records + 1,
            reason: reason.to_owned(),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// How fast a replay runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplaySpeed {
    /// As fast as the market can take it.
    Max,
    /// Recorded gaps divided by this factor (1.0 = real time).
    Factor(f64),
}

impl std::str::FromStr for ReplaySpeed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        match s.parse::<f64>() {
            Ok(factor) if factor > 0.0 && factor.is_finite() => Ok(Self::Factor(factor)),
            _ => Err(format!(
                "replay speed must be a positive number or \"max\", not {s:?}"
            )),
        }
    }
}

/// Plays a recording into `events`, keeping the recorded spacing scaled by `speed`.
/// Events keep their recorded arrival times. Returns how many events were played.
pub async fn replay(
    mut reader: RecordingReader,
    speed: ReplaySpeed,
    events: mpsc::Sender<FeedEvent>,
) -> Result<u64, RecordError> {
    let mut played = 0u64;
    let mut previous_ns: Option<i64> = None;
    while let Some(event) = reader.next_event()? {
        if let (ReplaySpeed::Factor(factor), Some(previous)) = (speed, previous_ns) {
            let gap_ns = event.received_at_ns.saturating_sub(previous).max(0);
            #[expect(clippy::cast_precision_loss, reason = "gaps are far below 2^52 ns")]
            let gap = Duration::from_secs_f64(gap_ns as f64 / 1e9 / factor);
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
        previous_ns = Some(event.received_at_ns);
        if events.send(event).await.is_err() {
            break;
        }
        played += 1;
    }
    Ok(played)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::types::StrikeSides;
    use instruments::ExchangeSegment;

    #[test]
    fn events_round_trip_through_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.rec");
        let mut oc = std::collections::BTreeMap::new();
        oc.insert("26000.000000".to_owned(), StrikeSides::default());
        let events = vec![
            FeedEvent {
                received_at_ns: 1_000,
                payload: FeedPayload::Frame(Bytes::from_static(&[2, 16, 0, 2, 1, 0, 0, 0])),
            },
            FeedEvent {
                received_at_ns: 2_000,
                payload: FeedPayload::OptionChain {
                    underlying: InstrumentKey::new(ExchangeSegment::IdxI, 13),
                    expiry: time::macros::date!(2026 - 11 - 24),
                    data: Box::new(OptionChainData {
                        last_price: 26_012.35,
                        oc,
                    }),
                },
            },
        ];
        {
            let mut recorder = Recorder::create(&path, &[]).unwrap();
            for event in &events {
                recorder.write(event).unwrap();
            }
        }
        let mut reader = RecordingReader::open(&path).unwrap();
        let mut read = Vec::new();
        while let Some(event) = reader.next_event().unwrap() {
            read.push(event);
        }
        assert_eq!(read, events);
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign");
        std::fs::write(&foreign, b"not a recording").unwrap();
        assert!(matches!(
            RecordingReader::open(&foreign),
            Err(RecordError::BadMagic)
        ));

        let cut = dir.path().join("cut");
        let mut bytes = MAGIC.to_vec();
        bytes.push(KIND_INSTRUMENTS);
        bytes.extend_from_slice(&0i64.to_le_bytes());
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(b"[]");
        bytes.push(KIND_FRAME);
        bytes.extend_from_slice(&5i64.to_le_bytes());
        bytes.extend_from_slice(&100u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 10]);
        std::fs::write(&cut, bytes).unwrap();
        let mut reader = RecordingReader::open(&cut).unwrap();
        assert!(matches!(
            reader.next_event(),
            Err(RecordError::Corrupt { record: 2, .. })
        ));
    }

    #[test]
    fn replay_speed_parses() {
        assert_eq!("max".parse::<ReplaySpeed>(), Ok(ReplaySpeed::Max));
        assert_eq!("10".parse::<ReplaySpeed>(), Ok(ReplaySpeed::Factor(10.0)));
        assert!("0".parse::<ReplaySpeed>().is_err());
        assert!("fast".parse::<ReplaySpeed>().is_err());
    }
}
