//! Integration tests of [`oi_analytics::analyze`] through its public API, against
//! hand-worked fixtures and the options-analytics reference's vectors (§4.6).

mod common;
mod distribution;
mod levels;
mod movers;
mod pain_and_pcr;
mod properties;
mod validation;
