//! The analytics runtime as the server uses it: the plugin host (crate `plugin-host`:
//! loading, sandboxing, hot-swapping and calling plugins), plus [`live_greeks`], the
//! glue that keeps every live chain's Greeks computed through the Greeks plugin.

pub use plugin_host::*;

pub mod live_greeks;
