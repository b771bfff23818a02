//! Integration tests of [`strategy_valuation::evaluate`] through its public API, against
//! the options-analytics reference's vectors (§4.5, §4.6) and hand-worked positions.

mod bounds;
mod common;
mod marks_and_curves;
mod properties;
mod reference;
mod scenarios;
mod validation;
