//! Option-pricing maths shared by optionhub's first-party plugins: Black-76 prices and
//! Greeks on a forward, implied volatility (from nothing, or from a neighbour's), time to expiry, the synthetic forward, and
//! the plain chain types every plugin computes on, and a deterministic sample chain.
//!
//! Nothing here knows about WebAssembly: the same code runs natively in tests and
//! benchmarks and inside the plugin components.
#![forbid(unsafe_code)]

pub mod black76;
pub mod chain;
pub mod expiry;
pub mod forward;
pub mod implied;
pub mod normal;
pub mod sample;
pub mod warm_start;
mod wit_conversions;
