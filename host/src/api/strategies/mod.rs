//! Strategies over HTTP: stateless evaluation ([`evaluate`]) and saved strategies with
//! their M2M ([`saved`], over the bodies in [`body`]). What a strategy is, how its legs
//! meet the live market and how it is valued is the `strategy` crate's; the M2M worker
//! values saved strategies through the same path as an evaluation.

pub mod body;
pub mod evaluate;
pub mod saved;
