//! The exchange calendar in India Standard Time: what day it is, whether the F&O
//! session is open, and which expiries are still live. Every "today" in the server
//! comes from here, in Asia/Kolkata (UTC+05:30, no daylight saving, so a fixed offset
//! is exact), never from the UTC date: at 04:00 IST the UTC date is still yesterday,
//! and an expiry list cut at the UTC date would show yesterday's expired contracts as
//! the current ones.
//!
//! An expiry is live until the session closes on its day (15:30 IST); from then on the
//! chain set has rolled to the next expiries. The session is 09:15–15:30 IST on
//! weekdays that are not exchange holidays; the holiday list is configuration, because
//! NSE publishes it a year at a time.
#![forbid(unsafe_code)]

pub mod clock;

use std::collections::BTreeSet;

use serde::Serialize;
use time::macros::{date, time};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};

/// India Standard Time.
pub const IST: UtcOffset = match UtcOffset::from_hms(5, 30, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The F&O session opens at 09:15 IST.
pub const SESSION_OPEN: Time = time!(09:15);
/// … and closes at 15:30 IST, which is also when an expiring contract expires.
pub const SESSION_CLOSE: Time = time!(15:30);

/// NSE's trading holidays for 2026 (weekday closures only) as NSE's circular lists
/// them; the default of `--nse-holidays`, which replaces it.
pub const NSE_HOLIDAYS_2026: [Date; 16] = [
    date!(2026 - 01 - 15),
    date!(2026 - 01 - 26),
    date!(2026 - 03 - 03),
    date!(2026 - 03 - 26),
    date!(2026 - 03 - 31),
    date!(2026 - 04 - 03),
    date!(2026 - 04 - 14),
    date!(2026 - 05 - 01),
    date!(2026 - 05 - 28),
    date!(2026 - 06 - 26),
    date!(2026 - 09 - 14),
    date!(2026 - 10 - 02),
    date!(2026 - 10 - 20),
    date!(2026 - 11 - 10),
    date!(2026 - 11 - 24),
    date!(2026 - 12 - 25),
];

/// `at` as an IST wall-clock time.
pub fn in_ist(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(IST)
}

/// The IST date at `at`.
pub fn ist_date(at: OffsetDateTime) -> Date {
    in_ist(at).date()
}

/// The instant `date`'s contracts expire: 15:30 IST that day.
pub fn expiry_instant(date: Date) -> OffsetDateTime {
    date.with_time(SESSION_CLOSE).assume_offset(IST)
}

/// The first expiry date still live at `at`: today (IST) until 15:30 IST, tomorrow
/// from then on. Expiries on or after it are live; earlier ones have expired.
pub fn live_from(at: OffsetDateTime) -> Date {
    let local = in_ist(at);
    if local.time() < SESSION_CLOSE {
        local.date()
    } else {
        local.date().next_day().unwrap_or(local.date())
    }
}

/// Whether `expiry`'s contracts have expired at `at`.
pub fn has_expired(expiry: Date, at: OffsetDateTime) -> bool {
    expiry < live_from(at)
}

/// Why the session is open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionPhase {
    Open,
    BeforeOpen,
    AfterClose,
    Weekend,
    Holiday,
    /// The simulator was told to trade around the clock (`--sim-always-open`).
    AlwaysOpen,
}

impl SessionPhase {
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::AlwaysOpen)
    }
}

/// Which days and hours the market trades.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRules {
    pub holidays: BTreeSet<Date>,
    /// Treat every moment as trading time (the simulator's `--sim-always-open`).
    pub always_open: bool,
}

impl Default for SessionRules {
    fn default() -> Self {
        Self {
            holidays: NSE_HOLIDAYS_2026.into_iter().collect(),
            always_open: false,
        }
    }
}

impl SessionRules {
    /// The session's phase at `at`.
    pub fn phase(&self, at: OffsetDateTime) -> SessionPhase {
        if self.always_open {
            return SessionPhase::AlwaysOpen;
        }
        let local = in_ist(at);
        if matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday) {
            SessionPhase::Weekend
        } else if self.holidays.contains(&local.date()) {
            SessionPhase::Holiday
        } else if local.time() < SESSION_OPEN {
            SessionPhase::BeforeOpen
        } else if local.time() >= SESSION_CLOSE {
            SessionPhase::AfterClose
        } else {
            SessionPhase::Open
        }
    }

    /// The next session open strictly after `at` (`None` when always open, or no
    /// trading day within a year).
    pub fn next_open(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        if self.always_open {
            return None;
        }
        let mut day = ist_date(at);
        for _ in 0..366 {
            let open = day.with_time(SESSION_OPEN).assume_offset(IST);
            if open > at && self.is_trading_day(day) {
                return Some(open);
            }
            day = day.checked_add(Duration::days(1))?;
        }
        None
    }

    fn is_trading_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.contains(&day)
    }
}

/// The clock and the session rules together: what the rest of the server asks.
#[derive(Debug, Clone)]
pub struct MarketCalendar {
    clock: SharedClock,
    rules: SessionRules,
}

impl Default for MarketCalendar {
    fn default() -> Self {
        Self::new(clock::system(), SessionRules::default())
    }
}

impl MarketCalendar {
    pub fn new(clock: SharedClock, rules: SessionRules) -> Self {
        Self { clock, rules }
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn rules(&self) -> &SessionRules {
        &self.rules
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Today's date in IST.
    pub fn today(&self) -> Date {
        ist_date(self.now())
    }

    /// The first live expiry date now (see [`live_from`]).
    pub fn live_from(&self) -> Date {
        live_from(self.now())
    }

    pub fn has_expired(&self, expiry: Date) -> bool {
        has_expired(expiry, self.now())
    }

    pub fn phase(&self) -> SessionPhase {
        self.rules.phase(self.now())
    }

    pub fn is_open(&self) -> bool {
        self.phase().is_open()
    }

    /// The session now, for `/status`.
    pub fn session(&self) -> SessionStatus {
        let now = self.now();
        let phase = self.rules.phase(now);
        let format = time::format_description::well_known::Rfc3339;
        SessionStatus {
            open: phase.is_open(),
            phase,
            now_ist: in_ist(now).format(&format).unwrap_or_default(),
            live_from: live_from(now),
            next_open_ist: self
                .rules
                .next_open(now)
                .filter(|_| !phase.is_open())
                .and_then(|t| in_ist(t).format(&format).ok()),
        }
    }
}

/// `/status`'s `market` section.
#[derive(Debug, Clone, Serialize)]
pub struct SessionStatus {
    pub open: bool,
    pub phase: SessionPhase,
    /// The server's "now" in IST (RFC 3339, +05:30).
    pub now_ist: String,
    /// Expiries on or after this date are live.
    pub live_from: Date,
    /// When closed: the next session open (RFC 3339, IST).
    pub next_open_ist: Option<String>,
}

#[cfg(test)]
mod tests;
