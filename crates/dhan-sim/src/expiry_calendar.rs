//! The simulator's expiry calendar: which dates an underlying's options expire on, seen
//! from a given day. Weekly series expire every week on one weekday; monthly series on
//! the last such weekday of the month; a date that is both is one monthly expiry, as in
//! Dhan's scrip master (`EXPIRY_FLAG` M). Holidays are not modelled: the simulator has
//! no exchange calendar, and an expiry moved by a day would change nothing it tests.

use time::{Date, Duration, Month, Weekday};

use instruments::ExpiryFlag;

/// One expiry date of an underlying and whether it is a weekly or a monthly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledExpiry {
    pub date: Date,
    pub flag: ExpiryFlag,
}

/// The first `weekday` on or after `from` (`from` itself when it is that weekday);
/// `None` past the end of `time`'s calendar.
pub fn first_on_or_after(from: Date, weekday: Weekday) -> Option<Date> {
    let ahead = (i64::from(weekday.number_days_from_monday())
        - i64::from(from.weekday().number_days_from_monday()))
    .rem_euclid(7);
    from.checked_add(Duration::days(ahead))
}

/// The last `weekday` of a month.
pub fn last_in_month(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let last_day = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    let back = (i64::from(last_day.weekday().number_days_from_monday())
        - i64::from(weekday.number_days_from_monday()))
    .rem_euclid(7);
    last_day.checked_sub(Duration::days(back))
}

/// The next `count` occurrences of `weekday` on or after `today`.
pub fn weekly_expiries(today: Date, weekday: Weekday, count: u32) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut next = first_on_or_after(today, weekday);
    for _ in 0..count {
        let Some(date) = next else { break };
        dates.push(date);
        next = date.checked_add(Duration::weeks(1));
    }
    dates
}

/// The last `weekday` of this month (unless it is already past) and of the following
/// months, `count` of them.
pub fn monthly_expiries(today: Date, weekday: Weekday, count: u32) -> Vec<Date> {
    let mut dates = Vec::new();
    let (mut year, mut month) = (today.year(), today.month());
    // This month's may be past, so one month more than `count` is always enough.
    for _ in 0..=count {
        if dates.len() >= count as usize {
            break;
        }
        if let Some(date) = last_in_month(year, month, weekday)
            && date >= today
        {
            dates.push(date);
        }
        if month == Month::December {
            year += 1;
        }
        month = month.next();
    }
    dates
}

/// Weekly and monthly expiries merged, in date order, each date once: a date in both
/// series is flagged [`ExpiryFlag::Monthly`].
pub fn expiry_schedule(
    today: Date,
    weekly: Option<(Weekday, u32)>,
    monthly: (Weekday, u32),
) -> Vec<ScheduledExpiry> {
    let monthly_dates = monthly_expiries(today, monthly.0, monthly.1);
    let weekly_dates =
        weekly.map_or_else(Vec::new, |(day, count)| weekly_expiries(today, day, count));
    let mut schedule: Vec<ScheduledExpiry> = monthly_dates
        .iter()
        .map(|&date| ScheduledExpiry {
            date,
            flag: ExpiryFlag::Monthly,
        })
        .chain(
            weekly_dates
                .into_iter()
                .filter(|date| !monthly_dates.contains(date))
                .map(|date| ScheduledExpiry {
                    date,
                    flag: ExpiryFlag::Weekly,
                }),
        )
        .collect();
    schedule.sort_by_key(|expiry| expiry.date);
    schedule
}

#[cfg(test)]
mod tests {
    use time::macros::date;
    use time::{Month, Weekday};

    use super::{
        ScheduledExpiry, expiry_schedule, first_on_or_after, last_in_month, monthly_expiries,
        weekly_expiries,
    };
    use instruments::ExpiryFlag;

    #[test]
    fn first_on_or_after_keeps_the_day_itself() {
        // 2026-11-24 is a Tuesday.
        assert_eq!(
            first_on_or_after(date!(2026 - 11 - 24), Weekday::Tuesday),
            Some(date!(2026 - 11 - 24))
        );
        assert_eq!(
            first_on_or_after(date!(2026 - 11 - 25), Weekday::Tuesday),
            Some(date!(2026 - 12 - 01))
        );
        assert_eq!(
            first_on_or_after(date!(2026 - 11 - 23), Weekday::Thursday),
            Some(date!(2026 - 11 - 26))
        );
    }

    #[test]
    fn last_weekday_of_month() {
        assert_eq!(
            last_in_month(2026, Month::November, Weekday::Tuesday),
            Some(date!(2026 - 11 - 24))
        );
        // The month's last day is itself the weekday.
        assert_eq!(
            last_in_month(2026, Month::June, Weekday::Tuesday),
            Some(date!(2026 - 06 - 30))
        );
        assert_eq!(
            last_in_month(2028, Month::February, Weekday::Tuesday),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            last_in_month(2026, Month::December, Weekday::Thursday),
            Some(date!(2026 - 12 - 31))
        );
    }

    #[test]
    fn weekly_series_counts_the_current_week() {
        assert_eq!(
            weekly_expiries(date!(2026 - 11 - 17), Weekday::Tuesday, 4),
            vec![
                date!(2026 - 11 - 17),
                date!(2026 - 11 - 24),
                date!(2026 - 12 - 01),
                date!(2026 - 12 - 08)
            ]
        );
        assert!(weekly_expiries(date!(2026 - 11 - 17), Weekday::Tuesday, 0).is_empty());
    }

    #[test]
    fn monthly_series_skips_a_past_month_and_crosses_the_year() {
        // The day after November's last Tuesday: November is gone.
        assert_eq!(
            monthly_expiries(date!(2026 - 11 - 25), Weekday::Tuesday, 3),
            vec![
                date!(2026 - 12 - 29),
                date!(2027 - 01 - 26),
                date!(2027 - 02 - 23)
            ]
        );
        // On the last Tuesday itself it is still this month's.
        assert_eq!(
            monthly_expiries(date!(2026 - 11 - 24), Weekday::Tuesday, 2),
            vec![date!(2026 - 11 - 24), date!(2026 - 12 - 29)]
        );
    }

    #[test]
    fn todays_monthly_expiry_is_one_monthly_entry() {
        let schedule = expiry_schedule(
            date!(2026 - 11 - 24),
            Some((Weekday::Tuesday, 4)),
            (Weekday::Tuesday, 3),
        );
        let first = ScheduledExpiry {
            date: date!(2026 - 11 - 24),
            flag: ExpiryFlag::Monthly,
        };
        assert_eq!(schedule.first(), Some(&first));
        // 4 weeklies (one of them today's monthly) + 3 monthlies, one shared; the 29 Dec
        // monthly is after the 4th weekly (15 Dec).
        let flags: Vec<_> = schedule.iter().map(|e| (e.date, e.flag)).collect();
        assert_eq!(
            flags,
            vec![
                (date!(2026 - 11 - 24), ExpiryFlag::Monthly),
                (date!(2026 - 12 - 01), ExpiryFlag::Weekly),
                (date!(2026 - 12 - 08), ExpiryFlag::Weekly),
                (date!(2026 - 12 - 15), ExpiryFlag::Weekly),
                (date!(2026 - 12 - 29), ExpiryFlag::Monthly),
                (date!(2027 - 01 - 26), ExpiryFlag::Monthly),
            ]
        );
    }

    #[test]
    fn wednesday_rolls_to_next_tuesday_and_monthly_only_has_no_weeklies() {
        let schedule = expiry_schedule(
            date!(2026 - 11 - 18),
            Some((Weekday::Tuesday, 4)),
            (Weekday::Tuesday, 3),
        );
        assert_eq!(
            schedule.first().map(|e| (e.date, e.flag)),
            Some((date!(2026 - 11 - 24), ExpiryFlag::Monthly))
        );
        assert_eq!(
            schedule.get(1).map(|e| (e.date, e.flag)),
            Some((date!(2026 - 12 - 01), ExpiryFlag::Weekly))
        );
        let monthly_only = expiry_schedule(date!(2026 - 11 - 18), None, (Weekday::Tuesday, 3));
        assert_eq!(monthly_only.len(), 3);
        assert!(monthly_only.iter().all(|e| e.flag == ExpiryFlag::Monthly));
        assert!(monthly_only.windows(2).all(|w| w[0].date < w[1].date));
    }
}
