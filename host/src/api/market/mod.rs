//! Market data over HTTP, one module per group of routes: the underlyings and live
//! chains ([`live`]), one contract's depth ([`depth`]) and chain history ([`history`]);
//! [`chain_source`] says where a chain's prices come from and brings asked-for chains
//! live.

pub mod chain_source;
pub mod depth;
pub mod history;
pub mod live;
