//! The history routes: `/fo/moneyness-series` (a metric over time by distance from the
//! money, from stored snapshots) and the `window=` of `/fo/oi-change` (OI change against
//! a stored snapshot instead of the previous session's close).
//!
//! Every parameter is checked against a whitelist or a range before any SQL runs, and
//! the error names the valid values; the metric picks a column from
//! [`SeriesColumn`]'s fixed set, never from the request text. A database that is down
//! answers 503 `storage_unavailable` here while the live routes keep serving.
//!
//! A series reads a bounded number of rows, not only returns a bounded number of
//! points: SQL keeps one snapshot per interval (so a fine recording interval costs
//! nothing extra), and a request whose points times strikes could exceed
//! `max_series_rows` is refused up front (400 `range_too_large`) with the intervals and
//! the range that would fit; the read itself stops one row past the bound.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::api::AppState;
use crate::api::error::AppError;
use crate::api::error::ErrorBody;
use crate::api::error::ErrorCode;
use crate::api::extract::ApiQuery;
use crate::api::market::live::{find_expiry, find_underlying};
use crate::api::params;
use crate::history::backfill::session_open;
use crate::history::series::{BucketSeries, MoneynessSeries, moneyness_series};
use crate::instruments::registry::ExpiryInfo;
use crate::market::{ChainId, ChainView};
use crate::store::history::{SeriesColumn, SeriesPoint, SeriesRead};

/// Buckets each side of ATM when `strikes` is not given, and the most allowed.
const DEFAULT_STRIKES: u32 = 5;
const MAX_STRIKES: u32 = 20;
/// The most points one answer may hold (span / interval).
const MAX_POINTS: i64 = 5_000;
/// The longest range one request may ask for, whatever the interval.
const MAX_SPAN_DAYS: i64 = 31;
const METRICS: &[(&str, SeriesColumn)] = &[
    ("iv", SeriesColumn::Iv),
    ("delta", SeriesColumn::Delta),
    ("gamma", SeriesColumn::Gamma),
    ("theta", SeriesColumn::Theta),
    ("vega", SeriesColumn::Vega),
    ("oi", SeriesColumn::Oi),
];
const INTERVALS: &[(&str, i64)] = &[
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("30m", 1_800),
    ("1h", 3_600),
    ("1d", 86_400),
];
/// `window=` of `/fo/oi-change`: minutes back, at most a week.
const MAX_WINDOW_MINUTES: u32 = 7 * 24 * 60;

pub fn routes() -> Router<AppState> {
    Router::new().route("/fo/moneyness-series", get(moneyness))
}

/// The history routes, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(moneyness),
    components(schemas(MoneynessResponse, BucketSeries, ErrorBody))
)]
pub struct HistoryApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MoneynessQuery {
    /// Underlying name, any case.
    #[param(required = true, min_length = 1)]
    pub underlying: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[param(required = true, format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub expiry: Option<String>,
    /// One of `iv`, `delta`, `gamma`, `theta`, `vega`, `oi` (default `iv`).
    #[param(pattern = "^(iv|delta|gamma|theta|vega|oi)$")]
    pub metric: Option<String>,
    /// `call` or `put` (default `call`).
    #[param(pattern = "^(call|put)$")]
    pub side: Option<String>,
    /// Start, RFC 3339 or ms since the epoch (default: the session's open, 09:15 IST).
    #[param(schema_with = instant_schema)]
    pub from: Option<String>,
    /// End, RFC 3339 or ms since the epoch (default: now).
    #[param(schema_with = instant_schema)]
    pub to: Option<String>,
    /// One of `1m`, `5m`, `15m`, `30m`, `1h`, `1d` (default `5m`); each keeps its latest
    /// snapshot.
    #[param(pattern = "^(1m|5m|15m|30m|1h|1d)$")]
    pub interval: Option<String>,
    /// Buckets each side of ATM (0 to 20, default 5).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 20)]
    pub strikes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoneynessResponse {
    pub underlying: String,
    pub expiry: Date,
    #[schema(example = "iv")]
    pub metric: &'static str,
    #[schema(example = "call")]
    pub side: &'static str,
    #[schema(example = "5m")]
    pub interval: &'static str,
    /// RFC 3339, UTC.
    pub from: String,
    pub to: String,
    pub strikes_each_side: u32,
    /// Snapshot times, ms since the epoch (UTC).
    pub times: Vec<i64>,
    pub spot: Vec<f64>,
    /// The ATM strike at each point (the listed strike nearest that point's spot).
    pub atm_strike: Vec<f64>,
    /// `ATM-n` … `ATM` … `ATM+n`, each with its strike and value at every point.
    pub buckets: Vec<BucketSeries>,
}

/// A metric over time by moneyness bucket (ATM re-evaluated at each point).
#[utoipa::path(
    get,
    path = "/fo/moneyness-series",
    tag = "fo",
    params(MoneynessQuery),
    responses(
        (status = 200, description = "Columnar series; empty when nothing was recorded in the range", body = MoneynessResponse),
        (status = 400, description = "Missing or invalid parameter (the message lists the valid values), or `range_too_large`: the range at this interval could read more points or rows than one request may (the message names the intervals and the longest range that fit)", body = ErrorBody),
        (status = 404, description = "Unknown underlying or expiry", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn moneyness(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<MoneynessQuery>,
) -> Result<Json<MoneynessResponse>, AppError> {
    let q = query;
    let info = find_underlying(&state, q.underlying.as_deref())?;
    let expiry = find_expiry(
        info,
        q.expiry.as_deref(),
        crate::api::market::live::live_from(&state),
    )?;
    let choice = MoneynessChoices::of(&q)?;
    let interval = (choice.interval, choice.interval_secs);
    let (from, to) = time_range(q.from.as_deref(), q.to.as_deref())?;
    let (from_ms, to_ms) = (unix_ms(from), unix_ms(to));
    let interval_ms = choice.interval_secs * 1_000;
    // At least one strike per point: what is refused for that is refused before the
    // database is asked anything.
    let bound = SeriesBound {
        from,
        to,
        strikes: 1,
        max_rows: state.history.config().max_series_rows,
    };
    bound.check(interval)?;

    let expiry_text = expiry.expiry.to_string();
    let read = SeriesRead {
        underlying: &info.name,
        expiry: &expiry_text,
        is_call: choice.is_call,
        column: choice.column,
        from_ms,
        to_ms,
        interval_ms,
        strikes: (0.0, 0.0),
    };
    let points = bounded_points(&state, expiry, choice.each_side, read, bound, interval).await?;
    let series = moneyness_series(&points, from_ms, interval_ms, choice.each_side);
    let MoneynessSeries {
        times,
        spot,
        atm_strike,
        buckets,
    } = series;
    Ok(Json(MoneynessResponse {
        underlying: info.name.clone(),
        expiry: expiry.expiry,
        metric: choice.metric,
        side: choice.side,
        interval: choice.interval,
        from: rfc3339(from),
        to: rfc3339(to),
        strikes_each_side: choice.each_side,
        times,
        spot,
        atm_strike,
        buckets,
    }))
}

/// What a moneyness request asks for, each choice checked against its list.
struct MoneynessChoices {
    metric: &'static str,
    column: SeriesColumn,
    side: &'static str,
    is_call: bool,
    interval: &'static str,
    interval_secs: i64,
    each_side: u32,
}

impl MoneynessChoices {
    fn of(q: &MoneynessQuery) -> Result<Self, AppError> {
        let (metric, column) = pick("metric", q.metric.as_deref(), METRICS, "iv")?;
        let (side, is_call) = pick(
            "side",
            q.side.as_deref(),
            &[("call", true), ("put", false)],
            "call",
        )?;
        let (interval, interval_secs) = pick("interval", q.interval.as_deref(), INTERVALS, "5m")?;
        let each_side = params::count(
            "strikes",
            q.strikes.as_deref(),
            DEFAULT_STRIKES,
            0,
            MAX_STRIKES,
        )?;
        Ok(Self {
            metric,
            column,
            side,
            is_call,
            interval,
            interval_secs,
            each_side,
        })
    }
}

/// The requested range: `to` defaults to now and `from` to that day's session open;
/// `from` must come first, and the range is at most [`MAX_SPAN_DAYS`] long.
fn time_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let to = instant("to", to)?.unwrap_or_else(OffsetDateTime::now_utc);
    let from = instant("from", from)?.unwrap_or_else(|| session_open(to));
    let (from_ms, to_ms) = (unix_ms(from), unix_ms(to));
    if from_ms >= to_ms {
        return Err(bad("`from` must be before `to`".into()));
    }
    if to_ms - from_ms > MAX_SPAN_DAYS * 86_400_000 {
        return Err(bad(format!(
            "from {from} to {to} is longer than {MAX_SPAN_DAYS} days; narrow the range"
        )));
    }
    Ok((from, to))
}

/// The rows `read` names (its strikes: the band that can be ATM±`each_side` somewhere
/// in the range), or a refusal when they could be more than `bound` allows.
async fn bounded_points(
    state: &AppState,
    expiry: &ExpiryInfo,
    each_side: u32,
    mut read: SeriesRead<'_>,
    mut bound: SeriesBound,
    interval: (&'static str, i64),
) -> Result<Vec<SeriesPoint>, AppError> {
    let history = state.store.history();
    let spots = history
        .spot_range(read.underlying, read.expiry, read.from_ms, read.to_ms)
        .await?;
    let Some((lo, hi)) = spots else {
        return Ok(Vec::new());
    };
    // A strike step of slack past the extreme spots covers the nearest strike.
    let margin = f64::from(each_side + 2) * expiry.strike_step.max(0.0);
    read.strikes = (lo - margin, hi + margin);
    bound.strikes = strikes_in(expiry, read.strikes);
    bound.check(interval)?;
    history
        .series(&read, bound.max_rows)
        .await?
        .ok_or_else(|| bound.refusal(interval))
}

/// How many strikes of the expiry's listing fall in `[lo, hi]` (at least one).
fn strikes_in(expiry: &ExpiryInfo, (lo, hi): (f64, f64)) -> u64 {
    let listed = expiry
        .strikes
        .iter()
        .filter(|r| (lo..=hi).contains(&r.strike))
        .count();
    u64::try_from(listed).unwrap_or(u64::MAX).max(1)
}

/// The read bound of one series request: at most `max_rows` rows, and at most
/// [`MAX_POINTS`] points, where a request may need a row per strike in the band per
/// interval slot of the range.
#[derive(Debug, Clone, Copy)]
struct SeriesBound {
    from: OffsetDateTime,
    to: OffsetDateTime,
    strikes: u64,
    max_rows: u32,
}

impl SeriesBound {
    /// The most interval slots one request may span.
    fn max_slots(&self) -> i64 {
        let by_rows = u64::from(self.max_rows) / self.strikes;
        i64::try_from(by_rows).unwrap_or(i64::MAX).min(MAX_POINTS)
    }

    /// Interval slots of the range at `interval_secs` (both ends inclusive).
    fn slots(&self, interval_secs: i64) -> i64 {
        (unix_ms(self.to) - unix_ms(self.from)) / (interval_secs * 1_000) + 1
    }

    fn fits(&self, interval_secs: i64) -> bool {
        self.slots(interval_secs) <= self.max_slots()
    }

    /// 400 `range_too_large` unless the range at `interval` (name, seconds) fits.
    fn check(&self, interval: (&str, i64)) -> Result<(), AppError> {
        if self.fits(interval.1) {
            Ok(())
        } else {
            Err(self.refusal(interval))
        }
    }

    /// The refusal, naming what would fit: the longer intervals over this range, and
    /// the longest range at this interval.
    fn refusal(&self, (interval, secs): (&str, i64)) -> AppError {
        let fitting: Vec<&str> = INTERVALS
            .iter()
            .filter(|(_, secs)| self.fits(*secs))
            .map(|(name, _)| *name)
            .collect();
        let alternatives = if fitting.is_empty() {
            "no interval fits this range".to_string()
        } else {
            format!("over this range use interval {}", fitting.join(", "))
        };
        let longest_ms =
            ((self.max_slots() - 1).max(0) * secs * 1_000).min(MAX_SPAN_DAYS * 86_400_000);
        let start = self
            .to
            .checked_sub(time::Duration::milliseconds(longest_ms))
            .unwrap_or(self.from);
        AppError::BadRequest {
            code: ErrorCode::RangeTooLarge,
            message: format!(
                "from {} to {} at {interval} is {} points x {} strikes, more than one request \
                 may read ({MAX_POINTS} points, {} rows); {alternatives}, or at {interval} \
                 ask for at most {} (e.g. from {} to {})",
                rfc3339(self.from),
                rfc3339(self.to),
                self.slots(secs),
                self.strikes,
                self.max_rows,
                span_text(longest_ms),
                rfc3339(start),
                rfc3339(self.to),
            ),
        }
    }
}

/// A span in whole days, hours or minutes, whichever reads best.
fn span_text(ms: i64) -> String {
    let minutes = ms / 60_000;
    match minutes {
        m if m >= 2 * 1_440 => format!("{} days", m / 1_440),
        m if m >= 120 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    }
}

/// `window=` of `/fo/oi-change`: minutes back, or the previous session's last snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OiWindow {
    Minutes(u32),
    PreviousDay,
}

impl OiWindow {
    /// `None` when absent or empty (the previous close from the feed is used then).
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.eq_ignore_ascii_case("day") || text.eq_ignore_ascii_case("prev_day") {
            return Ok(Some(Self::PreviousDay));
        }
        text.strip_suffix('m')
            .unwrap_or(text)
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=MAX_WINDOW_MINUTES).contains(m))
            .map(|m| Some(Self::Minutes(m)))
            .ok_or_else(|| AppError::BadRequest {
                code: ErrorCode::InvalidParameter,
                message: format!(
                    "window {text:?} is not valid: use minutes (`15m` or `15`, 1 to \
                     {MAX_WINDOW_MINUTES}) or `day` (since the previous session)"
                ),
            })
    }

    /// The normalised text, for cache keys and answers.
    pub fn label(self) -> String {
        match self {
            Self::Minutes(m) => format!("{m}m"),
            Self::PreviousDay => "day".into(),
        }
    }

    /// The latest snapshot time the comparison may use.
    fn reference_ms(self, now: OffsetDateTime) -> i64 {
        match self {
            Self::Minutes(m) => unix_ms(now) - i64::from(m) * 60_000,
            Self::PreviousDay => unix_ms(session_open(now)) - 1,
        }
    }
}

/// The stored snapshot an OI change is measured from.
#[derive(Debug, Clone)]
pub struct OiReference {
    /// When it was taken, ms since the epoch.
    pub ts_ms: i64,
    /// Per security id: OI and last price then.
    contracts: HashMap<u32, (u64, f64)>,
}

impl OiReference {
    /// The latest snapshot of `id` at or before the window's start; 404 `no_history`
    /// when none is that old, 503 when the database is down.
    pub async fn load(state: &AppState, id: &ChainId, window: OiWindow) -> Result<Self, AppError> {
        let at = window.reference_ms(OffsetDateTime::now_utc());
        let found = state
            .store
            .history()
            .chain_at(&id.underlying, &id.expiry.to_string(), at)
            .await?;
        let Some((ts_ms, contracts)) = found else {
            return Err(AppError::NotFound {
                code: ErrorCode::NoHistory,
                message: format!(
                    "no snapshot of {} {} as old as window {}; history starts when \
                     recording does",
                    id.underlying,
                    id.expiry,
                    window.label()
                ),
            });
        };
        Ok(Self {
            ts_ms,
            contracts: contracts
                .into_iter()
                .map(|c| (c.security_id, (c.oi, c.ltp)))
                .collect(),
        })
    }

    /// Makes `view` compare against this snapshot: each contract's previous OI and
    /// close become its OI and last price then (a contract not in the snapshot shows
    /// no change), so the OI plugin's change and buildup cover the window.
    pub fn rebase(&self, view: &mut ChainView) {
        for row in &mut view.rows {
            for contract in [&mut row.call, &mut row.put].into_iter().flatten() {
                let book = &mut contract.book;
                let (oi, ltp) = self
                    .contracts
                    .get(&contract.security_id)
                    .copied()
                    .unwrap_or((book.oi, book.ltp));
                book.prev_oi = oi;
                book.prev_close = ltp;
            }
        }
    }
}

/// One of `choices` by name (any case), or `default` when absent; a 400 listing them.
fn pick<T: Copy>(
    name: &str,
    text: Option<&str>,
    choices: &[(&'static str, T)],
    default: &'static str,
) -> Result<(&'static str, T), AppError> {
    let wanted = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(default);
    choices
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
        .copied()
        .ok_or_else(|| {
            let valid: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            bad(format!(
                "{name} {wanted:?} is not valid; one of: {}",
                valid.join(", ")
            ))
        })
}

/// What [`instant`] accepts, for the document: RFC 3339, or a whole number of ms since
/// the epoch (at most 13 digits: beyond the year 2286).
fn instant_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^-?[0-9]{1,13}$")),
        )
        .into()
}

/// An instant given as RFC 3339 or as ms since the epoch.
fn instant(name: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let parsed = match text.parse::<i64>() {
        Ok(ms) => OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok(),
        Err(_) => OffsetDateTime::parse(text, &Rfc3339).ok(),
    };
    parsed.map(Some).ok_or_else(|| {
        bad(format!(
            "{name} {text:?} is not a time: use RFC 3339 (2026-11-20T09:15:00+05:30) or \
             milliseconds since the epoch"
        ))
    })
}

fn bad(message: String) -> AppError {
    AppError::BadRequest {
        code: ErrorCode::InvalidParameter,
        message,
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: AppError) -> String {
        match error {
            AppError::BadRequest { message, .. } => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn choices_are_whitelisted_and_named_in_errors() {
        assert_eq!(pick("metric", None, METRICS, "iv").unwrap().0, "iv");
        assert_eq!(
            pick("metric", Some("OI"), METRICS, "iv").unwrap().1,
            SeriesColumn::Oi
        );
        let error = message(pick("metric", Some("rho; DROP TABLE x"), METRICS, "iv").unwrap_err());
        assert!(
            error.contains("iv, delta, gamma, theta, vega, oi"),
            "{error}"
        );
        let error = message(pick("interval", Some("2m"), INTERVALS, "5m").unwrap_err());
        assert!(error.contains("1m, 5m, 15m, 30m, 1h, 1d"), "{error}");
    }

    #[test]
    fn instants_are_rfc3339_or_epoch_ms() {
        let at = instant("from", Some("2026-11-20T09:15:00+05:30"))
            .unwrap()
            .unwrap();
        assert_eq!(unix_ms(at), 1_795_146_300_000);
        let ms = instant("from", Some("1795146300000")).unwrap().unwrap();
        assert_eq!(ms, at);
        assert_eq!(instant("to", Some(" ")).unwrap(), None);
        assert!(message(instant("to", Some("yesterday")).unwrap_err()).contains("RFC 3339"));
    }

    #[test]
    fn windows_parse_minutes_and_day() {
        assert_eq!(OiWindow::parse(None).unwrap(), None);
        assert_eq!(
            OiWindow::parse(Some("15m")).unwrap(),
            Some(OiWindow::Minutes(15))
        );
        assert_eq!(
            OiWindow::parse(Some("30")).unwrap(),
            Some(OiWindow::Minutes(30))
        );
        assert_eq!(
            OiWindow::parse(Some("DAY")).unwrap(),
            Some(OiWindow::PreviousDay)
        );
        for bad in ["0", "0m", "-5", "1.5m", "week", "99999"] {
            let error = message(OiWindow::parse(Some(bad)).unwrap_err());
            assert!(error.contains("`day`"), "{bad}: {error}");
        }
        assert_eq!(OiWindow::Minutes(15).label(), "15m");
        let now = time::macros::datetime!(2026-11-20 06:00 UTC);
        assert_eq!(
            OiWindow::Minutes(15).reference_ms(now),
            unix_ms(now) - 900_000
        );
        assert_eq!(
            OiWindow::PreviousDay.reference_ms(now),
            unix_ms(time::macros::datetime!(2026-11-20 09:15 +5:30)) - 1
        );
    }

    #[test]
    fn a_range_past_the_row_bound_is_refused_naming_what_fits() {
        let from = time::macros::datetime!(2026-11-20 04:00 UTC);
        let bound = SeriesBound {
            from,
            to: from + time::Duration::hours(2),
            strikes: 21,
            max_rows: 1_000,
        };
        // 121 one-minute slots x 21 strikes is more than 1,000 rows; 47 slots fit.
        assert_eq!(bound.max_slots(), 47);
        assert!(bound.check(("5m", 300)).is_ok());
        let error = bound.check(("1m", 60)).unwrap_err();
        assert!(matches!(
            error,
            AppError::BadRequest {
                code: ErrorCode::RangeTooLarge,
                ..
            }
        ));
        let text = message(error);
        assert!(text.contains("use interval 5m, 15m, 30m, 1h, 1d"), "{text}");
        assert!(text.contains("at 1m ask for at most 46 minutes"), "{text}");
        assert!(text.contains("121 points x 21 strikes"), "{text}");
        // The points cap holds whatever the row bound.
        let wide = SeriesBound {
            strikes: 1,
            max_rows: u32::MAX,
            to: from + time::Duration::days(4),
            ..bound
        };
        assert_eq!(wide.max_slots(), MAX_POINTS);
        assert!(message(wide.check(("1m", 60)).unwrap_err()).contains("points"));
        assert_eq!(span_text(3 * 86_400_000), "3 days");
        assert_eq!(span_text(3 * 3_600_000), "3 hours");
    }
}
