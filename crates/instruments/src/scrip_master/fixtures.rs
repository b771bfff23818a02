//! The hand-written scrip masters under `crates/instruments/tests/fixtures/scrip_master/`, for tests
//! here and in the registry: the same contracts in the compact (`compact.csv`) and the
//! detailed (`detailed.csv`) layout, with a few malformed and unselected rows; and
//! `malformed_index.csv`, a detailed master whose only NIFTY index row is malformed.

use super::{Filter, ParsedMaster, parse};
use crate::Instrument;

/// The raw bytes of a fixture file.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/scrip_master/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The instruments a fixture file yields for these underlyings.
pub(crate) fn fixture_instruments(name: &str, underlyings: &[&str]) -> Vec<Instrument> {
    let master: ParsedMaster = parse(fixture(name).as_slice(), &Filter::new(underlyings)).unwrap();
    master.instruments
}
