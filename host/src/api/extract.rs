//! Extractors that answer bad input with the API's JSON error shape (axum's own answer
//! with plain text). Handlers that take a body or path parameters use these; query
//! strings go through `params::query` (same mapping, in `AppError`'s `From` impls).

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// A JSON body; a syntax error, a wrong type, a missing field or a wrong content type is
/// a 4xx with `{"error": {...}}`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
