//! Node discovery for Hypasis Sync: a discv4 node that Bor (go-ethereum)
//! peers can use as their bootnode, and discv5 on the same UDP port, both
//! advertising our ENR with the `eth` fork-id entry.
//!
//! Layers, pure to async:
//! - [`v4wire`]: the discv4 packet format (hash ‖ signature ‖ type ‖ RLP),
//!   EIP-8 tolerant, vector-tested;
//! - [`node`], [`fork_id`], [`local_record`]: identities, enode URLs, the
//!   `eth` ENR entry and our signed record;
//! - [`table`], [`proofs`], [`pending`], [`lookup`]: the Kademlia table,
//!   endpoint proofs, outstanding requests and lookups, all without I/O;
//! - [`v4node`]: the discv4 behaviour as a state machine (datagrams and ticks
//!   in, datagrams out);
//! - [`bans`]: nodes the host banned, ignored by both discv4 and discv5;
//! - `service` / [`v5`]: the thin tokio shell and the discv5 socket sharing;
//! - [`Discovery`]: start, inspect, update the fork id, ban and lift.
//!
//! ```no_run
//! # async fn run(key: secp256k1::SecretKey) -> Result<(), hypasis_discovery::DiscoveryError> {
//! use hypasis_discovery::{Discovery, DiscoveryConfig, ForkId};
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let discovery = Discovery::start(
//!     DiscoveryConfig {
//!         key,
//!         listen: "0.0.0.0:30303".parse().expect("addr"),
//!         external_ip: Some("203.0.113.7".parse().expect("ip")),
//!         tcp_port: 30303,
//!         bootnodes: vec![],
//!         fork_id: ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0)),
//!         enable_v5: true,
//!     },
//!     shutdown.clone(),
//! )
//! .await?;
//! println!("{}", discovery.enode_url());
//! shutdown.cancel();
//! discovery.stopped().await;
//! # Ok(()) }
//! ```

pub mod bans;
mod discovery;
mod error;
pub mod fork_id;
pub mod local_record;
pub mod lookup;
pub mod node;
pub mod pending;
pub mod proofs;
pub mod protocol;
pub mod relay;
mod service;
pub mod table;
pub mod v4node;
pub mod v4wire;
pub mod v5;

pub use discovery::{Discovery, DiscoveryConfig};
pub use error::{DecodeError, DiscoveryError, NodeUrlError};
pub use fork_id::ForkId;
pub use local_record::Enr;
pub use node::{NodeRecord, PeerId};
