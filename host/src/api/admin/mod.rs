//! Administration (admin role): plugin management ([`plugins`]) and the audit of every
//! admin action, allowed or refused ([`audit`]).

pub mod audit;
pub mod plugins;
