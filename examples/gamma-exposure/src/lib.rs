//! `gamma-exposure`: a worked example of a third-party optionhub plugin. It implements
//! the `custom-analytics` world and computes dealer gamma exposure (GEX) per strike from
//! the priced chain the host passes in. Copy this crate to start your own analytic.
//!
//! # The layout to copy
//!
//! - [`params`]: the parameters the plugin declares and their parsing, as plain Rust;
//! - [`gex`]: the maths, a plain function on [`optionhub_pricing::chain::PricedChain`],
//!   unit-tested natively with `cargo test -p gamma-exposure`;
//! - `component` (compiled for `wasm32` only): the WIT bindings, converting the host's
//!   types to the plain ones and the answer back. It is the only code that knows it runs
//!   in a sandbox, and the only place that needs `unsafe` (wit-bindgen's glue).
//!
//! # Definition
//!
//! For every contract i with gamma Γ_i (per point of the forward, from the host's
//! Greeks), open interest OI_i, the chain's lot size m and the model forward F:
//!
//! GEX_i = Γ_i · OI_i · m · F² · 0.01
//!
//! That is the rupee change of the dealers' delta position for a 1 % move of the
//! underlying: Γ·(0.01·F) is the change of delta per unit for a 1 % move, worth F rupees
//! per unit of delta, on OI·m units. OI is read as a number of contracts (lots), as in
//! the reference's formulas; a feed that reports OI in units of the underlying would
//! need the factor m dropped.
//!
//! **Sign convention** (reference §3.9, the usual "dealers long calls, short puts"
//! assumption): customers sell calls (overwriting) and buy puts (protection), so dealers
//! are long the calls and short the puts. Call GEX is counted positive, put GEX
//! negative. Positive net GEX means dealers' hedging dampens moves (they sell rallies,
//! buy dips); negative net GEX means it amplifies them.
//!
//! Per strike K: `call_gex` sums the calls at K, `put_gex` minus the puts at K, `net_gex`
//! is their sum and `cumulative_gex` the running sum of `net_gex` over strikes in
//! ascending order. See [`gex::gamma_exposure`] for the scalars (totals, flip level,
//! walls) and [`params`] for `window` and `scale`.

pub mod gex;
pub mod params;

#[cfg(target_arch = "wasm32")]
mod component;

pub use gex::{Column, GexReport, Scalar, TABLE_NAME, gamma_exposure};
pub use params::{GexParams, PARAMS, ParamDoc, Scale};
