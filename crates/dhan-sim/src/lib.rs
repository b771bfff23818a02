//! The built-in DhanHQ simulator: a market model ([`model`], over the contract universe
//! of [`universe`], with [`expiry_calendar`], [`smile`] and [`quote`]) behind a loopback
//! server ([`server`], its front as strict as Dhan's: [`handshake`]) that speaks Dhan's
//! v2 protocol (feed WebSocket, option-chain REST, scrip master), so that
//! `optionhub serve` with no credentials runs the production client and codec
//! unchanged.
#![forbid(unsafe_code)]

mod connections;
pub mod expiry_calendar;
mod feed_socket;
pub mod handshake;
pub mod model;
pub mod quote;
mod rest_api;
pub mod server;
pub mod smile;
mod tick;
pub mod universe;
pub mod wire;

pub use server::{RestFault, SimConfig, SimHandle};
