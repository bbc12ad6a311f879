//! Hypasis Sync: serves verified Polygon PoS blocks to Bor nodes over
//! devp2p and to people over JSON-RPC and REST.
//!
//! This library is the host: configuration, the plugin host, node identity,
//! logging and the `run` lifecycle. The binary (`hypasis-sync`) is a thin
//! command-line shell over it.

#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod block_store;
pub mod chain;
pub mod chain_identity;
pub mod chain_state;
pub mod checkpoints;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod devnet_host;
pub mod logging;
pub mod metrics;
pub mod nodekey;
pub mod p2p;
pub mod plugins;
pub mod served_chain;
pub mod shutdown;
pub mod store_records;
pub mod sync;

/// The host's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
