//! The one error type of HTTP handlers, and its stable JSON body:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Handlers return `Result<_, AppError>`; each variant maps to one status code. The
//! response carries an [`ErrorReport`] extension with what the log needs, and the API's
//! error-logging middleware logs it once, at the boundary, inside the request's span
//! (`api::error_log`). A failing dependency is named in the
//! body, never described: its raw error text (addresses, driver messages) goes to the
//! log only.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::plugins::{CallError, LoadError, RegistryError};
use crate::store::StoreError;

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
    /// No valid credentials: 401 with `WWW-Authenticate: Bearer`.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    /// Over the rate limit; the rate-limit headers are added by the limiter.
    #[error("rate limit exceeded: {limit} requests per minute; retry in {retry_after_secs} s")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request itself could not be read (bad JSON, bad query string, bad path).
    #[error("{message}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// A bug on our side; the message is generic, the detail is logged.
    #[error("internal error")]
    Internal(String),
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
                    CallError::NoPluginForWorld { .. } | CallError::Busy { .. } => {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
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
            // Holding only the public key is the server's configuration, not the
            // caller's fault: no credentials would help, so not a 401.
            AppError::Unauthorized(AuthError::CannotIssue) => {
                (StatusCode::SERVICE_UNAVAILABLE, "cannot_issue_tokens")
            }
            AppError::Unauthorized(error) => (
                StatusCode::UNAUTHORIZED,
                match error {
                    AuthError::Missing => "unauthenticated",
                    AuthError::Expired => "token_expired",
                    AuthError::Invalid(_) | AuthError::CannotIssue => "invalid_token",
                },
            ),
            AppError::BadCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::Store(StoreError::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            // Refused, not failed: retrying cannot succeed until the caller deletes
            // something (or the operator raises the quota), so neither 409 nor 429.
            AppError::Store(StoreError::QuotaExceeded { .. }) => {
                (StatusCode::FORBIDDEN, "quota_exceeded")
            }
            AppError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable"),
            AppError::Rejected { status, code, .. } => (*status, code),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl AppError {
    /// The body's message: the error's own text, except for a failing dependency, which
    /// is only named (the detail goes to the log through [`ErrorReport`]). A store error that is the
    /// caller's (a conflict, a quota) keeps its text.
    fn public_message(&self) -> String {
        match self {
            AppError::Store(_) if self.status_and_code().0.is_server_error() => {
                "the database is unavailable; retry later (the server log has the detail)".into()
            }
            _ => self.to_string(),
        }
    }
}

// The one mapping of axum's extractor rejections (plain text) to the API's error shape;
// the extractors in `api::extract` and the helpers in `api::params` both come here.

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code, message) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                rejection.body_text(),
            ),
            JsonRejection::JsonDataError(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                rejection.body_text(),
            ),
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, sent with `Content-Type: application/json`".into(),
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                rejection.body_text(),
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                rejection.body_text(),
            ),
        };
        AppError::Rejected {
            status,
            code,
            message,
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Rejected {
            status: StatusCode::BAD_REQUEST,
            code: "malformed_query",
            message: format!("the query string is not valid: {}", rejection.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Rejected {
            status: StatusCode::BAD_REQUEST,
            code: "malformed_path",
            message: rejection.body_text(),
        }
    }
}

/// What the log says of an error answer: its code and the full detail, which for a
/// failing dependency or a bug is more than the body tells the client.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub code: &'static str,
    pub detail: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let report = ErrorReport {
            code,
            detail: match &self {
                AppError::Internal(detail) => detail.clone(),
                _ => self.to_string(),
            },
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.public_message(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(report);
        match self {
            AppError::Unauthorized(AuthError::CannotIssue) => {}
            AppError::Unauthorized(_) | AppError::BadCredentials => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"optionhub\""),
                );
            }
            AppError::RateLimited {
                retry_after_secs, ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// The JSON body of every error, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorInfo,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorInfo {
    /// Stable, machine-readable: `unknown_underlying`, `rate_limited`, `invalid_token`, …
    pub code: String,
    /// For humans; may list the valid values.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: AppError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_failing_database_is_named_not_described() {
        let raw = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connect to db-7.internal:5432 refused",
        );
        let (status, body) = body_of(AppError::Store(StoreError::Unavailable(sqlx::Error::Io(
            raw,
        ))))
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("storage_unavailable") && body.contains("database"),
            "{body}"
        );
        assert!(
            !body.contains("db-7.internal") && !body.contains("refused"),
            "{body}"
        );
        let (status, body) = body_of(AppError::Store(StoreError::Corrupt(
            "row 17: bad leg".into(),
        )))
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body.contains("row 17"), "{body}");
        // A conflict is the caller's business, not a failing dependency: said as is.
        let (status, body) =
            body_of(AppError::Store(StoreError::Conflict("user \"ops\"".into()))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("already exists"), "{body}");
        // So is a quota.
        let quota = StoreError::QuotaExceeded {
            what: crate::store::quota::Owned::Accounts,
            limit: 2,
        };
        let (status, body) = body_of(AppError::Store(quota)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("you already have 2 accounts"), "{body}");
    }
}
