//! Strategies as the domain sees them: exact money ([`Money`], integer paise), and the
//! M2M worker ([`worker`]) that values every open strategy on a timer, appends the
//! totals to its history and publishes each result on the [`M2mHub`].
//!
//! The worker does not know how a strategy is valued: it is handed a
//! [`worker::Valuer`] (the server implements it with the same market-input and plugin
//! path as `POST /api/v2/strategies/evaluate`), so the valuation exists once and the
//! layers only point down.
#![forbid(unsafe_code)]

mod hub;
mod money;
pub mod worker;

pub use hub::{LegM2m, M2mHub, M2mUpdate};
pub use money::{Money, MoneyError};
