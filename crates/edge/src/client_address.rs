//! The caller's address, as login budgets, anonymous limits and logs see it.
//!
//! It is the TCP peer, unless the peer is one of the configured trusted proxies: then
//! it is read from `X-Forwarded-For`, right to left (each proxy appends the address it
//! received from), skipping the trusted proxies, so the first address no trusted proxy
//! vouches for is the caller. From anyone else the header is ignored: a caller could
//! otherwise name a fresh address with every login attempt.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::limits::TrustedProxies;

/// The resolved caller address of a request (absent in in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The caller behind `peer`, believing `X-Forwarded-For` only from `proxies`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !proxies.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut caller = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address was not written by a proxy we trust: stop at
        // the last address one of them did write.
        let Ok(address) = hop.parse::<IpAddr>() else {
            break;
        };
        caller = address.to_canonical();
        if !proxies.contains(caller) {
            break;
        }
    }
    caller
}

/// Middleware (outermost): resolves the caller once and stores it as a request
/// extension, for the limits and the request span.
pub async fn resolve_client(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let caller = resolve(peer, request.headers(), &proxies);
        request.extensions_mut().insert(ClientAddress(caller));
    }
    next.run(request).await
}

/// The caller's address as text, `unknown` when the server does not know it.
pub fn of(request: &Request) -> String {
    request
        .extensions()
        .get::<ClientAddress>()
        .map_or_else(|| "unknown".to_string(), |address| address.0.to_string())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let headers = forwarded(&["203.0.113.9"]);
        let nobody = TrustedProxies::default();
        assert_eq!(resolve(ip("10.0.0.5"), &headers, &nobody), ip("10.0.0.5"));
        let lb = TrustedProxies::parse("10.0.0.0/24").unwrap();
        assert_eq!(resolve(ip("10.0.0.5"), &headers, &lb), ip("203.0.113.9"));
        assert_eq!(resolve(ip("10.0.1.5"), &headers, &lb), ip("10.0.1.5"));
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_caller() {
        let lb = TrustedProxies::parse("10.0.0.0/24").unwrap();
        // The caller forged the first entry; our proxies appended the rest.
        let headers = forwarded(&["1.2.3.4, 198.51.100.7", "10.0.0.9"]);
        assert_eq!(resolve(ip("10.0.0.5"), &headers, &lb), ip("198.51.100.7"));
        // Garbage stops the walk at the last address a proxy wrote.
        let headers = forwarded(&["198.51.100.7, nonsense, 10.0.0.9"]);
        assert_eq!(resolve(ip("10.0.0.5"), &headers, &lb), ip("10.0.0.9"));
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.5"), &HeaderMap::new(), &lb),
            ip("10.0.0.5")
        );
    }
}
