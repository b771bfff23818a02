//! Analytics of the live market, beneath both serving layers: the Greeks and implied
//! volatilities of every live chain, recomputed through the active `greeks-model`
//! plugin as the chain changes ([`LiveGreeks`]). The REST chain views and the
//! WebSocket channels read the same results, so both serve one computation.
#![forbid(unsafe_code)]

mod live_greeks;

pub use live_greeks::{
    ChainGreeks, ContractGreeks, LiveGreeks, LiveGreeksConfig, chain_greeks, missing_greeks,
    snapshot,
};
