//! The one place that converts between wit-bindgen's generated chain types and the plain
//! types in [`crate::chain`].
//!
//! wit-bindgen generates the WIT types inside each component crate, so the conversions
//! cannot be ordinary functions here; a component invokes this macro once with the path
//! of its generated `types` module, e.g.
//! `optionhub_pricing::wit_chain_conversions!(crate::optionhub::analytics::types);`
//! and gets `From` impls in both directions for every chain type. The host uses the same
//! macro on its wasmtime-generated types.

/// Generates `From` conversions between the component's WIT types (at the given path) and
/// [`crate::chain`]. See the module docs.
#[macro_export]
macro_rules! wit_chain_conversions {
    ($($wit:tt)+) => {
        const _: () = {
            use $($wit)+ as wit;
            use $crate::chain as plain;

            impl From<wit::Date> for plain::Date {
                fn from(d: wit::Date) -> Self {
                    Self { year: d.year, month: d.month, day: d.day }
                }
            }

            impl From<wit::ContractColumns> for plain::ContractColumns {
                fn from(c: wit::ContractColumns) -> Self {
                    Self {
                        security_id: c.security_id,
                        strike: c.strike,
                        is_call: c.is_call,
                        last_price: c.last_price,
                        bid: c.bid,
                        ask: c.ask,
                        volume: c.volume,
                        oi: c.oi,
                        previous_oi: c.previous_oi,
                        previous_close: c.previous_close,
                        previous_volume: c.previous_volume,
                    }
                }
            }

            impl From<wit::ChainSnapshot> for plain::ChainSnapshot {
                fn from(c: wit::ChainSnapshot) -> Self {
                    Self {
                        underlying: c.underlying,
                        spot: c.spot,
                        forward: c.forward,
                        expiry: c.expiry.into(),
                        as_of_ms: c.as_of_ms,
                        lot_size: c.lot_size,
                        rate: c.rate,
                        contracts: c.contracts.into(),
                    }
                }
            }

            impl From<wit::IvStatus> for plain::IvStatus {
                fn from(s: wit::IvStatus) -> Self {
                    match s {
                        wit::IvStatus::Solved => Self::Solved,
                        wit::IvStatus::NoPrice => Self::NoPrice,
                        wit::IvStatus::BelowIntrinsic => Self::BelowIntrinsic,
                        wit::IvStatus::AboveBound => Self::AboveBound,
                        wit::IvStatus::Expired => Self::Expired,
                    }
                }
            }

            impl From<plain::IvStatus> for wit::IvStatus {
                fn from(s: plain::IvStatus) -> Self {
                    match s {
                        plain::IvStatus::Solved => Self::Solved,
                        plain::IvStatus::NoPrice => Self::NoPrice,
                        plain::IvStatus::BelowIntrinsic => Self::BelowIntrinsic,
                        plain::IvStatus::AboveBound => Self::AboveBound,
                        plain::IvStatus::Expired => Self::Expired,
                    }
                }
            }

            impl From<wit::ForwardSource> for plain::ForwardSource {
                fn from(s: wit::ForwardSource) -> Self {
                    match s {
                        wit::ForwardSource::Given => Self::Given,
                        wit::ForwardSource::PutCallParity => Self::PutCallParity,
                        wit::ForwardSource::Spot => Self::Spot,
                    }
                }
            }

            impl From<plain::ForwardSource> for wit::ForwardSource {
                fn from(s: plain::ForwardSource) -> Self {
                    match s {
                        plain::ForwardSource::Given => Self::Given,
                        plain::ForwardSource::PutCallParity => Self::PutCallParity,
                        plain::ForwardSource::Spot => Self::Spot,
                    }
                }
            }

            impl From<wit::GreeksColumns> for plain::GreeksColumns {
                fn from(g: wit::GreeksColumns) -> Self {
                    Self {
                        price: g.price,
                        iv: g.iv,
                        delta: g.delta,
                        gamma: g.gamma,
                        theta: g.theta,
                        vega: g.vega,
                        rho: g.rho,
                        status: g.status.into_iter().map(Into::into).collect(),
                    }
                }
            }

            impl From<plain::GreeksColumns> for wit::GreeksColumns {
                fn from(g: plain::GreeksColumns) -> Self {
                    Self {
                        price: g.price,
                        iv: g.iv,
                        delta: g.delta,
                        gamma: g.gamma,
                        theta: g.theta,
                        vega: g.vega,
                        rho: g.rho,
                        status: g.status.into_iter().map(Into::into).collect(),
                    }
                }
            }

            impl From<wit::GreeksResult> for plain::GreeksResult {
                fn from(g: wit::GreeksResult) -> Self {
                    Self {
                        model: g.model,
                        forward: g.forward,
                        forward_source: g.forward_source.into(),
                        time_to_expiry: g.time_to_expiry,
                        greeks: g.greeks.into(),
                    }
                }
            }

            impl From<plain::GreeksResult> for wit::GreeksResult {
                fn from(g: plain::GreeksResult) -> Self {
                    Self {
                        model: g.model,
                        forward: g.forward,
                        forward_source: g.forward_source.into(),
                        time_to_expiry: g.time_to_expiry,
                        greeks: g.greeks.into(),
                    }
                }
            }

            impl From<wit::PricedChain> for plain::PricedChain {
                fn from(p: wit::PricedChain) -> Self {
                    Self { chain: p.chain.into(), greeks: p.greeks.into() }
                }
            }

            impl From<plain::PluginError> for wit::PluginError {
                fn from(e: plain::PluginError) -> Self {
                    match e {
                        plain::PluginError::InvalidInput(m) => Self::InvalidInput(m),
                        plain::PluginError::NumericalFailure(m) => Self::NumericalFailure(m),
                        plain::PluginError::Unsupported(m) => Self::Unsupported(m),
                    }
                }
            }
            impl From<plain::Date> for wit::Date {
                fn from(d: plain::Date) -> Self {
                    Self { year: d.year, month: d.month, day: d.day }
                }
            }

            impl From<plain::ContractColumns> for wit::ContractColumns {
                fn from(c: plain::ContractColumns) -> Self {
                    Self {
                        security_id: c.security_id,
                        strike: c.strike,
                        is_call: c.is_call,
                        last_price: c.last_price,
                        bid: c.bid,
                        ask: c.ask,
                        volume: c.volume,
                        oi: c.oi,
                        previous_oi: c.previous_oi,
                        previous_close: c.previous_close,
                        previous_volume: c.previous_volume,
                    }
                }
            }

            impl From<plain::ChainSnapshot> for wit::ChainSnapshot {
                fn from(c: plain::ChainSnapshot) -> Self {
                    Self {
                        underlying: c.underlying,
                        spot: c.spot,
                        forward: c.forward,
                        expiry: c.expiry.into(),
                        as_of_ms: c.as_of_ms,
                        lot_size: c.lot_size,
                        rate: c.rate,
                        contracts: c.contracts.into(),
                    }
                }
            }

            impl From<plain::PricedChain> for wit::PricedChain {
                fn from(p: plain::PricedChain) -> Self {
                    Self { chain: p.chain.into(), greeks: p.greeks.into() }
                }
            }

            impl From<wit::PluginError> for plain::PluginError {
                fn from(e: wit::PluginError) -> Self {
                    match e {
                        wit::PluginError::InvalidInput(m) => Self::InvalidInput(m),
                        wit::PluginError::NumericalFailure(m) => Self::NumericalFailure(m),
                        wit::PluginError::Unsupported(m) => Self::Unsupported(m),
                    }
                }
            }
        };
    };
}
