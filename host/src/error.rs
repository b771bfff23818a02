//! The one error type of HTTP handlers, and its stable JSON body:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Handlers return `Result<_, AppError>`; each variant maps to one status code, and the
//! error is logged once, here, at the boundary.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::plugins::{CallError, LoadError, RegistryError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Well-formed input that names something unusable (a contract that does not exist,
    /// legs on different underlyings).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// The answer needs something the server does not have yet (Greeks not computed, no
    /// plugin of the needed world); retrying later may succeed.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    PluginLoad(#[from] LoadError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(serde::Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            AppError::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            AppError::Plugin(error) => {
                let status = match error {
                    CallError::NotFound { .. } => StatusCode::NOT_FOUND,
                    CallError::InvalidInput { .. } | CallError::Unsupported { .. } => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    CallError::WrongWorld { .. } => StatusCode::BAD_REQUEST,
                    CallError::NoPluginForWorld { .. } => StatusCode::SERVICE_UNAVAILABLE,
                    CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                (status, error.code())
            }
            AppError::PluginLoad(error) => (StatusCode::UNPROCESSABLE_ENTITY, error.code()),
            AppError::Registry(RegistryError::NotFound(_)) => {
                (StatusCode::NOT_FOUND, "plugin_not_found")
            }
            AppError::Registry(RegistryError::NothingToRollBackTo(_)) => {
                (StatusCode::CONFLICT, "nothing_to_roll_back_to")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(%status, code, error = %self, "request failed");
        } else {
            tracing::debug!(%status, code, error = %self, "request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        (status, Json(body)).into_response()
    }
}
