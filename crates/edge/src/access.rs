//! Who is calling, as both APIs check it: the bearer token of a request, the principal
//! and role it carries, and the 429 for a spent request budget. The gates that apply
//! them to route groups are the REST API's; the WebSocket upgrades call them directly.

use auth::{AuthError, Principal, Role, TokenService};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::rate_limit::Decision;

/// The bearer token of a request, if it sent one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks a token and the role it carries.
pub fn authorize(
    tokens: &TokenService,
    token: Option<&str>,
    needed: Role,
) -> Result<Principal, AppError> {
    authorize_expiring(tokens, token, needed).map(|(principal, _)| principal)
}

/// [`authorize`], with the token's expiry (seconds since the epoch).
pub fn authorize_expiring(
    tokens: &TokenService,
    token: Option<&str>,
    needed: Role,
) -> Result<(Principal, i64), AppError> {
    let token = token.ok_or(AuthError::Missing)?;
    let (principal, expires_at) = tokens.verify_expiring(token)?;
    if principal.may(needed) {
        Ok((principal, expires_at))
    } else {
        Err(AppError::Forbidden(format!(
            "this needs the {needed} role; {} is {}",
            principal.user, principal.role
        )))
    }
}

/// The rate-limit key of an anonymous caller: its client address, in a form no user
/// name can take (names have no spaces).
pub fn anonymous_key(address: &str) -> String {
    format!("anonymous {address}")
}

/// The 429 for a spent budget, with its headers.
pub fn refused(decision: &Decision) -> Response {
    let mut response = AppError::RateLimited {
        limit: decision.limit,
        retry_after_secs: decision.retry_after_secs,
    }
    .into_response();
    decision.write_headers(response.headers_mut());
    response
}
