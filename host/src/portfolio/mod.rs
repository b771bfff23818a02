//! Saved strategies and accounts, as the server runs them: sealed broker credentials
//! ([`credentials`]) and the [`retention`] task that bounds the M2M history the worker
//! appends to. Exact money, the M2M worker and its publication hub are the `strategy`
//! crate's, re-exported here.

pub mod credentials;
pub mod retention;

pub use strategy::worker;
pub use strategy::{LegM2m, M2mHub, M2mUpdate, MarketValuer, Money, MoneyError};

pub use credentials::CredentialSealer;
