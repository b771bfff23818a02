//! `POST /auth/login`: user name and password in, access token out.
//!
//! Two budgets guard it: one per client address (spent by the route's gate) and one per
//! user name (spent here, before the database or the hash is touched). Password checks
//! run a bounded number at once ([`crate::auth::PasswordChecks`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extract::ApiJson;
use crate::api::error::{AppError, ErrorBody};
use crate::auth::{Role, Tier};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: String,
    pub role: Role,
    pub tier: Tier,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/login", post(login))
}

/// A hash of a password nobody has, verified when the user does not exist (or has no
/// password) so that "no such user" and "wrong password" take the same time.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let secret = hex::encode(rand::random::<[u8; 16]>());
    crate::auth::hash_password(&secret).unwrap_or_default()
});

/// Log in.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "An access token", body = LoginResponse),
        (status = 401, description = "Wrong user name or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or for this user", body = ErrorBody),
    ),
    security(())
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Response {
    let decision = state.limits.check_login_user(&request.username);
    if !decision.allowed {
        tracing::warn!(user = %request.username, "login attempts for this user over the limit");
        return super::access::refused(&decision);
    }
    authenticate(&state, request).await.into_response()
}

async fn authenticate(
    state: &AppState,
    request: LoginRequest,
) -> Result<Json<LoginResponse>, AppError> {
    let user = state.store.users().get(&request.username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // argon2 is deliberately slow: off the async workers, a bounded number at once.
    let matches = state
        .limits
        .password_checks()
        .verify(request.password, move || {
            stored.unwrap_or_else(|| DECOY_HASH.clone())
        })
        .await
        .ok_or_else(|| AppError::Internal("password check panicked".into()))?;
    let Some(user) = user.filter(|u| matches && u.password_hash.is_some()) else {
        tracing::info!(user = %request.username, "login refused");
        return Err(AppError::BadCredentials);
    };
    let principal = user.principal();
    let access_token = state.tokens.issue(&principal)?;
    tracing::info!(user = %principal.user, role = %principal.role, "login");
    Ok(Json(LoginResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl().as_secs(),
        user: principal.user,
        role: principal.role,
        tier: principal.tier,
    }))
}
