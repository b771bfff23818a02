//! The HTTP side of the WebSocket routes: authenticate, then upgrade with small
//! buffers. The upgrade does not spend from the caller's request budget (one user may
//! hold many connections, as a load generator does); each connection's channels are
//! capped by tier instead.
//!
//! Authentication happens before the upgrade, so a bad or missing token is an ordinary
//! HTTP 401 with the JSON error body. Browsers cannot set headers on a WebSocket, so the
//! token may come as the `token` query parameter or as a subprotocol
//! (`Sec-WebSocket-Protocol: bearer, <token>`, or the token alone); the accepted
//! subprotocol is echoed back, as browsers require. An `Authorization: Bearer` header
//! works too, for other clients.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::channel::Endpoint;
use super::session;
use crate::api::AppState;
use crate::api::access::{authorize, bearer_token};
use crate::auth::Role;
use crate::error::AppError;

/// Largest message a client may send (requests are small JSON).
const MAX_CLIENT_MESSAGE_BYTES: usize = 64 << 10;
/// tungstenite writes to the socket once this much is buffered (and on every flush).
const WRITE_BUFFER_BYTES: usize = 32 << 10;
/// Floor of the write-buffer bound; the writer's batches stay far below it, so hitting
/// it means a bug, reported as a write error rather than as memory growth.
const MIN_WRITE_BUFFER_LIMIT: usize = 8 << 20;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    pub token: Option<String>,
}

/// `GET /ws/live`.
pub async fn live(
    State(state): State<AppState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    accept(Endpoint::Live, state, query.ok(), &headers, upgrade)
}

/// `GET /ws/fo/stream`.
pub async fn fo_stream(
    State(state): State<AppState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    accept(Endpoint::FoStream, state, query.ok(), &headers, upgrade)
}

/// The token as a subprotocol, and the subprotocol to echo: `bearer, <token>` (echo
/// `bearer`) or a lone `<token>` that looks like a JWT (echo it).
fn protocol_token(headers: &HeaderMap) -> Option<(String, HeaderValue)> {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match offered.as_slice() {
        [scheme, token, ..] if scheme.eq_ignore_ascii_case("bearer") => {
            Some(((*token).to_string(), HeaderValue::from_str(scheme).ok()?))
        }
        [token] if token.matches('.').count() == 2 => {
            Some(((*token).to_string(), HeaderValue::from_str(token).ok()?))
        }
        _ => None,
    }
}

fn accept(
    endpoint: Endpoint,
    state: AppState,
    query: Option<Query<WsQuery>>,
    headers: &HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let from_protocol = protocol_token(headers);
    let token = query
        .as_ref()
        .and_then(|q| q.token.as_deref())
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers))
        .or(from_protocol.as_ref().map(|(token, _)| token.as_str()));
    let principal = match authorize(&state, token, Role::Viewer) {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let mut upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return AppError::Rejected {
                status: rejection.status(),
                code: "websocket_required",
                message: format!(
                    "{} is a WebSocket endpoint: {}",
                    endpoint.path(),
                    rejection.body_text()
                ),
            }
            .into_response();
        }
    };
    if let Some((_, protocol)) = from_protocol {
        upgrade.set_selected_protocol(protocol);
    }
    let config = *state.ws.config();
    tracing::debug!(user = %principal.user, endpoint = endpoint.path(), "websocket accepted");
    upgrade
        .read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(
            config
                .queue_bytes
                .saturating_mul(4)
                .max(MIN_WRITE_BUFFER_LIMIT),
        )
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_failed_upgrade(|error| tracing::debug!(%error, "websocket upgrade failed"))
        .on_upgrade(move |socket| session::run(socket, state, principal, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_protocol(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn tokens_come_as_bearer_pairs_or_lone_jwts() {
        let (token, echo) = protocol_token(&with_protocol("bearer, a.b.c")).unwrap();
        assert_eq!(
            (token.as_str(), echo.to_str().unwrap()),
            ("a.b.c", "bearer")
        );
        let (token, echo) = protocol_token(&with_protocol("Bearer,x.y.z")).unwrap();
        assert_eq!(
            (token.as_str(), echo.to_str().unwrap()),
            ("x.y.z", "Bearer")
        );
        let (token, echo) = protocol_token(&with_protocol("h.p.s")).unwrap();
        assert_eq!((token.as_str(), echo.to_str().unwrap()), ("h.p.s", "h.p.s"));
        assert!(protocol_token(&with_protocol("graphql-ws")).is_none());
        assert!(protocol_token(&HeaderMap::new()).is_none());
    }
}
