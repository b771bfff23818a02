//! The edge of the server that the REST and WebSocket APIs share, beneath both so that
//! neither imports the other:
//! - [`error`]: the one error type of handlers, its stable JSON body and the one list
//!   of error codes;
//! - [`access`]: the bearer token of a request, the principal and role it carries;
//! - [`client_address`]: the caller's address, behind trusted proxies only;
//! - [`rate_limit`]: request budgets per caller and tier, with their headers;
//! - the configuration of those ([`RateLimitConfig`], [`TrustedProxies`]) and of which
//!   other origins' pages may call ([`CorsOrigins`]).
#![forbid(unsafe_code)]

pub mod access;
pub mod client_address;
pub mod error;
mod limits;
mod origins;
pub mod rate_limit;

pub use error::{AppError, ErrorBody, ErrorCode};
pub use limits::{RateLimitConfig, TierLimits, TrustedProxies, parse_route_limits};
pub use origins::{CorsOrigins, websocket_origin_allowed};
pub use rate_limit::{Decision, RateLimits};
