//! `/strategies` (saved): a user's strategies, their legs and their M2M history.
//!
//! Every route is scoped to the caller: another user's strategy id is a 404, never a
//! 403, so ids reveal nothing. Every write answers only after its transaction commits.
//! Edits are serialized by the strategy's `version` (see `store::strategies`); a client
//! that sends `If-Match: <version>` gets a 409 instead of overwriting an edit it has not
//! seen. Legs must name a contract the registry knows, on the strategy's underlying.
//!
//! What one user may hold is capped: saved strategies per tier (403 `quota_exceeded`)
//! and legs per strategy (422 `too_many_legs`), both checked inside the write's
//! transaction so concurrent requests cannot overshoot them together.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};

use crate::api::AppState;
use crate::api::error::ErrorBody;
use crate::api::error::{AppError, ErrorCode};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::api::strategies::body::{
    AddLeg, CreateStrategy, LegResponse, M2mPoint, M2mSeries, PatchStrategy, SeriesQuery, Status,
    StrategyResponse, check_leg_count, downsample, parse_interval, parse_time, too_many_legs,
};
use crate::auth::Principal;
use crate::plugins::PluginStamp;
use crate::portfolio::{LegM2m, M2mUpdate, Money};
use crate::store::now_ms;
use crate::store::strategies::Side;
use crate::store::strategies::{NewLeg, NewStrategy, StrategyPatch, StrategyRow, WriteError};

pub use crate::api::strategies::body::rfc3339;

/// Most raw M2M points one time-series answer reads.
const MAX_SERIES_POINTS: i64 = 20_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/strategies", get(list).post(create))
        .route("/strategies/{id}", get(detail).patch(update).delete(remove))
        .route("/strategies/{id}/instruments", post(add_leg))
        .route("/strategies/{id}/instruments/{leg_id}", delete(remove_leg))
        .route("/strategies/{id}/m2m/timeseries", get(timeseries))
}

#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(create, list, detail, update, remove, add_leg, remove_leg, timeseries),
    components(schemas(
        CreateStrategy,
        PatchStrategy,
        Status,
        AddLeg,
        StrategyResponse,
        LegResponse,
        M2mUpdate,
        LegM2m,
        Money,
        M2mSeries,
        M2mPoint,
        Side,
        PluginStamp,
        ErrorBody
    ))
)]
pub struct SavedStrategiesApi;

/// A name: at most 100 characters, not all blank, no control characters; stored trimmed.
pub fn check_name(field: &str, name: &str) -> Result<String, AppError> {
    // The limits are the documented schema's, on the name as sent (before trimming).
    let unusable = name.chars().count() > 100 || name.chars().any(char::is_control);
    let name = name.trim();
    if name.is_empty() || unusable {
        return Err(AppError::Unprocessable {
            code: ErrorCode::InvalidName,
            message: format!("{field} must be 1 to 100 printable characters"),
        });
    }
    Ok(name.to_string())
}

fn no_strategy(id: i64) -> AppError {
    AppError::NotFound {
        code: ErrorCode::StrategyNotFound,
        message: format!("you have no strategy {id}"),
    }
}

fn write_error(id: i64, error: WriteError) -> AppError {
    match error {
        WriteError::Missing("strategy") => no_strategy(id),
        WriteError::Missing("leg") => AppError::NotFound {
            code: ErrorCode::LegNotFound,
            message: format!("strategy {id} has no such leg"),
        },
        WriteError::Missing(what) => AppError::NotFound {
            code: ErrorCode::AccountNotFound,
            message: format!("you have no such {what}"),
        },
        WriteError::TooManyLegs => too_many_legs(),
        WriteError::Stale { expected, current } => AppError::Conflict {
            code: ErrorCode::VersionConflict,
            message: format!(
                "strategy {id} is at version {current}, not {expected} (If-Match): it changed \
                 since you read it; read it again and retry"
            ),
        },
        WriteError::Store(error) => error.into(),
    }
}

/// The version named by `If-Match` (`3`, `"3"` or `W/"3"`), if any.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(version_tag)
        .map(Some)
        .ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::MalformedIfMatch,
            message: "If-Match must be a strategy version, e.g. \"3\"".into(),
        })
}

/// What `If-Match` accepts: a version as the `ETag` gives it (`"3"`), bare (`3`) or weak
/// (`W/"3"`): exactly the `pattern` the routes document, `^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$`.
fn version_tag(value: &str) -> Option<i64> {
    let value = value.strip_prefix("W/").unwrap_or(value);
    let digits = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let ok = (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| digits.parse().ok()).flatten()
}

/// The strategy as JSON, with its version as the `ETag`.
fn answer(state: &AppState, status: StatusCode, row: StrategyRow) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", row.version)).ok();
    let latest = state.m2m.latest(row.id);
    let registry = state.market.registry();
    let symbol = |id: i64| {
        u32::try_from(id)
            .ok()
            .and_then(|id| registry.derivative(id))
            .map(|i| i.symbol.clone())
    };
    let body = StrategyResponse::new(row, symbol, latest.as_deref());
    let mut response = (status, Json(body)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Creates a strategy (no legs yet).
#[utoipa::path(
    post,
    path = "/strategies",
    tag = "strategies",
    request_body(content = CreateStrategy, content_type = "application/json"),
    responses(
        (status = 201, description = "Created (and committed)", body = StrategyResponse),
        (status = 403, description = "`quota_exceeded`: the caller already holds as many saved strategies as their tier allows (free 50, pro 1,000 by default); nothing was created", body = ErrorBody),
        (status = 404, description = "The caller has no such account (`account_not_found`), or the underlying is not tracked (`unknown_underlying`)", body = ErrorBody),
        (status = 422, description = "A bad name", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiJson(body): ApiJson<CreateStrategy>,
) -> Result<Response, AppError> {
    let name = check_name("name", &body.name)?;
    let underlying = state
        .market
        .registry()
        .underlying(body.underlying.trim())
        .map(|u| u.name.clone())
        .ok_or_else(|| AppError::NotFound {
            code: ErrorCode::UnknownUnderlying,
            message: format!("{:?} is not a tracked underlying", body.underlying),
        })?;
    let quota = state.settings.quotas.strategies(caller.tier);
    let row = state
        .store
        .strategies()
        .create_within_quota(
            NewStrategy {
                owner: &caller.user,
                name: &name,
                underlying: &underlying,
                account_id: body.account_id,
            },
            quota,
        )
        .await
        .map_err(|e| write_error(0, e))?;
    Ok(answer(&state, StatusCode::CREATED, row))
}

/// The caller's strategies.
#[utoipa::path(
    get,
    path = "/strategies",
    tag = "strategies",
    responses((status = 200, description = "Oldest first, with legs and latest M2M", body = [StrategyResponse]))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<StrategyResponse>>, AppError> {
    let rows = state.store.strategies().list(&caller.user).await?;
    let registry = state.market.registry();
    let symbol = |id: i64| {
        u32::try_from(id)
            .ok()
            .and_then(|id| registry.derivative(id))
            .map(|i| i.symbol.clone())
    };
    Ok(Json(
        rows.into_iter()
            .map(|row| {
                let latest = state.m2m.latest(row.id);
                StrategyResponse::new(row, symbol, latest.as_deref())
            })
            .collect(),
    ))
}

/// One of the caller's strategies.
#[utoipa::path(
    get,
    path = "/strategies/{id}",
    tag = "strategies",
    params(("id" = i64, Path, description = "Strategy id")),
    responses(
        (status = 200, description = "The strategy; `ETag` is its version", body = StrategyResponse),
        (status = 404, description = "The caller has no such strategy", body = ErrorBody),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, AppError> {
    let row = state.store.strategies().get(&caller.user, id).await?;
    let row = row.ok_or_else(|| no_strategy(id))?;
    Ok(answer(&state, StatusCode::OK, row))
}

/// Renames, regroups, closes or reopens a strategy.
#[utoipa::path(
    patch,
    path = "/strategies/{id}",
    tag = "strategies",
    params(
        ("id" = i64, Path, description = "Strategy id"),
        ("If-Match" = Option<String>, Header, description = "The version last read (`\"3\"`, `3` or `W/\"3\"`); 409 if it changed since", pattern = r#"^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$"#),
    ),
    request_body(content = PatchStrategy, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated (and committed)", body = StrategyResponse),
        (status = 404, description = "No such strategy or account", body = ErrorBody),
        (status = 409, description = "Stale If-Match version", body = ErrorBody),
        (status = 422, description = "A bad field", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchStrategy>,
) -> Result<Response, AppError> {
    let expected = if_match(&headers)?;
    let patch = StrategyPatch {
        name: body
            .name
            .as_deref()
            .map(|n| check_name("name", n))
            .transpose()?,
        account_id: body.account_id,
        status: body.status.map(Into::into),
    };
    let row = state
        .store
        .strategies()
        .update(&caller.user, id, &patch, expected)
        .await
        .map_err(|e| write_error(id, e))?;
    Ok(answer(&state, StatusCode::OK, row))
}

/// Deletes a strategy, its legs and its M2M history.
#[utoipa::path(
    delete,
    path = "/strategies/{id}",
    tag = "strategies",
    params(
        ("id" = i64, Path, description = "Strategy id"),
        ("If-Match" = Option<String>, Header, description = "The version last read (`\"3\"`, `3` or `W/\"3\"`); 409 if it changed since", pattern = r#"^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$"#),
    ),
    responses(
        (status = 204, description = "Deleted (and committed)"),
        (status = 404, description = "The caller has no such strategy", body = ErrorBody),
        (status = 409, description = "Stale If-Match version", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    let expected = if_match(&headers)?;
    state
        .store
        .strategies()
        .delete(&caller.user, id, expected)
        .await
        .map_err(|e| write_error(id, e))?;
    state.m2m.forget(id);
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a leg.
#[utoipa::path(
    post,
    path = "/strategies/{id}/instruments",
    tag = "strategies",
    params(
        ("id" = i64, Path, description = "Strategy id"),
        ("If-Match" = Option<String>, Header, description = "The version last read (`\"3\"`, `3` or `W/\"3\"`); 409 if it changed since", pattern = r#"^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$"#),
    ),
    request_body(content = AddLeg, content_type = "application/json"),
    responses(
        (status = 201, description = "Added (and committed); the whole strategy", body = StrategyResponse),
        (status = 400, description = "Not JSON, or a malformed entry_time", body = ErrorBody),
        (status = 404, description = "The caller has no such strategy, or no contract has that security id (`unknown_contract`)", body = ErrorBody),
        (status = 409, description = "Stale If-Match version, or a contract on another underlying than the strategy's (`wrong_underlying`)", body = ErrorBody),
        (status = 422, description = "A float or malformed or off-tick price, a wrong side, or `too_many_legs` (20 per strategy, checked as the leg is written)", body = ErrorBody),
    )
)]
pub async fn add_leg(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AddLeg>,
) -> Result<Response, AppError> {
    let expected = if_match(&headers)?;
    let entry_time_ms = body.validate(now_ms())?;
    let strategies = state.store.strategies();
    let current = strategies
        .get(&caller.user, id)
        .await?
        .ok_or_else(|| no_strategy(id))?;
    // An early answer for the common case; the store checks again as it writes.
    check_leg_count(&current)?;
    let registry = state.market.registry();
    let contract = registry
        .derivative(body.security_id)
        .ok_or_else(|| AppError::NotFound {
            code: ErrorCode::UnknownContract,
            message: format!("no F&O contract has security id {}", body.security_id),
        })?;
    let on = registry
        .underlying(&contract.underlying)
        .map(|u| u.name.as_str());
    if on != Some(current.underlying.as_str()) {
        // The leg is fine on its own; it conflicts with the strategy as it stands.
        return Err(AppError::Conflict {
            code: ErrorCode::WrongUnderlying,
            message: format!(
                "security id {} ({}) is not on {}, the strategy's underlying",
                body.security_id, contract.symbol, current.underlying
            ),
        });
    }
    let leg = NewLeg {
        security_id: i64::from(body.security_id),
        side: body.side,
        lots: i64::from(body.lots),
        entry_price_paise: body.entry_price.paise(),
        entry_time_ms,
    };
    let (row, _) = strategies
        .add_leg(&caller.user, id, leg, expected)
        .await
        .map_err(|e| write_error(id, e))?;
    Ok(answer(&state, StatusCode::CREATED, row))
}

/// Removes a leg.
#[utoipa::path(
    delete,
    path = "/strategies/{id}/instruments/{leg_id}",
    tag = "strategies",
    params(
        ("id" = i64, Path, description = "Strategy id"),
        ("leg_id" = i64, Path, description = "Leg id"),
        ("If-Match" = Option<String>, Header, description = "The version last read (`\"3\"`, `3` or `W/\"3\"`); 409 if it changed since", pattern = r#"^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$"#),
    ),
    responses(
        (status = 200, description = "Removed (and committed); the whole strategy", body = StrategyResponse),
        (status = 404, description = "No such strategy or leg", body = ErrorBody),
        (status = 409, description = "Stale If-Match version", body = ErrorBody),
    )
)]
pub async fn remove_leg(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath((id, leg_id)): ApiPath<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let expected = if_match(&headers)?;
    let row = state
        .store
        .strategies()
        .remove_leg(&caller.user, id, leg_id, expected)
        .await
        .map_err(|e| write_error(id, e))?;
    Ok(answer(&state, StatusCode::OK, row))
}

/// The strategy's M2M history, as the worker recorded it.
#[utoipa::path(
    get,
    path = "/strategies/{id}/m2m/timeseries",
    tag = "strategies",
    params(("id" = i64, Path, description = "Strategy id"), SeriesQuery),
    responses(
        (status = 200, description = "Points, oldest first", body = M2mSeries),
        (status = 400, description = "A malformed time or interval", body = ErrorBody),
        (status = 404, description = "The caller has no such strategy", body = ErrorBody),
    )
)]
pub async fn timeseries(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<SeriesQuery>,
) -> Result<Json<M2mSeries>, AppError> {
    let from = query
        .from
        .as_deref()
        .map(|t| parse_time("from", t))
        .transpose()?
        .unwrap_or(0);
    let to = query
        .to
        .as_deref()
        .map(|t| parse_time("to", t))
        .transpose()?
        .unwrap_or_else(now_ms);
    let interval = query.interval.as_deref().map(parse_interval).transpose()?;
    let rows = state
        .store
        .m2m()
        .series(&caller.user, id, from, to, MAX_SERIES_POINTS + 1)
        .await?
        .ok_or_else(|| no_strategy(id))?;
    let truncated = rows.len() > usize::try_from(MAX_SERIES_POINTS).unwrap_or(usize::MAX);
    let rows = &rows[..rows
        .len()
        .min(usize::try_from(MAX_SERIES_POINTS).unwrap_or(0))];
    let rows = match interval {
        Some(secs) => downsample(
            rows,
            |r| r.at_ms,
            i64::try_from(secs.saturating_mul(1_000)).unwrap_or(i64::MAX),
        ),
        None => rows.to_vec(),
    };
    Ok(Json(M2mSeries {
        strategy_id: id,
        interval_secs: interval,
        points: rows
            .into_iter()
            .map(|r| M2mPoint {
                at: rfc3339(r.at_ms),
                at_ms: r.at_ms,
                m2m: Money::from_paise(r.m2m_paise),
                strategy_version: r.strategy_version,
            })
            .collect(),
        truncated,
    }))
}

#[cfg(test)]
mod tests {
    use super::version_tag;

    #[test]
    fn if_match_takes_exactly_the_documented_forms() {
        for (text, version) in [("3", 3), ("\"3\"", 3), ("W/\"42\"", 42), ("W/7", 7)] {
            assert_eq!(version_tag(text), Some(version), "{text}");
        }
        for bad in [
            "",
            "\"\"",
            "-3",
            "+3",
            "\"3",
            "3\"",
            " 3",
            "W/W/\"3\"",
            "x",
            "1234567890123456789",
        ] {
            assert_eq!(version_tag(bad), None, "{bad:?}");
        }
    }
}
