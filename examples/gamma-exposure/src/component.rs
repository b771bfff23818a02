//! The WebAssembly component boundary (compiled for `wasm32` only): the WIT bindings for
//! the `custom-analytics` world and the thin adapters between them and the plain code.
//!
//! Keep this module boring. It converts the host's `priced-chain` to
//! [`optionhub_pricing::chain::PricedChain`] (conversions generated once by
//! [`optionhub_pricing::wit_chain_conversions!`]), calls the natively tested maths, and
//! turns the report into named scalars and one table. wit-bindgen's generated glue is
//! `unsafe` code, which is why the lint is relaxed here and nowhere else.

#![expect(
    unsafe_code,
    reason = "wit-bindgen generates the canonical-ABI glue as unsafe code"
)]

wit_bindgen::generate!({ path: "../../wit", world: "custom-analytics" });

optionhub_pricing::wit_chain_conversions!(self::optionhub::analytics::types);

use exports::optionhub::analytics::custom::{
    AnalyticsResult, Guest as Custom, NamedScalar, NamedSeries, NamedTable, ParamSpec, PluginError,
    PricedChain,
};
use exports::optionhub::analytics::meta::{Guest as Meta, PluginInfo};

use crate::gex::{Column, Scalar, TABLE_NAME, gamma_exposure};
use crate::params::{GexParams, PARAMS};

struct GammaExposure;

impl Meta for GammaExposure {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "gamma-exposure".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Dealer gamma exposure (GEX) per strike, flip level and call/put walls; \
                          calls +, puts − (dealers long calls, short puts)"
                .into(),
        }
    }
}

impl Custom for GammaExposure {
    fn params() -> Vec<ParamSpec> {
        PARAMS
            .iter()
            .map(|p| ParamSpec {
                name: p.name.into(),
                description: p.description.into(),
                default_value: p.default_value.into(),
            })
            .collect()
    }

    fn run(
        input: PricedChain,
        params: Vec<(String, String)>,
    ) -> Result<AnalyticsResult, PluginError> {
        // `?` converts the plain `PluginError` into the WIT one.
        let params = GexParams::parse(&params)?;
        let report = gamma_exposure(&input.into(), &params)?;
        Ok(AnalyticsResult {
            scalars: report.scalars().into_iter().map(named_scalar).collect(),
            series: Vec::new(),
            tables: vec![NamedTable {
                name: TABLE_NAME.into(),
                columns: report
                    .table_columns()
                    .into_iter()
                    .map(named_series)
                    .collect(),
            }],
        })
    }
}

fn named_scalar(s: Scalar) -> NamedScalar {
    NamedScalar {
        name: s.name.into(),
        unit: s.unit.into(),
        value: s.value,
    }
}

fn named_series(c: Column) -> NamedSeries {
    NamedSeries {
        name: c.name.into(),
        unit: c.unit.into(),
        values: c.values,
    }
}

export!(GammaExposure);
