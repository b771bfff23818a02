//! optionhub's integration tests: one binary (one link) with a module per area.
//! Every test loads real components built from this workspace for `wasm32-wasip2`.
#![expect(
    clippy::expect_used,
    reason = "a test that cannot set up should fail loudly"
)]

mod common;

mod abuse;
mod api_access;
mod api_sweep;
mod browsers;
mod cli;
mod expiry;
mod feed;
mod feed_faults;
mod first_party;
mod fo;
mod health;
mod history;
mod hostile;
mod hot_swap;
mod http;
mod loading;
mod portfolio;
mod public_market_data;
mod redis_cache;
mod sim_front;
mod ws;
mod ws_channels;
mod ws_deflate;
mod ws_deltas;
mod ws_flow;
mod ws_fo_views;
mod ws_strategy;
