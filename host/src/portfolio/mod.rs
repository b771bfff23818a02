//! Saved strategies and accounts, as the domain sees them: exact money ([`money`]),
//! sealed broker credentials ([`credentials`]), and the M2M worker ([`worker`]) that
//! values every open strategy on a timer and publishes each result on the [`hub`]; and
//! the [`retention`] task that bounds the M2M history the worker appends to.
//!
//! This layer sits between the plugins and the API. The worker does not know how a
//! strategy is valued: it is handed a [`worker::Valuer`] (the API implements it with the
//! same market-input and plugin path as `POST /api/v2/strategies/evaluate`), so the
//! valuation exists once and the layers still only point down.

pub mod credentials;
pub mod hub;
pub mod money;
pub mod retention;
pub mod worker;

pub use money::{Money, MoneyError};

pub use credentials::CredentialSealer;
pub use hub::{LegM2m, M2mHub, M2mUpdate};
