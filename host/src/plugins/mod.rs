//! The analytics runtime as the server uses it: the plugin host (crate `plugin-host`:
//! loading, sandboxing, hot-swapping and calling plugins), plus [`live_greeks`] (crate
//! `analytics`), which keeps every live chain's Greeks computed through the Greeks
//! plugin.

pub use analytics as live_greeks;
pub use plugin_host::*;
