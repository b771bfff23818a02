//! Integration tests of the `greeks-black76` plugin's native API: hand-built chains for
//! every status, forward source and input check; a realistic smile chain; the sample
//! chain; and property tests over random chains.

mod common;
mod expiry_day;
mod forward;
mod proptests;
mod realistic;
mod statuses;
mod validation;
