//! Routes for operators and tools rather than traders: liveness and readiness
//! ([`health`]), Prometheus metrics ([`metrics`]), the feed's and server's state
//! ([`status`]) and the API's own documentation ([`docs`]).

pub mod docs;
pub mod health;
pub mod metrics;
#[cfg(test)]
mod openapi_check;
pub mod status;
