//! devp2p: serving the store to Bor nodes.
//!
//! ```text
//!            ┌─ identity: node key, external IP, enode.txt
//! P2pServer ─┼─ discovery (discv4 + discv5, same port as TCP, our fork id in the ENR)
//!            └─ per connection: RLPx + Hello ─> PeerTable ─> peer session
//!                                                   │  Status (handshake), then requests
//!                                   limits ─────────┤  (RequestLimiter: plugin or bucket)
//!                                   serve ──────────┤  headers, bodies, receipts from the store
//!                                   crate::chain_state ────┘  head, TD, fork id; announcements
//! ```
//!
//! One concept per file: [`protocol`] (the server's constants), [`identity`],
//! [`crate::chain_state`] (what we announce), [`crate::block_store`]
//! (the reads serving makes), [`serve`] (answers within Bor's limits),
//! [`handshake`] (Status), [`limits`] (per-peer rate), [`peers`]
//! (admission), [`reputation`] (scores and bans), [`peer`] (one session),
//! [`server`] (listener, discovery, tasks). The wire itself is `hypasis-rlpx` and `hypasis-eth-wire`.

pub mod client;
pub mod handshake;
pub mod identity;
pub mod limits;
pub mod peer;
pub mod peers;
pub mod protocol;
pub mod reputation;
pub mod serve;
pub mod server;

pub use server::{P2pServer, P2pServices, P2pStartError};
