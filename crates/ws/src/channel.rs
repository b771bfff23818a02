//! Channel names: what a client may subscribe to, parsed from text and checked against
//! the instrument registry, so that a typo is answered with the valid values rather than
//! with silence.
//!
//! The kinds, one name form each:
//! - `UNDERLYING:YYYY-MM-DD` (also `chain:…`): a live option chain, on `/ws/live`;
//! - `instrument:SECURITY_ID`: one option contract or an underlying index, on `/ws/live`;
//! - `strategy:ID`: the live M2M of one of the caller's saved strategies, on `/ws/live`
//!   (whose it is is checked against the database by the session, not here);
//! - `summary:`, `strikes:` and `oi-change:UNDERLYING:YYYY-MM-DD`: a chain's F&O views
//!   on `/ws/fo/stream`, each the answer of its REST route (see [`FoView`]).
//!
//! Names are canonical after resolution (`nifty:2026-11-25` becomes `NIFTY:2026-11-25`);
//! acks, snapshots and updates always carry the canonical name.

use std::sync::Arc;

use time::Date;
use time::macros::format_description;

pub(super) use crate::state::FoView;
use edge::error::ErrorCode;
use instruments::registry::InstrumentRegistry;
use instruments::{InstrumentKey, InstrumentKind, OptionRight};
use market::ChainId;

/// Which WebSocket route a connection came in on; each serves its own channel kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `/ws/live`: chains and instruments.
    Live,
    /// `/ws/fo/stream`: analytics views.
    FoStream,
}

impl Endpoint {
    pub(super) fn path(self) -> &'static str {
        match self {
            Endpoint::Live => "/ws/live",
            Endpoint::FoStream => "/ws/fo/stream",
        }
    }

    fn serves(self, kind: &ChannelKind) -> bool {
        match kind {
            ChannelKind::Chain(_) | ChannelKind::Instrument(_) | ChannelKind::Strategy(_) => {
                self == Endpoint::Live
            }
            ChannelKind::Fo(..) => self == Endpoint::FoStream,
        }
    }
}

/// A channel name as written, before the registry is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChannelName<'a> {
    Chain {
        underlying: &'a str,
        expiry: Date,
    },
    Fo {
        view: FoView,
        underlying: &'a str,
        expiry: Date,
    },
    Instrument(u32),
    Strategy(i64),
}

/// Why a channel was refused: a stable code and a message naming the valid values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChannelError {
    pub code: ErrorCode,
    pub message: String,
}

impl ChannelError {
    pub(super) fn unknown(message: String) -> Self {
        Self {
            code: ErrorCode::UnknownChannel,
            message,
        }
    }
}

const FORMS: &str = "UNDERLYING:YYYY-MM-DD, instrument:SECURITY_ID, strategy:ID, \
                     summary:UNDERLYING:YYYY-MM-DD, strikes:UNDERLYING:YYYY-MM-DD or \
                     oi-change:UNDERLYING:YYYY-MM-DD";

/// Parses the syntax of a channel name.
pub(super) fn parse(text: &str) -> Result<ChannelName<'_>, ChannelError> {
    let text = text.trim();
    let bad = || ChannelError::unknown(format!("channel {text:?} is not one of {FORMS}"));
    let date = |d: &str| {
        Date::parse(d.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| {
            ChannelError::unknown(format!(
                "channel {text:?}: {d:?} is not a date in YYYY-MM-DD form"
            ))
        })
    };
    let mut parts = text.split(':');
    let first = parts.next().unwrap_or_default().trim();
    let lower = first.to_ascii_lowercase();
    let rest: Vec<&str> = parts.map(str::trim).collect();
    match (lower.as_str(), rest.as_slice()) {
        ("instrument", &[id]) => id.parse::<u32>().map(ChannelName::Instrument).map_err(|_| {
            ChannelError::unknown(format!(
                "channel {text:?}: {id:?} is not a numeric security id"
            ))
        }),
        ("strategy", &[id]) => match id.parse::<i64>() {
            Ok(id) if id > 0 => Ok(ChannelName::Strategy(id)),
            _ => Err(ChannelError::unknown(format!(
                "channel {text:?}: {id:?} is not a strategy id"
            ))),
        },
        ("chain", &[underlying, expiry]) if !underlying.is_empty() => Ok(ChannelName::Chain {
            underlying,
            expiry: date(expiry)?,
        }),
        (prefix, &[underlying, expiry]) if !underlying.is_empty() => {
            match FoView::from_prefix(prefix) {
                Some(view) => Ok(ChannelName::Fo {
                    view,
                    underlying,
                    expiry: date(expiry)?,
                }),
                None => Err(bad()),
            }
        }
        ("instrument" | "chain" | "strategy", _) => Err(bad()),
        (prefix, _) if FoView::from_prefix(prefix).is_some() => Err(bad()),
        (_, &[expiry]) if !first.is_empty() => Ok(ChannelName::Chain {
            underlying: first,
            expiry: date(expiry)?,
        }),
        _ => Err(bad()),
    }
}

/// Where an instrument's book lives in the market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place {
    /// An option: its strike row and side in `chain`.
    Option {
        strike_index: usize,
        strike: f64,
        right: OptionRight,
    },
    /// The underlying index (its spot).
    Index,
}

/// One instrument channel: the key, the chain whose changes announce it, and its place.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentTarget {
    pub key: InstrumentKey,
    pub symbol: String,
    pub chain: ChainId,
    pub place: Place,
}

/// What a resolved channel streams.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    Chain(ChainId),
    /// One of a chain's F&O views.
    Fo(FoView, ChainId),
    Instrument(InstrumentTarget),
    /// A saved strategy's M2M, by strategy id.
    Strategy(i64),
}

/// A channel checked against the registry, under its canonical name.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: Arc<str>,
    pub kind: ChannelKind,
}

/// Parses `text` and checks it against the registry and the endpoint.
pub(super) fn resolve(
    registry: &InstrumentRegistry,
    endpoint: Endpoint,
    text: &str,
) -> Result<Channel, ChannelError> {
    let channel = match parse(text)? {
        ChannelName::Chain { underlying, expiry } => {
            let id = chain_id(registry, underlying, expiry, text)?;
            Channel {
                name: format!("{}:{}", id.underlying, id.expiry).into(),
                kind: ChannelKind::Chain(id),
            }
        }
        ChannelName::Fo {
            view,
            underlying,
            expiry,
        } => {
            let id = chain_id(registry, underlying, expiry, text)?;
            Channel {
                name: format!("{}:{}:{}", view.prefix(), id.underlying, id.expiry).into(),
                kind: ChannelKind::Fo(view, id),
            }
        }
        ChannelName::Instrument(security_id) => Channel {
            name: format!("instrument:{security_id}").into(),
            kind: ChannelKind::Instrument(instrument(registry, security_id)?),
        },
        ChannelName::Strategy(id) => Channel {
            name: format!("strategy:{id}").into(),
            kind: ChannelKind::Strategy(id),
        },
    };
    if endpoint.serves(&channel.kind) {
        Ok(channel)
    } else {
        let other = match endpoint {
            Endpoint::Live => Endpoint::FoStream,
            Endpoint::FoStream => Endpoint::Live,
        };
        Err(ChannelError {
            code: ErrorCode::WrongEndpoint,
            message: format!(
                "channel {} is served on {}, not on {}",
                channel.name,
                other.path(),
                endpoint.path()
            ),
        })
    }
}

fn chain_id(
    registry: &InstrumentRegistry,
    underlying: &str,
    expiry: Date,
    text: &str,
) -> Result<ChainId, ChannelError> {
    let Some(info) = registry.underlying(underlying) else {
        let valid: Vec<&str> = registry.underlyings().map(|u| u.name.as_str()).collect();
        return Err(ChannelError::unknown(format!(
            "channel {text:?}: unknown underlying {underlying:?}; valid underlyings: {}",
            valid.join(", ")
        )));
    };
    if !info.expiries.iter().any(|e| e.expiry == expiry) {
        let valid: Vec<String> = info.expiries.iter().map(|e| e.expiry.to_string()).collect();
        return Err(ChannelError::unknown(format!(
            "channel {text:?}: {} has no expiry {expiry}; valid expiries: {}",
            info.name,
            valid.join(", ")
        )));
    }
    Ok(ChainId {
        underlying: info.name.clone(),
        expiry,
    })
}

fn instrument(
    registry: &InstrumentRegistry,
    security_id: u32,
) -> Result<InstrumentTarget, ChannelError> {
    let not_streamed = |why: &str| {
        ChannelError::unknown(format!(
            "channel instrument:{security_id}: {why}; instrument channels stream the options \
             of the tracked chains and the underlying indices"
        ))
    };
    let Some(found) = registry
        .instruments()
        .filter(|i| i.key.security_id == security_id)
        .find(|i| !matches!(i.kind, InstrumentKind::Future { .. }))
    else {
        return Err(not_streamed("no such instrument"));
    };
    let first_chain = |name: &str| {
        let info = registry.underlying(name)?;
        let expiry = info.expiries.first()?;
        Some(ChainId {
            underlying: info.name.clone(),
            expiry: expiry.expiry,
        })
    };
    let (chain, place) = match found.kind {
        InstrumentKind::Index => (
            first_chain(&found.underlying).ok_or_else(|| not_streamed("index without options"))?,
            Place::Index,
        ),
        InstrumentKind::Option { .. } => {
            let location = registry
                .locate(&found.key)
                .ok_or_else(|| not_streamed("option outside the tracked chains"))?;
            let info = registry
                .underlyings()
                .nth(location.underlying)
                .ok_or_else(|| not_streamed("option outside the tracked chains"))?;
            let expiry = info
                .expiries
                .get(location.expiry)
                .ok_or_else(|| not_streamed("option outside the tracked chains"))?;
            let strike = expiry
                .strikes
                .get(location.strike)
                .map_or(0.0, |row| row.strike);
            (
                ChainId {
                    underlying: info.name.clone(),
                    expiry: expiry.expiry,
                },
                Place::Option {
                    strike_index: location.strike,
                    strike,
                    right: location.right,
                },
            )
        }
        InstrumentKind::Future { .. } => return Err(not_streamed("futures are not streamed")),
    };
    Ok(InstrumentTarget {
        key: found.key,
        symbol: found.symbol.clone(),
        chain,
        place,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse("NIFTY:2026-11-25"),
            Ok(ChannelName::Chain {
                underlying: "NIFTY",
                expiry: date!(2026 - 11 - 25)
            })
        );
        assert_eq!(
            parse(" chain:banknifty:2026-12-01 "),
            Ok(ChannelName::Chain {
                underlying: "banknifty",
                expiry: date!(2026 - 12 - 01)
            })
        );
        for view in FoView::ALL {
            assert_eq!(
                parse(&format!("{}:NIFTY:2026-11-25", view.prefix())),
                Ok(ChannelName::Fo {
                    view,
                    underlying: "NIFTY",
                    expiry: date!(2026 - 11 - 25)
                })
            );
        }
        assert_eq!(
            parse("OI-CHANGE:nifty:2026-11-25"),
            Ok(ChannelName::Fo {
                view: FoView::OiChange,
                underlying: "nifty",
                expiry: date!(2026 - 11 - 25)
            })
        );
        assert_eq!(
            parse("Instrument:52175"),
            Ok(ChannelName::Instrument(52175))
        );
        assert_eq!(parse("strategy:42"), Ok(ChannelName::Strategy(42)));
    }

    #[test]
    fn refuses_malformed_names_with_the_accepted_forms() {
        for bad in [
            "",
            "NIFTY",
            ":2026-11-25",
            "summary:NIFTY",
            "strikes:NIFTY",
            "oi-change:NIFTY:2026-11-25:x",
            "a:b:c:d",
            "bogus:NIFTY:2026-11-25",
        ] {
            let error = parse(bad).expect_err(bad);
            assert_eq!(error.code, ErrorCode::UnknownChannel);
            assert!(error.message.contains("instrument:SECURITY_ID"), "{bad}");
        }
        let error = parse("NIFTY:25-11-2026").expect_err("bad date");
        assert!(error.message.contains("YYYY-MM-DD"));
        let error = parse("instrument:abc").expect_err("bad id");
        assert!(error.message.contains("numeric security id"));
        assert!(parse("instrument:-1").is_err());
        for bad in ["strategy:0", "strategy:-3", "strategy:x", "strategy:1:2"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_serve_their_own_kinds() {
        let id = ChainId {
            underlying: "NIFTY".into(),
            expiry: date!(2026 - 11 - 25),
        };
        assert!(Endpoint::Live.serves(&ChannelKind::Chain(id.clone())));
        assert!(!Endpoint::FoStream.serves(&ChannelKind::Chain(id.clone())));
        for view in FoView::ALL {
            assert!(Endpoint::FoStream.serves(&ChannelKind::Fo(view, id.clone())));
            assert!(!Endpoint::Live.serves(&ChannelKind::Fo(view, id.clone())));
        }
    }
}
