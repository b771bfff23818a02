//! The one error type of HTTP handlers, its stable JSON body
//! (`{"error": {"code": "...", "message": "..."}}`, [`ErrorBody`]), and the one list of
//! error codes ([`ErrorCode`]) that the body and the WebSocket protocol's errors carry.
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

use auth::AuthError;
use plugin_host::{CallError, LoadError, RegistryError};
use store::StoreError;
use strategy::{Reason, Refusal};

/// Declares [`ErrorCode`] from one list of `Variant = "wire_name"`. Serde and the OpenAPI
/// schema name a variant by `snake_case`; [`ErrorCode::as_str`] by the literal beside it,
/// and a test checks that the two agree.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A stable, machine-readable error code. Clients branch on it; the message beside
        /// it is for humans. Codes are only ever added, never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // The request could not be read.
    MalformedJson = "malformed_json",
    MalformedQuery = "malformed_query",
    MalformedPath = "malformed_path",
    UnreadableBody = "unreadable_body",
    InvalidBody = "invalid_body",
    UnsupportedMediaType = "unsupported_media_type",
    PayloadTooLarge = "payload_too_large",
    UnknownParameter = "unknown_parameter",
    DuplicateParameter = "duplicate_parameter",
    InvalidParameter = "invalid_parameter",
    MalformedDate = "malformed_date",
    MalformedTime = "malformed_time",
    MalformedInterval = "malformed_interval",
    MalformedIfMatch = "malformed_if_match",
    MethodNotAllowed = "method_not_allowed",
    NoSuchRoute = "no_such_route",
    WrongEndpoint = "wrong_endpoint",
    WebsocketRequired = "websocket_required",
    RequestTimeout = "request_timeout",
    EncodingFailed = "encoding_failed",
    // Who is calling, and how often.
    Unauthenticated = "unauthenticated",
    Unauthorized = "unauthorized",
    TokenExpired = "token_expired",
    InvalidToken = "invalid_token",
    InvalidCredentials = "invalid_credentials",
    CannotIssueTokens = "cannot_issue_tokens",
    Forbidden = "forbidden",
    OriginNotAllowed = "origin_not_allowed",
    RateLimited = "rate_limited",
    TooManyConnections = "too_many_connections",
    TooManyChannels = "too_many_channels",
    QuotaExceeded = "quota_exceeded",
    // Market data.
    UnknownUnderlying = "unknown_underlying",
    UnknownExpiry = "unknown_expiry",
    UnknownContract = "unknown_contract",
    UnknownSecurityId = "unknown_security_id",
    InvalidSecurityId = "invalid_security_id",
    MissingUnderlying = "missing_underlying",
    MissingExpiry = "missing_expiry",
    MissingSecurityId = "missing_security_id",
    WrongUnderlying = "wrong_underlying",
    NoSpot = "no_spot",
    NoDepth = "no_depth",
    NoHistory = "no_history",
    RangeTooLarge = "range_too_large",
    InvalidTargetDate = "invalid_target_date",
    ChainUnavailable = "chain_unavailable",
    ChainNotPriced = "chain_not_priced",
    GreeksUnavailable = "greeks_unavailable",
    // Strategies and accounts.
    InvalidStrategy = "invalid_strategy",
    InvalidLeg = "invalid_leg",
    InvalidPrice = "invalid_price",
    InvalidName = "invalid_name",
    NoLegs = "no_legs",
    TooManyLegs = "too_many_legs",
    LegNotFound = "leg_not_found",
    MixedUnderlyings = "mixed_underlyings",
    NoMarketPrice = "no_market_price",
    NoIv = "no_iv",
    StrategyNotFound = "strategy_not_found",
    VersionConflict = "version_conflict",
    Conflict = "conflict",
    AccountNotFound = "account_not_found",
    InvalidAccount = "invalid_account",
    CredentialsUnavailable = "credentials_unavailable",
    // Plugins (the codes of the plugin host's own errors).
    PluginNotFound = "plugin_not_found",
    NothingToRollBackTo = "nothing_to_roll_back_to",
    EmptyUpload = "empty_upload",
    WrongWorld = "wrong_world",
    NoPluginForWorld = "no_plugin_for_world",
    PluginsBusy = "plugins_busy",
    PluginTimeout = "plugin_timeout",
    PluginBlocked = "plugin_blocked",
    PluginMemoryLimit = "plugin_memory_limit",
    PluginTrap = "plugin_trap",
    PluginResultTooLarge = "plugin_result_too_large",
    PluginMalformedOutput = "plugin_malformed_output",
    PluginInvalidInput = "plugin_invalid_input",
    PluginNumericalFailure = "plugin_numerical_failure",
    PluginUnsupported = "plugin_unsupported",
    PluginWrongWorld = "plugin_wrong_world",
    PluginScheduling = "plugin_scheduling",
    PluginUnreadable = "plugin_unreadable",
    PluginTooLarge = "plugin_too_large",
    PluginNotWasm = "plugin_not_wasm",
    PluginCoreModule = "plugin_core_module",
    PluginCompileFailed = "plugin_compile_failed",
    PluginContractMismatch = "plugin_contract_mismatch",
    PluginImportsDenied = "plugin_imports_denied",
    PluginSignatureMismatch = "plugin_signature_mismatch",
    PluginInfoFailed = "plugin_info_failed",
    PluginSelfTestFailed = "plugin_self_test_failed",
    // The WebSocket protocol.
    InvalidJson = "invalid_json",
    InvalidRequest = "invalid_request",
    UnknownAction = "unknown_action",
    UnknownChannel = "unknown_channel",
    TooManyNames = "too_many_names",
    NotSubscribed = "not_subscribed",
    BinaryNotSupported = "binary_not_supported",
    ChannelClosed = "channel_closed",
    // The server's side.
    StorageUnavailable = "storage_unavailable",
    Internal = "internal",
}

impl ErrorCode {
    /// The code of a plugin host error. The plugin host names its own errors (it also
    /// labels metrics with them); each of its names is a variant here, which a test
    /// checks, so the fallback is never taken.
    pub fn of_plugin(code: &str) -> ErrorCode {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
            .unwrap_or(ErrorCode::Internal)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    NotFound { code: ErrorCode, message: String },
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    /// Well-formed input that names something unusable (a contract that does not exist,
    /// legs on different underlyings).
    #[error("{message}")]
    Unprocessable { code: ErrorCode, message: String },
    /// The answer needs something the server does not have yet (Greeks not computed, no
    /// plugin of the needed world); retrying later may succeed.
    #[error("{message}")]
    Unavailable { code: ErrorCode, message: String },
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
    Conflict { code: ErrorCode, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request itself could not be read (bad JSON, bad query string, bad path).
    #[error("{message}")]
    Rejected {
        status: StatusCode,
        code: ErrorCode,
        message: String,
    },
    /// A bug on our side; the message is generic, the detail is logged.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            AppError::NotFound { code, .. } => (StatusCode::NOT_FOUND, *code),
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, *code),
            AppError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            AppError::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, *code),
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
                (status, ErrorCode::of_plugin(error.code()))
            }
            AppError::PluginLoad(error) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::of_plugin(error.code()),
            ),
            AppError::Registry(RegistryError::NotFound(_)) => {
                (StatusCode::NOT_FOUND, ErrorCode::PluginNotFound)
            }
            AppError::Registry(RegistryError::NothingToRollBackTo(_)) => {
                (StatusCode::CONFLICT, ErrorCode::NothingToRollBackTo)
            }
            // Holding only the public key is the server's configuration, not the
            // caller's fault: no credentials would help, so not a 401.
            AppError::Unauthorized(AuthError::CannotIssue) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::CannotIssueTokens,
            ),
            AppError::Unauthorized(error) => (
                StatusCode::UNAUTHORIZED,
                match error {
                    AuthError::Missing => ErrorCode::Unauthenticated,
                    AuthError::Expired => ErrorCode::TokenExpired,
                    AuthError::Invalid(_) | AuthError::CannotIssue => ErrorCode::InvalidToken,
                },
            ),
            AppError::BadCredentials => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            AppError::Store(StoreError::Conflict(_)) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            // Refused, not failed: retrying cannot succeed until the caller deletes
            // something (or the operator raises the quota), so neither 409 nor 429.
            AppError::Store(StoreError::QuotaExceeded { .. }) => {
                (StatusCode::FORBIDDEN, ErrorCode::QuotaExceeded)
            }
            AppError::Store(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StorageUnavailable,
            ),
            AppError::Rejected { status, code, .. } => (*status, *code),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
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

/// A strategy the domain refused: each reason is one code, and its status says whose
/// fault it is (the caller's request, a contract that does not exist, or a market not
/// ready yet).
impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        let Refusal { reason, message } = refusal;
        let code = match reason {
            Reason::InvalidStrategy => ErrorCode::InvalidStrategy,
            Reason::NoLegs => ErrorCode::NoLegs,
            Reason::MalformedDate => ErrorCode::MalformedDate,
            Reason::InvalidTargetDate => ErrorCode::InvalidTargetDate,
            Reason::MixedUnderlyings => ErrorCode::MixedUnderlyings,
            Reason::UnknownContract | Reason::UnusableContract => ErrorCode::UnknownContract,
            Reason::NoMarketPrice => ErrorCode::NoMarketPrice,
            Reason::NoIv => ErrorCode::NoIv,
            Reason::UnknownChain => ErrorCode::UnknownExpiry,
            Reason::ChainUnavailable => ErrorCode::ChainUnavailable,
            Reason::GreeksUnavailable => ErrorCode::GreeksUnavailable,
            Reason::NoSpot => ErrorCode::NoSpot,
            Reason::Corrupt => ErrorCode::Internal,
        };
        match reason {
            Reason::MalformedDate => AppError::BadRequest { code, message },
            // A reference to what does not exist, like any other.
            Reason::UnknownContract | Reason::UnknownChain => AppError::NotFound { code, message },
            Reason::InvalidStrategy
            | Reason::NoLegs
            | Reason::InvalidTargetDate
            | Reason::MixedUnderlyings
            | Reason::UnusableContract
            | Reason::NoMarketPrice
            | Reason::NoIv => AppError::Unprocessable { code, message },
            Reason::ChainUnavailable | Reason::GreeksUnavailable | Reason::NoSpot => {
                AppError::Unavailable { code, message }
            }
            Reason::Corrupt => AppError::Internal(message),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code, message) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                rejection.body_text(),
            ),
            JsonRejection::JsonDataError(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidBody,
                rejection.body_text(),
            ),
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "the body must be JSON, sent with `Content-Type: application/json`".into(),
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                rejection.body_text(),
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                ErrorCode::UnreadableBody,
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
            code: ErrorCode::MalformedQuery,
            message: format!("the query string is not valid: {}", rejection.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Rejected {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::MalformedPath,
            message: rejection.body_text(),
        }
    }
}

/// What the log says of an error answer: its code and the full detail, which for a
/// failing dependency or a bug is more than the body tells the client.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub code: ErrorCode,
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

/// The JSON body of every error answer, as sent and as documented.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For humans; may list the valid values.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn each_code_is_sent_as_its_wire_name_and_named_once() {
        let mut names = BTreeSet::new();
        for code in ErrorCode::ALL {
            let sent = serde_json::to_value(code).unwrap();
            assert_eq!(sent, code.as_str(), "{code:?}");
            assert!(names.insert(code.as_str()), "{} twice", code.as_str());
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{} is not snake_case",
                code.as_str()
            );
        }
    }

    /// Every code the plugin host gives its errors (read from its source, as the metric
    /// catalog's test reads metric names) is an [`ErrorCode`], so `of_plugin` never
    /// falls back to `internal`.
    #[test]
    fn every_plugin_host_error_code_is_an_error_code() {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../plugin-host/src/error.rs"
        ))
        .unwrap();
        let mut found = 0;
        for function in source.split("pub fn code(&self)").skip(1) {
            let body = &function[..function.find("\n    }\n").unwrap()];
            for quoted in body.split('"').skip(1).step_by(2) {
                found += 1;
                assert_eq!(ErrorCode::of_plugin(quoted).as_str(), quoted);
            }
        }
        assert!(found > 20, "the scan found the codes: {found}");
    }

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
            what: store::quota::Owned::Accounts,
            limit: 2,
        };
        let (status, body) = body_of(AppError::Store(quota)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("you already have 2 accounts"), "{body}");
    }
}
