//! Market data in: the DhanHQ v2 protocol ([`dhan`]: codec, requests, live client, REST)
//! and the built-in DhanHQ simulator ([`sim`]) that speaks the same protocol over
//! loopback when no credentials are set. Both are crates of their own
//! (`crates/dhan`, `crates/dhan-sim`); this module names them for the host.

pub use dhan::{self, event, record, status};
pub use dhan_sim as sim;
