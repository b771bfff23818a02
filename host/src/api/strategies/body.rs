//! The JSON of saved strategies: request bodies (strict: unknown fields, float money and
//! unknown sides are refused), answers, and the checks that name what is wrong with a
//! well-formed but unusable request.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::api::error::{AppError, ErrorCode};
use crate::portfolio::{M2mUpdate, Money};
use crate::store::strategies::{LegRow, Side, StrategyRow, StrategyStatus};
use ::strategy::{MAX_LEGS, MAX_LOTS};

/// A new strategy (legs are added one by one).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStrategy {
    /// 1 to 100 characters, not all blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// A tracked underlying, e.g. `NIFTY`; every leg must be on it.
    #[schema(example = "NIFTY")]
    pub underlying: String,
    /// One of the caller's accounts, to group the strategy by.
    #[serde(default)]
    pub account_id: Option<i64>,
}

/// Changes to a strategy; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchStrategy {
    /// 1 to 100 characters, not all blank, no control characters.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// An account id, or `null` to ungroup.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub account_id: Option<Option<i64>>,
    /// `closed` stops M2M valuation; `open` resumes it.
    #[serde(default)]
    pub status: Option<Status>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// `open` or `closed` (named apart from `/status`'s answer in the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = StrategyStatus)]
pub enum Status {
    Open,
    Closed,
}

impl From<Status> for StrategyStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Open => StrategyStatus::Open,
            Status::Closed => StrategyStatus::Closed,
        }
    }
}

impl From<StrategyStatus> for Status {
    fn from(s: StrategyStatus) -> Self {
        match s {
            StrategyStatus::Open => Status::Open,
            StrategyStatus::Closed => Status::Closed,
        }
    }
}

/// A leg to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLeg {
    /// An option or future on the strategy's underlying.
    pub security_id: u32,
    pub side: Side,
    #[serde(default = "one_lot")]
    #[schema(default = 1, minimum = 1, maximum = 100_000)]
    pub lots: u32,
    /// Rupees per unit as a decimal string on the 0.05 tick, at most 1 crore, e.g.
    /// "101.05". JSON numbers are refused.
    #[schema(value_type = String, pattern = r"^[0-9]{1,7}(\.[0-9][05]?)?$", example = "101.05")]
    pub entry_price: Money,
    /// RFC 3339; default now.
    #[serde(default)]
    #[schema(example = "2026-11-20T09:20:00+05:30", format = DateTime)]
    pub entry_time: Option<String>,
}

fn one_lot() -> u32 {
    1
}

impl AddLeg {
    /// Checks that need neither the store nor the market; returns the entry time (ms).
    pub fn validate(&self, now_ms: i64) -> Result<i64, AppError> {
        if !(1..=MAX_LOTS).contains(&self.lots) {
            return Err(AppError::Unprocessable {
                code: ErrorCode::InvalidLeg,
                message: format!("lots must be from 1 to {MAX_LOTS}, got {}", self.lots),
            });
        }
        self.entry_price
            .checked_price()
            .map_err(|e| AppError::Unprocessable {
                code: ErrorCode::InvalidPrice,
                message: format!("entry_price: {e}"),
            })?;
        match &self.entry_time {
            None => Ok(now_ms),
            Some(text) => parse_time("entry_time", text),
        }
    }
}

/// Milliseconds since the epoch from RFC 3339; a 400 naming the field otherwise.
pub fn parse_time(field: &str, text: &str) -> Result<i64, AppError> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::MalformedTime,
            message: format!(
                "{field} {text:?} is not an RFC 3339 time such as 2026-11-20T09:20:00+05:30"
            ),
        })
}

/// Refuses one more leg past the limit.
pub fn check_leg_count(strategy: &StrategyRow) -> Result<(), AppError> {
    if strategy.legs.len() >= MAX_LEGS {
        return Err(too_many_legs());
    }
    Ok(())
}

/// 422 `too_many_legs`.
pub fn too_many_legs() -> AppError {
    AppError::Unprocessable {
        code: ErrorCode::TooManyLegs,
        message: format!("a strategy has at most {MAX_LEGS} legs"),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LegResponse {
    pub id: i64,
    pub security_id: i64,
    /// The contract's symbol, when the registry still lists it.
    pub symbol: Option<String>,
    pub side: Side,
    pub lots: i64,
    pub entry_price: Money,
    /// RFC 3339, UTC.
    pub entry_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StrategyResponse {
    pub id: i64,
    pub name: String,
    pub underlying: String,
    pub account_id: Option<i64>,
    pub status: Status,
    /// Grows with every edit; send it back as `If-Match` to refuse a lost update.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub legs: Vec<LegResponse>,
    /// The latest valuation by the M2M worker, if any since the server started.
    pub m2m: Option<M2mUpdate>,
}

impl StrategyResponse {
    pub fn new(
        row: StrategyRow,
        symbol: impl Fn(i64) -> Option<String>,
        latest: Option<&M2mUpdate>,
    ) -> Self {
        let leg = |l: LegRow| LegResponse {
            id: l.id,
            security_id: l.security_id,
            symbol: symbol(l.security_id),
            side: l.side,
            lots: l.lots,
            entry_price: Money::from_paise(l.entry_price_paise),
            entry_time: rfc3339(l.entry_time_ms),
        };
        Self {
            id: row.id,
            name: row.name,
            underlying: row.underlying,
            account_id: row.account_id,
            status: row.status.into(),
            version: row.version,
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
            legs: row.legs.into_iter().map(leg).collect(),
            m2m: latest.cloned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct M2mPoint {
    /// RFC 3339, UTC.
    pub at: String,
    pub at_ms: i64,
    pub m2m: Money,
    pub strategy_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct M2mSeries {
    pub strategy_id: i64,
    /// Bucket width in seconds; null for every point.
    pub interval_secs: Option<u64>,
    /// Oldest first; with an interval, the last point of each bucket.
    pub points: Vec<M2mPoint>,
    /// Whether more points matched than one answer carries (narrow the range or widen
    /// the interval).
    pub truncated: bool,
}

/// The time-series query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// RFC 3339 start (inclusive); default the beginning.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 end (inclusive); default now.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Bucket width: a number and `s`, `m`, `h` or `d` (`30s`, `5m`, `1h`).
    #[param(pattern = "^0*[1-9][0-9]{0,8}[smhd]$")]
    pub interval: Option<String>,
}

/// `30s`, `5m`, `1h`, `1d` as seconds.
pub fn parse_interval(text: &str) -> Result<u64, AppError> {
    let bad = || AppError::BadRequest {
        code: ErrorCode::MalformedInterval,
        message: format!("interval {text:?} is not a duration such as 30s, 5m, 1h or 1d"),
    };
    let text = text.trim();
    let unit = text.chars().last().ok_or_else(bad)?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let count: u64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    let secs = count
        .checked_mul(scale)
        .filter(|s| *s > 0)
        .ok_or_else(bad)?;
    Ok(secs)
}

/// The last point of each `interval_ms` bucket, in order.
pub fn downsample<T: Copy>(points: &[T], at_ms: impl Fn(&T) -> i64, interval_ms: i64) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut last_bucket = None;
    for p in points {
        let bucket = at_ms(p).div_euclid(interval_ms.max(1));
        if last_bucket == Some(bucket) {
            if let Some(slot) = out.last_mut() {
                *slot = *p;
            }
        } else {
            out.push(*p);
            last_bucket = Some(bucket);
        }
    }
    out
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse() {
        assert_eq!(parse_interval("30s").ok(), Some(30));
        assert_eq!(parse_interval("5m").ok(), Some(300));
        assert_eq!(parse_interval("1d").ok(), Some(86_400));
        for bad in ["", "s", "0s", "5", "5w", "-1m", "1.5h"] {
            assert!(parse_interval(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn downsampling_keeps_the_last_of_each_bucket() {
        let points = [1_000_i64, 1_500, 2_100, 2_900, 5_000];
        assert_eq!(downsample(&points, |p| *p, 1_000), [1_500, 2_900, 5_000]);
        assert_eq!(downsample(&points, |p| *p, 10_000), [5_000]);
    }

    #[test]
    fn legs_are_strict() {
        let parse = |body: &str| serde_json::from_str::<AddLeg>(body);
        let ok = parse(r#"{"security_id":1,"side":"buy","entry_price":"101.05"}"#).unwrap();
        assert_eq!(ok.lots, 1);
        assert_eq!(ok.validate(7).unwrap(), 7);
        assert!(parse(r#"{"security_id":1,"side":"buy","entry_price":101.05}"#).is_err());
        assert!(parse(r#"{"security_id":1,"side":"long","entry_price":"1"}"#).is_err());
        assert!(parse(r#"{"security_id":1,"side":"buy","entry_price":"1.0.1"}"#).is_err());
        let off_tick = parse(r#"{"security_id":1,"side":"buy","entry_price":"1.01"}"#).unwrap();
        assert!(matches!(
            off_tick.validate(0),
            Err(AppError::Unprocessable {
                code: ErrorCode::InvalidPrice,
                ..
            })
        ));
        let timed = parse(
            r#"{"security_id":1,"side":"sell","entry_price":"1","entry_time":"2026-11-20T09:20:00+05:30"}"#,
        )
        .unwrap();
        assert_eq!(timed.validate(0).unwrap(), 1_795_146_600_000);
        let patch: PatchStrategy = serde_json::from_str(r#"{"account_id":null}"#).unwrap();
        assert_eq!(patch.account_id, Some(None));
        let patch: PatchStrategy = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(patch.account_id, None);
    }
}
