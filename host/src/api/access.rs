//! The gate in front of every protected route group: authenticate the bearer token,
//! check the role the group needs, spend from the caller's request budget, and stamp
//! the rate-limit headers on the answer.
//!
//! Order matters: a request with a bad token is refused before it costs anyone budget,
//! and a caller over budget is refused before the handler runs.
//!
//! With `--public-market-data` the market-data group is behind [`public_gate`] instead:
//! a request without a token is served as an anonymous viewer on the free budget of its
//! client address (so one address cannot take more than a free user could); a request
//! that sends a token is checked as anywhere else, and a bad one is still a 401.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::auth::{Role, Tier};
pub use edge::access::{anonymous_key, authorize, authorize_expiring, bearer_token, refused};

use super::client_address;

/// Middleware for a route group needing `role`: use with
/// `middleware::from_fn_with_state((state, role), gate)`.
pub async fn gate(
    State((state, role)): State<(AppState, Role)>,
    mut request: Request,
    next: Next,
) -> Response {
    let principal = match authorize(&state.tokens, bearer_token(request.headers()), role) {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    request.extensions_mut().insert(principal.clone());
    spend(&state, &principal.user, principal.tier, request, next).await
}

/// Spends from `key`'s budget on `tier`, then runs the handler and stamps the headers.
async fn spend(state: &AppState, key: &str, tier: Tier, request: Request, next: Next) -> Response {
    let decision = state.limits.check(request.uri().path(), key, tier);
    if !decision.allowed {
        tracing::debug!(caller = %key, path = %request.uri().path(), "rate limited");
        return refused(&decision);
    }
    let mut response = next.run(request).await;
    decision.write_headers(response.headers_mut());
    response
}

/// Middleware for the market-data group under `--public-market-data`: with a token,
/// [`gate`] for viewers; without one, an anonymous caller keyed by its address.
pub async fn public_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION) {
        return gate(State((state, Role::Viewer)), request, next).await;
    }
    let key = anonymous_key(&client_address::of(&request));
    spend(&state, &key, Tier::Free, request, next).await
}

/// Middleware for the login route: a strict budget per client address (the budget per
/// user name is spent by the handler, which has read the name).
pub async fn login_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = client_address::of(&request);
    let decision = state.limits.check_login(&address);
    if !decision.allowed {
        tracing::warn!(%address, "login attempts over the limit");
        return refused(&decision);
    }
    let mut response = next.run(request).await;
    // A refusal by the per-user budget carries its own headers.
    if response.status() != axum::http::StatusCode::TOO_MANY_REQUESTS {
        decision.write_headers(response.headers_mut());
    }
    response
}
