//! Dhan's exchange segments, in both spellings: the numbers of the binary feed and the
//! strings of the JSON requests and REST API (reference `dhanhq.md` §2.4). There is no
//! segment 6; several third-party tables get these numbers wrong, so they live here once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of Dhan's exchange segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExchangeSegment {
    /// `IDX_I` (0): index values.
    IdxI,
    /// `NSE_EQ` (1): NSE cash.
    NseEq,
    /// `NSE_FNO` (2): NSE futures and options.
    NseFno,
    /// `NSE_CURRENCY` (3).
    NseCurrency,
    /// `BSE_EQ` (4): BSE cash.
    BseEq,
    /// `MCX_COMM` (5).
    McxComm,
    /// `BSE_CURRENCY` (7).
    BseCurrency,
    /// `BSE_FNO` (8): BSE futures and options (SENSEX options).
    BseFno,
}

impl ExchangeSegment {
    /// Every segment, in numeric order.
    pub const ALL: [Self; 8] = [
        Self::IdxI,
        Self::NseEq,
        Self::NseFno,
        Self::NseCurrency,
        Self::BseEq,
        Self::McxComm,
        Self::BseCurrency,
        Self::BseFno,
    ];

    /// The number the binary feed carries in its header.
    pub const fn code(self) -> u8 {
        match self {
            Self::IdxI => 0,
            Self::NseEq => 1,
            Self::NseFno => 2,
            Self::NseCurrency => 3,
            Self::BseEq => 4,
            Self::McxComm => 5,
            Self::BseCurrency => 7,
            Self::BseFno => 8,
        }
    }

    /// The segment a feed header names, if it names one.
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::IdxI,
            1 => Self::NseEq,
            2 => Self::NseFno,
            3 => Self::NseCurrency,
            4 => Self::BseEq,
            5 => Self::McxComm,
            7 => Self::BseCurrency,
            8 => Self::BseFno,
            _ => return None,
        })
    }

    /// The string the JSON requests and the REST API use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IdxI => "IDX_I",
            Self::NseEq => "NSE_EQ",
            Self::NseFno => "NSE_FNO",
            Self::NseCurrency => "NSE_CURRENCY",
            Self::BseEq => "BSE_EQ",
            Self::McxComm => "MCX_COMM",
            Self::BseCurrency => "BSE_CURRENCY",
            Self::BseFno => "BSE_FNO",
        }
    }
}

impl fmt::Display for ExchangeSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A segment string Dhan does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown exchange segment {0:?}")]
pub struct UnknownSegment(pub String);

impl FromStr for ExchangeSegment {
    type Err = UnknownSegment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|segment| segment.as_str() == s)
            .ok_or_else(|| UnknownSegment(s.to_owned()))
    }
}

impl Serialize for ExchangeSegment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExchangeSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::ExchangeSegment;

    #[test]
    fn codes_and_names_round_trip() {
        for segment in ExchangeSegment::ALL {
            assert_eq!(ExchangeSegment::from_code(segment.code()), Some(segment));
            assert_eq!(segment.as_str().parse::<ExchangeSegment>(), Ok(segment));
        }
        assert_eq!(ExchangeSegment::from_code(6), None);
        assert_eq!(ExchangeSegment::NseFno.code(), 2);
        assert_eq!(ExchangeSegment::BseFno.code(), 8);
        assert!("NSE_COMM".parse::<ExchangeSegment>().is_err());
    }
}
