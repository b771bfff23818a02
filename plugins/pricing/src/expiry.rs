//! Time to expiry: the expiry instant of a calendar date and the year fraction Black-76
//! is evaluated at.
//!
//! NSE index options expire at the close, 15:30 IST (UTC+05:30, no daylight saving),
//! i.e. 10:00 UTC on the expiry date (reference §1.4). T counts calendar seconds over a
//! 365-day year (reference §1.5), which matches calendar-day theta. Plugins have no
//! clock, so "now" is always the host's `as_of_ms`; the arithmetic here is plain
//! integer civil-calendar arithmetic, with no time-zone database.

use crate::chain::Date;

/// T never goes below this many seconds while the option is alive: Greeks explode as
/// T → 0 and a minute is the resolution the market data has anyway.
pub const MIN_SECONDS: f64 = 60.0;

/// Seconds in the 365-day year T is measured in.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

const MS_PER_DAY: i64 = 86_400_000;
/// 15:30 IST = 10:00 UTC, in milliseconds after UTC midnight.
const EXPIRY_UTC_MS_OF_DAY: i64 = 10 * 3_600_000;

/// The expiry instant of `date` (15:30 IST) in milliseconds since the Unix epoch, or
/// `None` when the date does not exist (month outside 1–12, day outside the month,
/// 29 February of a non-leap year).
#[must_use]
pub fn expiry_instant_ms(date: Date) -> Option<i64> {
    let (year, month, day) = (
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * MS_PER_DAY + EXPIRY_UTC_MS_OF_DAY)
}

/// Where an option stands relative to its expiry at a given instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeToExpiry {
    /// Before 15:30 IST on expiry day; `years` ≥ [`MIN_SECONDS`] / [`SECONDS_PER_YEAR`].
    Live { years: f64 },
    /// At or after 15:30 IST on expiry day: the option is worth its intrinsic value.
    Expired,
}

/// Time from `as_of_ms` (milliseconds since the Unix epoch, UTC) to the expiry of
/// `date`; `None` for an invalid date.
#[must_use]
pub fn time_to_expiry(date: Date, as_of_ms: i64) -> Option<TimeToExpiry> {
    let expiry_ms = expiry_instant_ms(date)?;
    // i128: as_of_ms is host-supplied and may be anywhere in the i64 range.
    let remaining_ms = i128::from(expiry_ms) - i128::from(as_of_ms);
    if remaining_ms <= 0 {
        return Some(TimeToExpiry::Expired);
    }
    // Exact below 2^53 ms (285 000 years), far beyond any listed expiry.
    #[expect(
        clippy::cast_precision_loss,
        reason = "i128 ms to f64 seconds; exact for any real expiry"
    )]
    let seconds = (remaining_ms as f64 / 1000.0).max(MIN_SECONDS);
    Some(TimeToExpiry::Live {
        years: seconds / SECONDS_PER_YEAR,
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic-Gregorian date (Howard Hinnant's
/// `days_from_civil`: years start in March so the leap day is the last of the year).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    //! Expiry instants against GNU `date`, calendar validity, and the T floor and
    //! expiry boundary.

    use super::{MIN_SECONDS, SECONDS_PER_YEAR, TimeToExpiry, expiry_instant_ms, time_to_expiry};
    use crate::chain::Date;

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    /// Epoch seconds of 10:00 UTC on these dates, from GNU `date -u -d 'YYYY-MM-DD
    /// 10:00:00' +%s` (an independent implementation of the civil calendar).
    const KNOWN: [((u16, u8, u8), i64); 7] = [
        ((1970, 1, 1), 36_000),
        ((1969, 12, 31), -50_400),
        ((2000, 2, 29), 951_818_400),
        ((2024, 2, 29), 1_709_200_800),
        ((2025, 9, 30), 1_759_226_400),
        ((2026, 1, 27), 1_769_508_000),
        ((2100, 3, 1), 4_107_578_400),
    ];

    #[test]
    fn expiry_instant_is_1530_ist() {
        for ((y, m, d), seconds) in KNOWN {
            assert_eq!(
                expiry_instant_ms(date(y, m, d)),
                Some(seconds * 1000),
                "{y}-{m}-{d}"
            );
        }
    }

    #[test]
    fn consecutive_days_are_one_day_apart() {
        // Walk 1999-12-25 .. 2001-01-05 through month and (leap) year ends.
        let mut previous: Option<i64> = None;
        for year in [1999_u16, 2000, 2001] {
            for month in 1..=12_u8 {
                for day in 1..=31_u8 {
                    let Some(ms) = expiry_instant_ms(date(year, month, day)) else {
                        continue;
                    };
                    if let Some(p) = previous {
                        assert_eq!(ms - p, 86_400_000, "{year}-{month}-{day}");
                    }
                    previous = Some(ms);
                }
            }
        }
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for (y, m, d) in [
            (2025, 2, 29),
            (1900, 2, 29),
            (2025, 4, 31),
            (2025, 0, 1),
            (2025, 13, 1),
            (2025, 1, 0),
            (2025, 1, 32),
        ] {
            assert_eq!(expiry_instant_ms(date(y, m, d)), None, "{y}-{m}-{d}");
            assert_eq!(time_to_expiry(date(y, m, d), 0), None, "{y}-{m}-{d}");
        }
        assert!(expiry_instant_ms(date(2000, 2, 29)).is_some());
        assert!(
            expiry_instant_ms(date(0, 2, 29)).is_some(),
            "year 0 is a leap year"
        );
        assert!(expiry_instant_ms(date(u16::MAX, 12, 31)).is_some());
    }

    #[test]
    fn time_to_expiry_counts_calendar_seconds() {
        let expiry = date(2025, 9, 30);
        let close_ms = 1_759_226_400_000_i64;
        // One week before the close.
        let week = time_to_expiry(expiry, close_ms - 7 * 86_400_000);
        assert_eq!(week, Some(TimeToExpiry::Live { years: 7.0 / 365.0 }));
        // Expiry day, 09:15 IST: 6h15m left.
        let morning = time_to_expiry(expiry, close_ms - 22_500_000);
        assert_eq!(
            morning,
            Some(TimeToExpiry::Live {
                years: 22_500.0 / SECONDS_PER_YEAR
            })
        );
    }

    #[test]
    fn floor_and_expiry_boundary() {
        let expiry = date(2025, 9, 30);
        let close_ms = 1_759_226_400_000_i64;
        let floor = Some(TimeToExpiry::Live {
            years: MIN_SECONDS / SECONDS_PER_YEAR,
        });
        assert_eq!(
            time_to_expiry(expiry, close_ms - 30_000),
            floor,
            "30 s left clamps to 60 s"
        );
        assert_eq!(
            time_to_expiry(expiry, close_ms - 1),
            floor,
            "1 ms left clamps to 60 s"
        );
        assert_eq!(
            time_to_expiry(expiry, close_ms - 61_000),
            Some(TimeToExpiry::Live {
                years: 61.0 / SECONDS_PER_YEAR
            })
        );
        assert_eq!(
            time_to_expiry(expiry, close_ms),
            Some(TimeToExpiry::Expired)
        );
        assert_eq!(
            time_to_expiry(expiry, close_ms + 3_600_000),
            Some(TimeToExpiry::Expired)
        );
    }

    #[test]
    fn extreme_clocks_do_not_overflow() {
        let expiry = date(2025, 9, 30);
        assert_eq!(
            time_to_expiry(expiry, i64::MAX),
            Some(TimeToExpiry::Expired)
        );
        match time_to_expiry(expiry, i64::MIN) {
            Some(TimeToExpiry::Live { years }) => assert!(years.is_finite() && years > 1e8),
            other => panic!("expected a live expiry, got {other:?}"),
        }
    }
}
