//! The end of a channel whose contracts expire: at 15:30 IST on the expiry day the
//! chain set rolls to the next expiries, and every subscriber of the expired chain gets
//! one last message, `{"type":"expired","channel":..,"seq":..,"data":{..}}`, naming the
//! next expiry (and, for chain channels, the channel to move to). The publisher then
//! stops; a client subscribing afterwards gets the same message as its snapshot.

use std::time::Duration;

use serde::Serialize;
use time::Date;

use super::channel::{ChannelKind, Place};
use calendar::{self, MarketCalendar};
use instruments::registry::InstrumentRegistry;
use market::ChainId;

/// How often an expiring channel looks at the clock. The clock is injectable (tests
/// move it), so the wait is a poll rather than one long sleep until 15:30.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The `data` of an `expired` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiredNotice {
    pub underlying: String,
    pub expiry: Date,
    /// 15:30 IST on the expiry date (RFC 3339).
    pub expired_at: String,
    /// The nearest live expiry now, if the underlying has one.
    pub next_expiry: Option<Date>,
    /// For a chain channel: the channel of the next expiry, to subscribe instead.
    pub next_channel: Option<String>,
}

/// The chain whose expiry ends this channel; `None` for channels that never expire
/// (an index instrument, a strategy).
pub(super) fn expiring_chain(kind: &ChannelKind) -> Option<&ChainId> {
    match kind {
        ChannelKind::Chain(id) | ChannelKind::Fo(_, id) => Some(id),
        ChannelKind::Instrument(target) if target.place != Place::Index => Some(&target.chain),
        ChannelKind::Instrument(_) | ChannelKind::Strategy(_) => None,
    }
}

/// Resolves once `expiry` has passed by `calendar`'s clock.
pub(super) async fn expired(calendar: &MarketCalendar, expiry: Date) {
    let at = calendar::expiry_instant(expiry);
    loop {
        let left = at - calendar.now();
        if left <= time::Duration::ZERO {
            return;
        }
        let wait = Duration::try_from(left).unwrap_or(CHECK_EVERY);
        tokio::time::sleep(wait.min(CHECK_EVERY)).await;
    }
}

/// The notice for `kind`'s chain `id`, as of `live_from`.
pub(super) fn notice(
    registry: &InstrumentRegistry,
    kind: &ChannelKind,
    id: &ChainId,
    live_from: Date,
) -> ExpiredNotice {
    let next_expiry = registry
        .live_expiries(&id.underlying, live_from)
        .first()
        .map(|e| e.expiry);
    let format = time::format_description::well_known::Rfc3339;
    ExpiredNotice {
        underlying: id.underlying.clone(),
        expiry: id.expiry,
        expired_at: calendar::expiry_instant(id.expiry)
            .format(&format)
            .unwrap_or_default(),
        next_expiry,
        next_channel: match kind {
            ChannelKind::Chain(_) => next_expiry.map(|e| format!("{}:{e}", id.underlying)),
            ChannelKind::Fo(view, _) => {
                next_expiry.map(|e| format!("{}:{}:{e}", view.prefix(), id.underlying))
            }
            ChannelKind::Instrument(_) | ChannelKind::Strategy(_) => None,
        },
    }
}
