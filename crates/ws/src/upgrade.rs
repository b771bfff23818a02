//! The HTTP side of the WebSocket routes: authenticate, spend from the user's request
//! budget (an upgrade is a request, and a reconnect loop must not be free), claim one of
//! the user's connections under the per-user cap (429 `too_many_connections` beyond it),
//! then upgrade with small buffers. Each connection's channels are capped by tier too.
//!
//! A browser's handshake carries `Origin`, and browsers apply no CORS to WebSockets:
//! a page from an origin not allowed (`--cors-origins`) is refused 403 here, before
//! anything else; a handshake without `Origin` is not from a browser and goes on.
//!
//! Authentication happens before the upgrade, so a bad or missing token is an ordinary
//! HTTP 401 with the JSON error body. Browsers cannot set headers on a WebSocket, so the
//! token may come as the `token` query parameter or as a subprotocol
//! (`Sec-WebSocket-Protocol: bearer, <token>`, or the token alone); the accepted
//! subprotocol is echoed back, as browsers require. An `Authorization: Bearer` header
//! works too, for other clients. With `--public-market-data`, `/ws/live` also admits a
//! connection without a token, as an anonymous free-tier viewer keyed by its client
//! address (for its budget and connection cap), with market channels only.
//!
//! The handshake (RFC 6455 §4.2) is done here on hyper's upgrade rather than through
//! axum's `WebSocketUpgrade`, because the connection is taken back as the plain
//! `TcpStream` it is (hyper-util's upgrade `downcast`): its read half goes to the
//! session, its write half to a writer shard, which writes the publications' shared
//! frames straight to the socket.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto::upgrade::downcast;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::channel::Endpoint;
use super::session::{self, Admission, Upgraded};
use crate::state::WsState;
use auth::{Principal, Role as AccessRole, Tier};
use edge::Decision;
use edge::access::{anonymous_key, authorize_expiring, bearer_token, refused};
use edge::client_address::ClientAddress;
use edge::error::{AppError, ErrorCode};

/// A checked request to upgrade to a WebSocket (HTTP/1.1, RFC 6455 §4.2.1).
pub(super) struct UpgradeRequest {
    accept_key: String,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket handshake.
#[derive(Debug)]
pub(super) struct NotWebSocket {
    status: StatusCode,
    reason: &'static str,
}

impl NotWebSocket {
    fn into_error(self, endpoint: Endpoint) -> AppError {
        AppError::Rejected {
            status: self.status,
            code: ErrorCode::WebsocketRequired,
            message: format!(
                "{} is a WebSocket endpoint: {}",
                endpoint.path(),
                self.reason
            ),
        }
    }
}

/// Only for axum's extractor bound: the routes take `Result<UpgradeRequest, _>` and
/// answer with the endpoint named, after authenticating.
impl IntoResponse for NotWebSocket {
    fn into_response(self) -> Response {
        self.into_error(Endpoint::Live).into_response()
    }
}

fn header_has(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for UpgradeRequest {
    type Rejection = NotWebSocket;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NotWebSocket> {
        let refuse = |status, reason| Err(NotWebSocket { status, reason });
        if parts.method != Method::GET {
            return refuse(StatusCode::METHOD_NOT_ALLOWED, "the handshake is a GET");
        }
        if !header_has(&parts.headers, header::CONNECTION, "upgrade")
            || !header_has(&parts.headers, header::UPGRADE, "websocket")
        {
            return refuse(
                StatusCode::UPGRADE_REQUIRED,
                "the request must carry `Connection: upgrade` and `Upgrade: websocket`",
            );
        }
        if !header_has(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return refuse(
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version: 13` is required",
            );
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY) else {
            return refuse(StatusCode::BAD_REQUEST, "`Sec-WebSocket-Key` is missing");
        };
        let accept_key = derive_accept_key(key.as_bytes());
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return refuse(
                StatusCode::UPGRADE_REQUIRED,
                "this connection cannot be upgraded",
            );
        };
        Ok(Self {
            accept_key,
            on_upgrade,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WsQuery {
    pub token: Option<String>,
}

/// `GET /ws/live`.
pub(super) async fn live(
    State(state): State<WsState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    address: Option<Extension<ClientAddress>>,
    upgrade: Result<UpgradeRequest, NotWebSocket>,
) -> Response {
    let anonymous = state
        .public_market_data
        .then(|| anonymous_key(&address.map_or_else(|| "unknown".into(), |a| a.0.0.to_string())));
    let caller = Caller {
        query: query.ok(),
        headers: &headers,
        anonymous,
    };
    accept(Endpoint::Live, state, caller, upgrade)
}

/// `GET /ws/fo/stream`.
pub(super) async fn fo_stream(
    State(state): State<WsState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<UpgradeRequest, NotWebSocket>,
) -> Response {
    let caller = Caller {
        query: query.ok(),
        headers: &headers,
        anonymous: None,
    };
    accept(Endpoint::FoStream, state, caller, upgrade)
}

/// Who is connecting: the request's token sources, and the key an anonymous caller
/// would have (`None` where tokens are required).
struct Caller<'a> {
    query: Option<Query<WsQuery>>,
    headers: &'a HeaderMap,
    anonymous: Option<String>,
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
    state: WsState,
    caller: Caller<'_>,
    upgrade: Result<UpgradeRequest, NotWebSocket>,
) -> Response {
    if let Some(refusal) = foreign_origin(&state, endpoint, caller.headers) {
        return refusal.into_response();
    }
    let from_protocol = protocol_token(caller.headers);
    let token = caller
        .query
        .as_ref()
        .and_then(|q| q.token.as_deref())
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(caller.headers))
        .or(from_protocol.as_ref().map(|(token, _)| token.as_str()));
    let admitted = match (token, caller.anonymous) {
        (None, Some(key)) => admit_anonymous(&state, endpoint, key),
        (token, _) => admit(&state, endpoint, token),
    };
    let (admission, decision) = match admitted {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_error(endpoint).into_response(),
    };
    let deflate = if state.hub.config().deflate {
        super::deflate::negotiate(caller.headers)
    } else {
        None
    };
    let deflating = deflate.is_some();
    tracing::debug!(user = %admission.principal.user, endpoint = endpoint.path(), deflating, "websocket accepted");
    let UpgradeRequest {
        accept_key,
        on_upgrade,
    } = upgrade;
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(error) => return tracing::debug!(%error, "websocket upgrade failed"),
        };
        match downcast::<TokioIo<TcpStream>>(upgraded) {
            Ok(parts) => {
                let upgraded = Upgraded {
                    socket: parts.io.into_inner(),
                    already: parts.read_buf,
                    deflate: deflating,
                };
                session::run(upgraded, state, admission, endpoint).await;
            }
            // The server serves plain TCP (TLS ends at a proxy in front of it).
            Err(_) => tracing::error!("websocket upgrade is not on a TCP stream; dropped"),
        }
    });
    let protocol = from_protocol.map(|(_, protocol)| protocol);
    switching_protocols(&decision, &accept_key, protocol, deflate)
}

/// The 101 answer: the handshake's accept key, the subprotocol and extension agreed,
/// and the caller's rate-limit headers.
fn switching_protocols(
    decision: &Decision,
    accept_key: &str,
    protocol: Option<HeaderValue>,
    deflate: Option<HeaderValue>,
) -> Response {
    let mut response = (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, HeaderValue::from_static("upgrade")),
            (header::UPGRADE, HeaderValue::from_static("websocket")),
        ],
    )
        .into_response();
    decision.write_headers(response.headers_mut());
    let headers = response.headers_mut();
    if let Ok(accept) = HeaderValue::from_str(accept_key) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = protocol {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    if let Some(extension) = deflate {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, extension);
    }
    response
}

/// The refusal of a browser page from an origin that may not connect, if it is one.
fn foreign_origin(state: &WsState, endpoint: Endpoint, headers: &HeaderMap) -> Option<AppError> {
    let origin = headers.get(header::ORIGIN);
    if edge::websocket_origin_allowed(&state.origins, origin, headers.get(header::HOST)) {
        return None;
    }
    Some(AppError::Rejected {
        status: StatusCode::FORBIDDEN,
        code: ErrorCode::OriginNotAllowed,
        message: format!(
            "pages from {} may not open {}; the server's --cors-origins lists the origins \
             that may",
            origin
                .and_then(|o| o.to_str().ok())
                .unwrap_or("this origin"),
            endpoint.path()
        ),
    })
}

/// Why a connection is not admitted.
enum Refusal {
    /// No valid token, or too many connections.
    Error(AppError),
    /// Over the request budget.
    OverBudget(Decision),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Error(error) => error.into_response(),
            Refusal::OverBudget(decision) => refused(&decision),
        }
    }
}

/// Who may connect: a valid token of a viewer or above, request budget left, and a
/// connection under the user's cap.
fn admit(
    state: &WsState,
    endpoint: Endpoint,
    token: Option<&str>,
) -> Result<(Admission, Decision), Refusal> {
    let (principal, expires_at) =
        authorize_expiring(&state.tokens, token, AccessRole::Viewer).map_err(Refusal::Error)?;
    admit_principal(state, endpoint, principal, expires_at, false)
}

/// A caller without a token where market data is public: a free-tier viewer named by
/// its address, whose admission never expires.
fn admit_anonymous(
    state: &WsState,
    endpoint: Endpoint,
    key: String,
) -> Result<(Admission, Decision), Refusal> {
    let principal = Principal {
        user: key,
        role: AccessRole::Viewer,
        tier: Tier::Free,
    };
    admit_principal(state, endpoint, principal, i64::MAX, true)
}

/// Request budget left, and a connection under the caller's cap.
fn admit_principal(
    state: &WsState,
    endpoint: Endpoint,
    principal: Principal,
    expires_at: i64,
    anonymous: bool,
) -> Result<(Admission, Decision), Refusal> {
    let decision = state
        .limits
        .check(endpoint.path(), &principal.user, principal.tier);
    if !decision.allowed {
        tracing::debug!(user = %principal.user, endpoint = endpoint.path(), "websocket upgrade rate limited");
        return Err(Refusal::OverBudget(decision));
    }
    let cap = state.limits.ws_connections(principal.tier);
    let slot = state
        .hub
        .connections
        .claim(&principal.user, cap)
        .map_err(|held| {
            tracing::debug!(user = %principal.user, held, "websocket connection cap reached");
            Refusal::Error(AppError::Rejected {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: ErrorCode::TooManyConnections,
                message: format!(
                    "a {} user may hold {cap} WebSocket connections at once and {} holds {held}; \
                     close one, or subscribe to more channels on one connection",
                    principal.tier, principal.user
                ),
            })
        })?;
    let admission = Admission {
        principal,
        expires_at,
        slot,
        anonymous,
    };
    Ok((admission, decision))
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
