//! Strategies as the domain sees them, beneath the HTTP layer:
//! - what a strategy is: its legs and settings as a caller sends them, range-checked
//!   ([`EvaluateRequest`]), and exact money ([`Money`], integer paise) for what is saved;
//! - what the live market says of each leg ([`resolve`]: the contract, its mark,
//!   forward, IV and time to expiry) and the plugin request built from it
//!   ([`valuation_request`]);
//! - the M2M worker ([`worker`]), which values every open strategy on a timer through
//!   the same path ([`MarketValuer`]), appends the totals to its history and publishes
//!   each result on the [`M2mHub`].
//!
//! Every refusal is a [`Refusal`] with a [`Reason`]; the server maps each reason to one
//! error code and status.
#![forbid(unsafe_code)]

mod hub;
mod legs;
mod money;
mod refusal;
mod request;
mod valuation;
mod valuer;
pub mod worker;

pub use hub::{LegM2m, M2mHub, M2mUpdate};
pub use legs::{Chains, LiveMarket, MarketInputs, MarketLeg, resolve, resolve_with, years_until};
pub use money::{Money, MoneyError};
pub use refusal::{Reason, Refusal};
pub use request::{
    EvaluateRequest, LegRequest, MAX_LEGS, MAX_LOTS, MAX_SCENARIOS, Price, ScenarioRequest,
};
pub use valuation::{target_years, valuation_request};
pub use valuer::{BATCH_LEGS, MarketValuer};
