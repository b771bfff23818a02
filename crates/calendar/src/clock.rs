//! "Now", passed in rather than read from the system: everything that asks what day or
//! time it is (expiry lists, the session, the rollover, the simulator's calendar) asks
//! a [`Clock`], so tests can stand at 23:00 IST on an expiry day, or step across the
//! 15:30 IST close, without waiting for the wall clock.

use std::fmt::Debug;
use std::sync::Arc;

use parking_lot::Mutex;
use time::{Duration, OffsetDateTime};

/// Where "now" comes from.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The clock everything shares.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The system clock as a [`SharedClock`].
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that runs with the wall clock from a chosen instant, and can be moved by
/// hand: tests start it at, say, 15:29:58 IST on an expiry day and watch the close
/// pass in two real seconds, or [`ManualClock::set`] it across the close at once.
#[derive(Debug)]
pub struct ManualClock {
    /// What to add to the system clock.
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock that reads `at` now and moves on with real time from there.
    pub fn starting_at(at: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            offset: Mutex::new(at - OffsetDateTime::now_utc()),
        })
    }

    /// Jumps to `at` (and runs on from there).
    pub fn set(&self, at: OffsetDateTime) {
        *self.offset.lock() = at - OffsetDateTime::now_utc();
    }

    /// Moves the clock by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.lock()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::{Clock, ManualClock};

    #[test]
    fn manual_clock_starts_where_told_and_moves_when_told() {
        let clock = ManualClock::starting_at(datetime!(2026-11-24 15:29:00 +05:30));
        let read = clock.now();
        assert!((read - datetime!(2026-11-24 15:29:00 +05:30)).abs() < Duration::seconds(5));
        clock.advance(Duration::minutes(2));
        assert!(clock.now() - read >= Duration::minutes(2));
        clock.set(datetime!(2030-01-01 00:00:00 UTC));
        assert_eq!(clock.now().year(), 2030);
        assert!(OffsetDateTime::now_utc().year() < 2030);
    }
}
