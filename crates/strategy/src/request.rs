//! The body of `POST /api/v2/strategies/evaluate`: its JSON shape, money parsed from a
//! decimal string (or a plain number) without ever admitting NaN, infinities, signs or
//! exponents, and the range checks that turn a well-formed but unusable request into a
//! refusal naming the field, before any market data is read or any plugin runs.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use store::strategies::Side;

use crate::refusal::{Reason, Refusal};

/// Most legs in one strategy (the store enforces the same cap on saved ones).
pub const MAX_LEGS: usize = store::strategies::MAX_LEGS;
/// Most lots in one leg.
pub const MAX_LOTS: u32 = 100_000;
/// Most what-if scenarios in one request.
pub const MAX_SCENARIOS: usize = 100;
/// Largest accepted price, rupees.
const MAX_PRICE: f64 = 1e9;

/// A strategy to value against the live market.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// One to 20 legs, all on one underlying.
    #[schema(min_items = 1, max_items = 20)]
    pub legs: Vec<LegRequest>,
    /// Payoff curves span spot × (1 ± range_pct / 100); in (0, 100], default 10.
    #[serde(default = "default_range_pct")]
    #[schema(default = 10.0, exclusive_minimum = 0.0, maximum = 100.0)]
    pub range_pct: f64,
    /// Points on each curve, 2 to 2001, default 201.
    #[serde(default = "default_points")]
    #[schema(default = 201, minimum = 2, maximum = 2001)]
    pub points: u32,
    /// Date (YYYY-MM-DD) of the second payoff curve, at 15:30 IST; default now. Not after
    /// the nearest leg expiry.
    #[serde(default)]
    #[schema(example = "2026-11-20", format = Date)]
    pub target_date: Option<String>,
    /// Volatility (decimal) for the probability of profit; default the IV of the leg
    /// whose strike is nearest its forward.
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, maximum = 10.0)]
    pub pop_volatility: Option<f64>,
    /// What-ifs; each shifts spot, IV and time.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub scenarios: Vec<ScenarioRequest>,
}

fn default_range_pct() -> f64 {
    10.0
}

fn default_points() -> u32 {
    201
}

/// One leg: a contract, a side, a size and the price it was (or would be) entered at.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegRequest {
    /// An option or future of the registry (ids as in `/api/v2/options/live`).
    pub security_id: u32,
    pub side: Side,
    /// Lots (quantity = lots × the contract's lot size); default 1.
    #[serde(default = "one_lot")]
    #[schema(default = 1, minimum = 1, maximum = 100_000)]
    pub lots: u32,
    /// Entry price per unit, rupees: a decimal string such as "101.05" (preferred) or a
    /// JSON number; never negative.
    #[schema(schema_with = price_input)]
    pub entry_price: Price,
}

fn one_lot() -> u32 {
    1
}

/// A what-if: spot moved by `spot_shift_pct` percent, every IV shifted by
/// `iv_shift_points` volatility points, `days_forward` calendar days later.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    #[serde(default)]
    #[schema(exclusive_minimum = -100.0)]
    pub spot_shift_pct: f64,
    #[serde(default)]
    #[schema(minimum = -1000.0, maximum = 1000.0)]
    pub iv_shift_points: f64,
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 3650.0)]
    pub days_forward: f64,
}

/// What [`Price`] accepts, for the document: a plain decimal string (at most 9 digits of
/// rupees and 8 decimals, so never above [`MAX_PRICE`]) or a number in `[0, MAX_PRICE]`.
fn price_input() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[0-9]{1,9}(\.[0-9]{1,8})?$"))
                .examples([serde_json::json!("101.05")]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0.0))
                .maximum(Some(MAX_PRICE)),
        )
        .into()
}

/// A price in rupees as a stateless evaluation takes it: from a decimal string (up to
/// eight decimals) or a JSON number, finite and not negative, and kept as the `f64` the
/// valuation model works in. Not [`crate::Money`]: that is exact money (whole
/// paise) for what is saved and summed, and refuses what this accepts.
/// Documented where it is used, by [`price_input`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price(pub f64);

/// Parses a plain decimal: digits, optionally a point and more digits. No sign, no
/// exponent, no `NaN` or `inf`, no thousands separators.
pub(crate) fn parse_money(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !whole.is_empty()
        && digits(whole)
        && digits(fraction)
        && (fraction.len() <= 8)
        && !(text.ends_with('.'));
    if !well_formed {
        return Err(format!(
            "{text:?} is not a price: write a plain decimal of rupees such as \"101.05\""
        ));
    }
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a price"))?;
    check_money(value)
}

fn check_money(value: f64) -> Result<f64, String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("a price must be a finite amount >= 0, got {value}"));
    }
    if value > MAX_PRICE {
        return Err(format!("a price must be at most {MAX_PRICE}, got {value}"));
    }
    Ok(value)
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PriceVisitor;
        impl Visitor<'_> for PriceVisitor {
            type Value = Price;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a price in rupees: a decimal string such as \"101.05\" or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Price, E> {
                parse_money(v).map(Price).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Price, E> {
                check_money(v).map(Price).map_err(E::custom)
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "checked against MAX_PRICE after"
            )]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Price, E> {
                check_money(v as f64).map(Price).map_err(E::custom)
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "checked against MAX_PRICE after"
            )]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Price, E> {
                check_money(v as f64).map(Price).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(PriceVisitor)
    }
}

fn invalid(message: String) -> Refusal {
    Refusal::new(Reason::InvalidStrategy, message)
}

impl EvaluateRequest {
    /// Range checks on everything that does not need the market.
    pub fn validate(&self) -> Result<(), Refusal> {
        if self.legs.is_empty() {
            return Err(Refusal::new(
                Reason::NoLegs,
                "`legs` is empty: a strategy needs at least one leg",
            ));
        }
        if self.legs.len() > MAX_LEGS {
            return Err(invalid(format!(
                "a strategy has at most {MAX_LEGS} legs, got {}",
                self.legs.len()
            )));
        }
        for (i, leg) in self.legs.iter().enumerate() {
            if !(1..=MAX_LOTS).contains(&leg.lots) {
                return Err(invalid(format!(
                    "legs[{i}].lots must be from 1 to {MAX_LOTS}, got {}",
                    leg.lots
                )));
            }
        }
        if !(self.range_pct.is_finite() && self.range_pct > 0.0 && self.range_pct <= 100.0) {
            return Err(invalid(format!(
                "range_pct must be in (0, 100], got {}",
                self.range_pct
            )));
        }
        if !(2..=2001).contains(&self.points) {
            return Err(invalid(format!(
                "points must be from 2 to 2001, got {}",
                self.points
            )));
        }
        if let Some(v) = self.pop_volatility
            && !(v.is_finite() && v > 0.0 && v <= 10.0)
        {
            return Err(invalid(format!(
                "pop_volatility must be a decimal volatility in (0, 10] (0.15 = 15 %), got {v}"
            )));
        }
        if self.scenarios.len() > MAX_SCENARIOS {
            return Err(invalid(format!(
                "at most {MAX_SCENARIOS} scenarios, got {}",
                self.scenarios.len()
            )));
        }
        for (i, s) in self.scenarios.iter().enumerate() {
            if !(s.spot_shift_pct.is_finite() && s.spot_shift_pct > -100.0) {
                return Err(invalid(format!(
                    "scenarios[{i}].spot_shift_pct must be > -100, got {}",
                    s.spot_shift_pct
                )));
            }
            if !(s.iv_shift_points.is_finite() && s.iv_shift_points.abs() <= 1_000.0) {
                return Err(invalid(format!(
                    "scenarios[{i}].iv_shift_points must be within ±1000, got {}",
                    s.iv_shift_points
                )));
            }
            if !(s.days_forward.is_finite() && (0.0..=3_650.0).contains(&s.days_forward)) {
                return Err(invalid(format!(
                    "scenarios[{i}].days_forward must be from 0 to 3650, got {}",
                    s.days_forward
                )));
            }
        }
        Ok(())
    }

    /// The target date, parsed.
    pub fn target(&self) -> Result<Option<time::Date>, Refusal> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        self.target_date
            .as_deref()
            .map(|text| {
                time::Date::parse(text, &format).map_err(|_| {
                    Refusal::new(
                        Reason::MalformedDate,
                        format!("target_date {text:?} is not a date in YYYY-MM-DD form"),
                    )
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_plain_decimals_only() {
        assert_eq!(parse_money("101.05"), Ok(101.05));
        assert_eq!(parse_money(" 7 "), Ok(7.0));
        assert_eq!(parse_money("0.5"), Ok(0.5));
        assert_eq!(parse_money("0"), Ok(0.0));
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            "NaN",
            "nan",
            "inf",
            "Infinity",
            "1,000",
            "1.2.3",
            "₹100",
            "0x10",
            "1.123456789",
            "2000000000",
        ] {
            assert!(parse_money(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn money_accepts_a_string_or_a_number_but_never_a_negative() {
        let leg = |price: &str| {
            serde_json::from_str::<LegRequest>(&format!(
                r#"{{"security_id":1,"side":"buy","entry_price":{price}}}"#
            ))
        };
        assert_eq!(
            leg(r#""101.05""#).map(|l| l.entry_price.0).ok(),
            Some(101.05)
        );
        assert_eq!(leg("101.05").map(|l| l.entry_price.0).ok(), Some(101.05));
        assert_eq!(leg("12").map(|l| l.entry_price.0).ok(), Some(12.0));
        assert_eq!(leg("12").map(|l| l.lots).ok(), Some(1), "lots default to 1");
        for bad in [
            "-1", "-0.5", r#""-1""#, r#""NaN""#, "null", "true", "[1]", "1e400",
        ] {
            assert!(leg(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_body_shape_is_strict() {
        let parse = |body: &str| serde_json::from_str::<EvaluateRequest>(body);
        let ok = parse(r#"{"legs":[{"security_id":1,"side":"sell","lots":2,"entry_price":"3"}]}"#)
            .expect("minimal body");
        assert_eq!((ok.range_pct, ok.points), (10.0, 201));
        assert!(ok.validate().is_ok());
        assert!(parse(r#"{"legs":[{"security_id":1,"side":"hold","entry_price":"3"}]}"#).is_err());
        assert!(parse(r#"{"legs":[{"security_id":"x","side":"buy","entry_price":"3"}]}"#).is_err());
        assert!(
            parse(r#"{"legs":[],"rangepct":5}"#).is_err(),
            "unknown field"
        );
        assert!(parse(r#"{"legs":[{"security_id":-4,"side":"buy","entry_price":"3"}]}"#).is_err());
    }

    #[test]
    fn out_of_range_values_are_refused_with_their_reason() {
        let body = |extra: &str| {
            serde_json::from_str::<EvaluateRequest>(&format!(
                r#"{{"legs":[{{"security_id":1,"side":"buy","entry_price":"3"}}]{extra}}}"#
            ))
            .expect("parses")
        };
        let status = |r: &EvaluateRequest| r.validate().err().map(|refusal| refusal.reason);
        assert_eq!(status(&body("")), None);
        for extra in [
            r#","range_pct":0"#,
            r#","range_pct":101"#,
            r#","points":1"#,
            r#","points":5000"#,
            r#","pop_volatility":0"#,
            r#","scenarios":[{"spot_shift_pct":-100}]"#,
            r#","scenarios":[{"days_forward":-1}]"#,
        ] {
            assert_eq!(
                status(&body(extra)),
                Some(Reason::InvalidStrategy),
                "{extra}"
            );
        }
        let empty: EvaluateRequest = serde_json::from_str(r#"{"legs":[]}"#).expect("parses");
        assert_eq!(status(&empty), Some(Reason::NoLegs));
        let zero_lots = serde_json::from_str::<EvaluateRequest>(
            r#"{"legs":[{"security_id":1,"side":"buy","lots":0,"entry_price":"3"}]}"#,
        )
        .expect("parses");
        assert_eq!(status(&zero_lots), Some(Reason::InvalidStrategy));
    }

    #[test]
    fn target_dates_parse_or_are_refused_as_malformed() {
        let mut r: EvaluateRequest = serde_json::from_str(
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":"3"}],"target_date":"2026-11-20"}"#,
        )
        .expect("parses");
        assert_eq!(
            r.target().ok().flatten(),
            Some(time::macros::date!(2026 - 11 - 20))
        );
        r.target_date = Some("20-11-2026".into());
        assert_eq!(
            r.target().map_err(|refusal| refusal.reason),
            Err(Reason::MalformedDate)
        );
    }
}
