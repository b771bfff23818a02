//! The built-in DhanHQ simulator: a market model ([`model`], over the contract universe
//! of [`universe`]) behind a loopback server that speaks Dhan's v2 protocol, so that
//! `optionhub serve` with no credentials runs the production client and codec unchanged.

pub mod expiry_calendar;
pub mod model;
pub mod quote;
pub mod smile;
pub mod universe;
