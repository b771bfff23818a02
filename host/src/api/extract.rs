//! Extractors that answer bad input with the API's JSON error shape (axum's own answer
//! with plain text): every handler takes its body, path and query string through these
//! (the rejections are mapped in `AppError`'s `From` impls).
//!
//! A JSON body's integral numbers are integers whatever their spelling: `3.0` is `3`
//! (RFC 8259 numbers have no separate integer type, and JSON Schema's `integer` accepts
//! `3.0`), so a field documented as an integer takes it as a client generated from the
//! document may send it.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::error::{AppError, ErrorCode};

/// A JSON body; a syntax error, a wrong type, a missing field or a wrong content type is
/// a 4xx with `{"error": {...}}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(request, state).await?;
        integral_to_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|error| AppError::Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: ErrorCode::InvalidBody,
                message: format!("the body is not of the documented shape: {error}"),
            })
    }
}

/// Rewrites every float with no fractional part that fits an `i64` as that integer.
fn integral_to_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "integral and within ±2^53, so exact"
                )]
                let integer = float as i64;
                *number = integer.into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_to_integers),
        Value::String(_) | Value::Bool(_) | Value::Null => {}
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// A query string.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_become_integers_and_nothing_else_changes() {
        let mut value = serde_json::json!({
            "a": -14173.0, "b": [1.0, 1.5, 2], "c": "3.0", "d": 1e300, "e": null
        });
        integral_to_integers(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": -14173, "b": [1, 1.5, 2], "c": "3.0", "d": 1e300, "e": null})
        );
        assert!(value["a"].is_i64());
    }
}
