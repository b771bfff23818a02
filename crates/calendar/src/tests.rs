use std::sync::Arc;

use time::macros::{date, datetime};

use super::{
    ManualClock, MarketCalendar, SessionPhase, SessionRules, has_expired, ist_date, live_from,
};

// 2026-11-17 is a Tuesday (an expiry day in the simulator); 2026-11-16 a Monday.

#[test]
fn four_in_the_morning_ist_is_already_the_expiry_day() {
    // 04:00 IST on 17 Nov is 22:30 UTC on 16 Nov: the UTC date is the day before.
    let at = datetime!(2026-11-17 04:00 +05:30);
    assert_eq!(
        at.to_offset(time::UtcOffset::UTC).date(),
        date!(2026 - 11 - 16)
    );
    assert_eq!(ist_date(at), date!(2026 - 11 - 17));
    assert_eq!(live_from(at), date!(2026 - 11 - 17));
    assert!(!has_expired(date!(2026 - 11 - 17), at));
    // Last week's expiry (10 Nov) and a contract expiring on 16 Nov are gone.
    assert!(has_expired(date!(2026 - 11 - 16), at));
}

#[test]
fn eleven_at_night_ist_on_an_expiry_day_has_rolled() {
    // 23:00 IST on 17 Nov is 17:30 UTC the same day: the UTC date would still call
    // the 17 Nov expiry live.
    let at = datetime!(2026-11-17 23:00 +05:30);
    assert_eq!(
        at.to_offset(time::UtcOffset::UTC).date(),
        date!(2026 - 11 - 17)
    );
    assert!(has_expired(date!(2026 - 11 - 17), at));
    assert_eq!(live_from(at), date!(2026 - 11 - 18));
}

#[test]
fn expiry_lasts_until_the_close_exactly() {
    assert!(!has_expired(
        date!(2026 - 11 - 17),
        datetime!(2026-11-17 15:29:59 +05:30)
    ));
    assert!(has_expired(
        date!(2026 - 11 - 17),
        datetime!(2026-11-17 15:30 +05:30)
    ));
    assert_eq!(
        super::expiry_instant(date!(2026 - 11 - 17)),
        datetime!(2026-11-17 10:00 UTC)
    );
}

#[test]
fn session_phases_through_a_day_and_a_week() {
    let rules = SessionRules {
        holidays: [date!(2026 - 11 - 18)].into_iter().collect(),
        always_open: false,
    };
    assert_eq!(
        rules.phase(datetime!(2026-11-17 09:14:59 +05:30)),
        SessionPhase::BeforeOpen
    );
    assert_eq!(
        rules.phase(datetime!(2026-11-17 09:15 +05:30)),
        SessionPhase::Open
    );
    assert_eq!(
        rules.phase(datetime!(2026-11-17 15:29:59 +05:30)),
        SessionPhase::Open
    );
    assert_eq!(
        rules.phase(datetime!(2026-11-17 15:30 +05:30)),
        SessionPhase::AfterClose
    );
    // 03:50 UTC on a Tuesday is 09:20 IST: open, though the UTC clock says night.
    assert_eq!(
        rules.phase(datetime!(2026-11-17 03:50 UTC)),
        SessionPhase::Open
    );
    assert_eq!(
        rules.phase(datetime!(2026-11-18 11:00 +05:30)),
        SessionPhase::Holiday
    );
    assert_eq!(
        rules.phase(datetime!(2026-11-21 11:00 +05:30)),
        SessionPhase::Weekend
    );
    // Friday 20:00 UTC is Saturday 01:30 IST.
    assert_eq!(
        rules.phase(datetime!(2026-11-20 20:00 UTC)),
        SessionPhase::Weekend
    );
    let always = SessionRules {
        always_open: true,
        ..rules.clone()
    };
    assert_eq!(
        always.phase(datetime!(2026-11-21 02:00 +05:30)),
        SessionPhase::AlwaysOpen
    );
    assert!(always.phase(datetime!(2026-11-21 02:00 +05:30)).is_open());
}

#[test]
fn next_open_skips_holidays_and_weekends() {
    let rules = SessionRules {
        holidays: [date!(2026 - 11 - 23)].into_iter().collect(),
        always_open: false,
    };
    // Friday after the close -> Monday is a holiday -> Tuesday 09:15.
    assert_eq!(
        rules.next_open(datetime!(2026-11-20 16:00 +05:30)),
        Some(datetime!(2026-11-24 09:15 +05:30))
    );
    assert_eq!(
        rules.next_open(datetime!(2026-11-24 08:00 +05:30)),
        Some(datetime!(2026-11-24 09:15 +05:30))
    );
}

#[test]
fn calendar_reads_the_injected_clock() {
    let clock = ManualClock::starting_at(datetime!(2026-11-17 15:29:50 +05:30));
    let calendar = MarketCalendar::new(clock.clone(), SessionRules::default());
    assert_eq!(calendar.live_from(), date!(2026 - 11 - 17));
    assert!(calendar.is_open());
    clock.set(datetime!(2026-11-17 23:00 +05:30));
    assert_eq!(calendar.live_from(), date!(2026 - 11 - 18));
    assert!(!calendar.is_open());
    let session = calendar.session();
    assert!(!session.open);
    assert_eq!(session.phase, SessionPhase::AfterClose);
    assert!(
        session.now_ist.starts_with("2026-11-17T23:00"),
        "{}",
        session.now_ist
    );
    assert_eq!(
        session.next_open_ist.as_deref().map(|s| &s[..16]),
        Some("2026-11-18T09:15")
    );
    let _: Arc<dyn super::Clock> = clock;
}
