//! The API in process: [`fixture::RouteFixture`] builds the router over a small market
//! at rest (no feed, no plugins, no socket), and each test sends it one request with
//! `tower::ServiceExt::oneshot`, as axum's `examples/testing` does. The error shape and
//! the access rules are checked here; what needs a moving market, plugins or a real
//! connection is checked against the real server in `host/tests/integration`.

mod access;
mod errors;
mod fixture;
