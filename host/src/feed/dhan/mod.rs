//! DhanHQ v2: the binary feed's packets and codec, the JSON feed requests, and the
//! URLs they go to.

pub mod codec;
pub mod disconnect;
pub mod endpoint;
pub mod live;
pub mod packet;
pub mod requests;
pub mod rest;
