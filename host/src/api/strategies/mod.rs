//! Strategies over HTTP: stateless evaluation ([`evaluate`], over its request body in
//! [`request`]) and saved strategies with their M2M ([`saved`], over the bodies in
//! [`body`]). [`legs`] resolves legs against the live market and [`valuer`] values saved
//! strategies for the M2M worker through the same path as an evaluation.

pub mod body;
pub mod evaluate;
pub mod legs;
pub mod request;
pub mod saved;
pub mod valuer;
