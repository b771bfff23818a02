//! DhanHQ v2: the binary feed's packets and codec, the JSON feed requests.

pub mod codec;
pub mod disconnect;
pub mod live;
pub mod packet;
pub mod requests;
pub mod rest;
