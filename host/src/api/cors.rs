//! Cross-origin access for browser apps on other origins (CORS, with tower-http).
//!
//! Every `OPTIONS` request is a preflight and is answered here, before any route, gate
//! or rate limit: a preflight carries no token, and answering it 405 (as a router
//! without this layer does) makes every cross-origin call with an `Authorization`
//! header fail in the browser. Which origins may call is
//! [`CorsOrigins::allows`](crate::config::CorsOrigins::allows), the same predicate the
//! WebSocket upgrades check `Origin` with. An origin not allowed gets the preflight
//! answered without `Access-Control-Allow-Origin`, which the browser reads as "no".
//!
//! Credentials (cookies) are never allowed: the API authenticates with bearer tokens,
//! which a page sends explicitly, so no browser ever attaches ambient credentials to a
//! cross-origin call.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header, request::Parts};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::cache::CACHE_HEADER;
use crate::config::CorsOrigins;

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer for `origins`.
pub fn layer(origins: Arc<CorsOrigins>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, _: &Parts| origins.allows(origin),
        ))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        // What a page may read of an answer beyond the CORS-safelisted headers.
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static(CACHE_HEADER),
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}
