//! Exact money: every price, P&L and M2M figure is a whole number of paise in an `i64`,
//! never a binary float. This module is the one place the rounding rules live:
//!
//! 1. **Input.** Money arrives as a decimal string of rupees (`"101.05"`): digits, an
//!    optional point and at most two more digits (a paisa is the smallest unit). No sign,
//!    exponent, separators, `NaN` or infinities; a JSON number is refused, because a float
//!    may already have lost the value the client meant.
//! 2. **Tick.** An entry price is a traded price, so it must lie on the exchange tick of
//!    0.05 rupees (5 paise); anything else is refused rather than silently moved.
//! 3. **Market values.** The valuation plugin answers in `f64` rupees. Each leg's value is
//!    converted to paise once, rounding half to even (banker's rounding, so repeated
//!    conversions carry no upward bias); a strategy's M2M is the exact integer sum of its
//!    rounded legs, so the total always equals the sum of the parts.
//! 4. **Arithmetic** on paise is checked: an overflow is an error, never a wrap.
//! 5. **Output** is a decimal string with exactly two decimals (`"-1250.50"`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Paise in a rupee.
pub(crate) const PAISE_PER_RUPEE: i64 = 100;
/// The exchange tick for F&O contracts, in paise (0.05 rupees).
pub(crate) const TICK_PAISE: i64 = 5;
/// Largest price accepted as input, paise (one crore rupees): far above any contract
/// price, and small enough that price × any allowed quantity fits an `i64`.
pub(crate) const MAX_PRICE_PAISE: i64 = 10_000_000 * PAISE_PER_RUPEE;

/// An amount of money, in paise. Negative amounts are losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a text or number is not money.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an amount: write a plain decimal of rupees such as \"101.05\"")]
    Malformed(String),
    #[error("{0:?} has more than two decimals: the smallest amount is one paisa (0.01)")]
    FinerThanPaisa(String),
    #[error("{0} is off the 0.05 tick: a traded price is a multiple of 0.05")]
    OffTick(Money),
    #[error("{0} is above the largest accepted price (10000000.00)")]
    TooLarge(Money),
    #[error("the amount overflows")]
    Overflow,
    #[error("{0} is not a finite amount")]
    NotFinite(f64),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_paise(paise: i64) -> Self {
        Self(paise)
    }

    pub const fn paise(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal of rupees with at most two decimals (rule 1).
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let malformed = || MoneyError::Malformed(text.to_string());
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) if !f.is_empty() => (w, f),
            Some(_) => return Err(malformed()),
            None => (text, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(malformed());
        }
        if fraction.len() > 2 {
            return Err(MoneyError::FinerThanPaisa(text.to_string()));
        }
        // 12 digits of rupees is already far past MAX_PRICE_PAISE; refusing longer input
        // here keeps the arithmetic below from overflowing.
        if whole.trim_start_matches('0').len() > 12 {
            return Err(MoneyError::TooLarge(Money(i64::MAX)));
        }
        let rupees: i64 = whole.parse().map_err(|_| malformed())?;
        let paise: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => fraction.parse::<i64>().map_err(|_| malformed())?,
        };
        rupees
            .checked_mul(PAISE_PER_RUPEE)
            .and_then(|r| r.checked_add(paise))
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// Parses an entry price: rule 1, then the tick (rule 2) and the ceiling.
    pub fn parse_price(text: &str) -> Result<Self, MoneyError> {
        Self::parse(text)?.checked_price()
    }

    /// Checks an amount as a price: on the tick and not above [`MAX_PRICE_PAISE`].
    pub fn checked_price(self) -> Result<Self, MoneyError> {
        if self.0 > MAX_PRICE_PAISE {
            return Err(MoneyError::TooLarge(self));
        }
        if self.0.rem_euclid(TICK_PAISE) != 0 {
            return Err(MoneyError::OffTick(self));
        }
        Ok(self)
    }

    /// Rupees as a float, for the valuation plugin's input. Exact for every amount an
    /// input can hold to within far less than a paisa.
    #[expect(
        clippy::cast_precision_loss,
        reason = "prices are at most 1e9 paise, well inside f64's exact integers"
    )]
    pub fn to_rupees_f64(self) -> f64 {
        self.0 as f64 / PAISE_PER_RUPEE as f64
    }

    /// Rupees from the plugin to paise, rounding half to even (rule 3).
    pub fn from_rupees_f64(rupees: f64) -> Result<Self, MoneyError> {
        if !rupees.is_finite() {
            return Err(MoneyError::NotFinite(rupees));
        }
        let paise = (rupees * 100.0).round_ties_even();
        // i64::MAX as f64 rounds up to 2^63, so `<` keeps the cast in range.
        #[expect(clippy::cast_precision_loss, reason = "a bound, not a value")]
        let limit = i64::MAX as f64;
        if paise.abs() >= limit {
            return Err(MoneyError::Overflow);
        }
        #[expect(
            clippy::cast_possible_truncation,
            reason = "rounded to an integer and range-checked just above"
        )]
        Ok(Money(paise as i64))
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// This amount per unit times a signed quantity of units.
    pub fn checked_times(self, units: i64) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(units)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// The exact sum of amounts (rule 3's total).
    pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |total, m| total.checked_add(m))
    }
}

impl fmt::Display for Money {
    /// Rule 5: rupees with exactly two decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per = PAISE_PER_RUPEE.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / per, abs % per)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// A decimal string only (rule 1); numbers are refused with a message saying so.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;
        impl Visitor<'_> for MoneyVisitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of rupees as a decimal string such as \"101.05\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                Money::parse(v).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "money travels as a decimal string, not a JSON number: write \"{v}\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "money travels as a decimal string, not a JSON number: write \"{v}\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "money travels as a decimal string, not a JSON number: write \"{v}\""
                )))
            }
        }
        deserializer.deserialize_any(MoneyVisitor)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "Rupees as a decimal string with at most two decimals (paise), e.g. \"101.05\"",
            ))
            .examples([serde_json::json!("101.05")])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rupees_and_paise_exactly() {
        assert_eq!(Money::parse("101.05"), Ok(Money(10_105)));
        assert_eq!(Money::parse("101.5"), Ok(Money(10_150)));
        assert_eq!(Money::parse("7"), Ok(Money(700)));
        assert_eq!(Money::parse("0.01"), Ok(Money(1)));
        assert_eq!(Money::parse("000.10"), Ok(Money(10)));
        // 0.1 + 0.2 in floats is 0.30000000000000004; in paise it is 30.
        let sum = Money::parse("0.1")
            .and_then(|a| a.checked_add(Money::parse("0.2")?))
            .ok();
        assert_eq!(sum, Some(Money(30)));
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e3", "NaN", "inf", "1,000", "1.2.3", " 1", "₹1",
        ] {
            assert!(
                matches!(Money::parse(bad), Err(MoneyError::Malformed(_))),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            Money::parse("1.005"),
            Err(MoneyError::FinerThanPaisa(_))
        ));
        assert!(Money::parse("99999999999999999999").is_err());
    }

    #[test]
    fn entry_prices_sit_on_the_tick() {
        assert_eq!(Money::parse_price("101.05"), Ok(Money(10_105)));
        assert_eq!(Money::parse_price("101.10"), Ok(Money(10_110)));
        assert_eq!(Money::parse_price("0"), Ok(Money(0)));
        assert_eq!(
            Money::parse_price("101.03"),
            Err(MoneyError::OffTick(Money(10_103)))
        );
        assert!(matches!(
            Money::parse_price("10000000.05"),
            Err(MoneyError::TooLarge(_))
        ));
        assert_eq!(
            Money::parse_price("10000000").map(Money::paise),
            Ok(MAX_PRICE_PAISE)
        );
    }

    #[test]
    fn plugin_values_round_half_to_even_paise() {
        assert_eq!(Money::from_rupees_f64(12.344), Ok(Money(1_234)));
        assert_eq!(Money::from_rupees_f64(12.346), Ok(Money(1_235)));
        // Exactly representable halves (x.125 = 12.5 paise, x.375 = 37.5 paise).
        assert_eq!(Money::from_rupees_f64(0.125), Ok(Money(12)));
        assert_eq!(Money::from_rupees_f64(0.375), Ok(Money(38)));
        assert_eq!(Money::from_rupees_f64(-0.125), Ok(Money(-12)));
        assert_eq!(Money::from_rupees_f64(-1_250.5), Ok(Money(-125_050)));
        assert!(Money::from_rupees_f64(f64::NAN).is_err());
        assert!(Money::from_rupees_f64(f64::INFINITY).is_err());
        assert_eq!(Money::from_rupees_f64(1e300), Err(MoneyError::Overflow));
    }

    #[test]
    fn a_float_price_survives_the_round_trip_to_the_plugin() {
        // Every paise amount up to the price ceiling comes back unchanged.
        for paise in [0, 1, 5, 10_105, 999_999_995, MAX_PRICE_PAISE] {
            let m = Money(paise);
            assert_eq!(Money::from_rupees_f64(m.to_rupees_f64()), Ok(m));
        }
    }

    #[test]
    fn totals_are_exact_and_overflow_is_an_error() {
        let legs = [Money(-10_105), Money(20_000), Money(1)];
        assert_eq!(Money::sum(legs), Ok(Money(9_896)));
        assert_eq!(Money(3).checked_times(-75), Ok(Money(-225)));
        assert_eq!(
            Money(i64::MAX).checked_add(Money(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Money(i64::MAX).checked_times(2), Err(MoneyError::Overflow));
        assert_eq!(Money(5).checked_sub(Money(7)), Ok(Money(-2)));
    }

    #[test]
    fn prints_two_decimals_and_travels_as_a_string() {
        assert_eq!(Money(10_105).to_string(), "101.05");
        assert_eq!(Money(-125_050).to_string(), "-1250.50");
        assert_eq!(Money(-5).to_string(), "-0.05");
        assert_eq!(Money(0).to_string(), "0.00");
        assert_eq!(
            serde_json::to_string(&Money(700)).ok().as_deref(),
            Some("\"7.00\"")
        );
        let parsed: Result<Money, _> = serde_json::from_str("\"101.05\"");
        assert_eq!(parsed.ok(), Some(Money(10_105)));
        for number in ["101.05", "101", "-1"] {
            let err = serde_json::from_str::<Money>(number)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("decimal string"), "{number}: {err}");
        }
    }
}
