//! The JSON text frames a client sends on Dhan's v2 feed socket (reference `dhanhq.md`
//! §1.3, §1.5): subscribe and unsubscribe by mode, and disconnect. The live client
//! writes them with [`FeedRequest::to_json`]; the simulator reads them back with
//! [`FeedRequest::parse`], so both agree on one shape. Dhan caps a message at 100
//! instruments, hence [`subscribe_batches`] and [`unsubscribe_batches`].

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::Value;

use instruments::{ExchangeSegment, InstrumentKey};

/// Most instruments one subscribe or unsubscribe message may carry.
pub const MAX_INSTRUMENTS_PER_MESSAGE: usize = 100;

/// Request code of the client's goodbye.
pub const DISCONNECT_CODE: u16 = 12;

/// How much a subscription receives: Ticker (LTP), Quote (plus OI), or Full (plus depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedMode {
    Ticker,
    Quote,
    Full,
}

impl FeedMode {
    pub const ALL: [Self; 3] = [Self::Ticker, Self::Quote, Self::Full];

    pub const fn subscribe_code(self) -> u16 {
        match self {
            Self::Ticker => 15,
            Self::Quote => 17,
            Self::Full => 21,
        }
    }

    /// Always the subscribe code plus one.
    pub const fn unsubscribe_code(self) -> u16 {
        self.subscribe_code() + 1
    }
}

/// One client → server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRequest {
    Subscribe {
        mode: FeedMode,
        instruments: Vec<InstrumentKey>,
    },
    Unsubscribe {
        mode: FeedMode,
        instruments: Vec<InstrumentKey>,
    },
    Disconnect,
}

/// Why a text frame is not a feed request we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("feed request is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error(
        "unknown feed request code {0} (accepted: 12 disconnect, 15/16 ticker, 17/18 quote, 21/22 full)"
    )]
    UnknownCode(i64),
    #[error("feed request code {code} needs the field {field}")]
    MissingField { code: u16, field: &'static str },
    #[error("InstrumentCount says {declared} but InstrumentList has {listed} entries")]
    CountMismatch { declared: u64, listed: usize },
    #[error(
        "{count} instruments in one request; Dhan accepts at most {MAX_INSTRUMENTS_PER_MESSAGE}"
    )]
    TooManyInstruments { count: usize },
    #[error("unknown exchange segment {0:?}")]
    UnknownSegment(String),
    #[error("SecurityId {0} is not an unsigned 32-bit number")]
    InvalidSecurityId(String),
}

/// What the simulator reads before validating; field names as Dhan spells them.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRequest {
    request_code: i64,
    instrument_count: Option<u64>,
    instrument_list: Option<Vec<WireInstrument>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireInstrument {
    exchange_segment: String,
    /// Dhan documents a string; numbers are accepted because clients send them.
    security_id: Value,
}

impl FeedRequest {
    /// Dhan's request code for this message.
    pub fn code(&self) -> u16 {
        match self {
            Self::Subscribe { mode, .. } => mode.subscribe_code(),
            Self::Unsubscribe { mode, .. } => mode.unsubscribe_code(),
            Self::Disconnect => DISCONNECT_CODE,
        }
    }

    /// The instruments named, empty for a disconnect.
    pub fn instruments(&self) -> &[InstrumentKey] {
        match self {
            Self::Subscribe { instruments, .. } | Self::Unsubscribe { instruments, .. } => {
                instruments
            }
            Self::Disconnect => &[],
        }
    }

    /// The text frame Dhan expects, e.g. `{"RequestCode":15,"InstrumentCount":1,
    /// "InstrumentList":[{"ExchangeSegment":"NSE_FNO","SecurityId":"35001"}]}`, with the
    /// security id as a string. Batching to 100 is the caller's job ([`subscribe_batches`]).
    pub fn to_json(&self) -> String {
        let code = self.code();
        if let Self::Disconnect = self {
            return format!("{{\"RequestCode\":{code}}}");
        }
        let instruments = self.instruments();
        // Segment names and decimal ids never need escaping, so the text is written
        // directly; writing to a String cannot fail.
        let mut json = String::with_capacity(64 + 56 * instruments.len());
        let _ = write!(
            json,
            "{{\"RequestCode\":{code},\"InstrumentCount\":{},\"InstrumentList\":[",
            instruments.len()
        );
        for (i, key) in instruments.iter().enumerate() {
            let separator = if i == 0 { "" } else { "," };
            let _ = write!(
                json,
                "{separator}{{\"ExchangeSegment\":\"{}\",\"SecurityId\":\"{}\"}}",
                key.segment.as_str(),
                key.security_id
            );
        }
        json.push_str("]}");
        json
    }

    /// Reads a client's text frame, rejecting anything Dhan would not accept: unknown
    /// codes, a count that disagrees with the list, more than 100 instruments, unknown
    /// segments and ids that are not u32 numbers.
    pub fn parse(text: &str) -> Result<Self, RequestError> {
        let wire: WireRequest =
            serde_json::from_str(text).map_err(|e| RequestError::Malformed(e.to_string()))?;
        let code = u16::try_from(wire.request_code)
            .map_err(|_| RequestError::UnknownCode(wire.request_code))?;
        if code == DISCONNECT_CODE {
            return Ok(Self::Disconnect);
        }
        let (mode, subscribe) = FeedMode::ALL
            .into_iter()
            .find_map(|mode| {
                if mode.subscribe_code() == code {
                    Some((mode, true))
                } else if mode.unsubscribe_code() == code {
                    Some((mode, false))
                } else {
                    None
                }
            })
            .ok_or(RequestError::UnknownCode(wire.request_code))?;
        let declared = wire.instrument_count.ok_or(RequestError::MissingField {
            code,
            field: "InstrumentCount",
        })?;
        let list = wire.instrument_list.ok_or(RequestError::MissingField {
            code,
            field: "InstrumentList",
        })?;
        if u64::try_from(list.len()) != Ok(declared) {
            return Err(RequestError::CountMismatch {
                declared,
                listed: list.len(),
            });
        }
        if list.len() > MAX_INSTRUMENTS_PER_MESSAGE {
            return Err(RequestError::TooManyInstruments { count: list.len() });
        }
        let instruments = list
            .into_iter()
            .map(WireInstrument::into_key)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if subscribe {
            Self::Subscribe { mode, instruments }
        } else {
            Self::Unsubscribe { mode, instruments }
        })
    }
}

impl WireInstrument {
    fn into_key(self) -> Result<InstrumentKey, RequestError> {
        let segment: ExchangeSegment = self
            .exchange_segment
            .parse()
            .map_err(|_| RequestError::UnknownSegment(self.exchange_segment))?;
        let security_id = match &self.security_id {
            Value::String(text) => text.parse::<u32>().ok(),
            Value::Number(number) => number.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        }
        .ok_or_else(|| RequestError::InvalidSecurityId(self.security_id.to_string()))?;
        Ok(InstrumentKey::new(segment, security_id))
    }
}

/// Subscribe messages for `instruments`, at most 100 per message, in order.
pub fn subscribe_batches(mode: FeedMode, instruments: &[InstrumentKey]) -> Vec<FeedRequest> {
    instruments
        .chunks(MAX_INSTRUMENTS_PER_MESSAGE)
        .map(|chunk| FeedRequest::Subscribe {
            mode,
            instruments: chunk.to_vec(),
        })
        .collect()
}

/// Unsubscribe messages for `instruments`, at most 100 per message, in order.
pub fn unsubscribe_batches(mode: FeedMode, instruments: &[InstrumentKey]) -> Vec<FeedRequest> {
    instruments
        .chunks(MAX_INSTRUMENTS_PER_MESSAGE)
        .map(|chunk| FeedRequest::Unsubscribe {
            mode,
            instruments: chunk.to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
