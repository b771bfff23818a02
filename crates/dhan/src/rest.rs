//! Dhan's JSON REST API, as far as optionhub uses it: option chains and expiry lists.

pub mod client;
pub mod error;
pub mod types;

pub use client::DhanRestClient;
pub use error::{DhanErrorCode, RestError};
