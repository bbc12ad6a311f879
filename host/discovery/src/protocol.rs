//! Every discv4 protocol constant in one place, each with where it comes from.
//!
//! Sources: the devp2p spec `discv4.md` (wire format), EIP-8 (forward
//! compatibility), and go-ethereum v1.15.11 `p2p/discover` (`v4_udp.go`,
//! `table.go`, `v4wire/v4wire.go`) for the behavioural values that the
//! `devp2p discv4 test` suite and real Bor peers rely on.

use std::time::Duration;

/// Packet type of Ping (discv4.md "Ping Packet (0x01)").
pub const PING: u8 = 0x01;
/// Packet type of Pong (discv4.md "Pong Packet (0x02)").
pub const PONG: u8 = 0x02;
/// Packet type of FindNode (discv4.md "FindNode Packet (0x03)").
pub const FIND_NODE: u8 = 0x03;
/// Packet type of Neighbors (discv4.md "Neighbors Packet (0x04)").
pub const NEIGHBOURS: u8 = 0x04;
/// Packet type of ENRRequest (discv4.md / EIP-868 "ENRRequest Packet (0x05)").
pub const ENR_REQUEST: u8 = 0x05;
/// Packet type of ENRResponse (discv4.md / EIP-868 "ENRResponse Packet (0x06)").
pub const ENR_RESPONSE: u8 = 0x06;

/// The discv4 protocol version carried in Ping (discv4.md: `version = 4`).
pub const PING_VERSION: u64 = 4;

/// Bytes of the packet hash: keccak256 of everything after it (discv4.md).
pub const HASH_SIZE: usize = 32;
/// Bytes of the recoverable secp256k1 signature `r ‖ s ‖ v` (discv4.md).
pub const SIGNATURE_SIZE: usize = 65;
/// Bytes before the packet type: hash and signature (go-ethereum `headSize`).
pub const HEAD_SIZE: usize = HASH_SIZE + SIGNATURE_SIZE;
/// The largest packet we send or accept (discv4.md: "maximum size 1280 bytes";
/// go-ethereum `maxPacketSize`).
pub const MAX_PACKET_SIZE: usize = 1280;

/// How far in the future our packets' `expiration` lies (go-ethereum
/// `expiration = 20 * time.Second`).
pub const EXPIRATION: Duration = Duration::from_secs(20);
/// How long an endpoint proof (a Pong to our Ping, or a Ping from them) is
/// trusted (go-ethereum `bondExpiration = 24 * time.Hour`).
pub const BOND_EXPIRATION: Duration = Duration::from_secs(24 * 60 * 60);
/// How long we wait for a reply to one of our requests. go-ethereum uses
/// `respTimeout = 500ms`; we allow a little more for loaded hosts.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Nodes per Kademlia bucket, and nodes per FindNode answer (go-ethereum
/// `bucketSize = 16`).
pub const BUCKET_SIZE: usize = 16;
/// Replacement candidates kept per bucket (go-ethereum `maxReplacements = 10`).
pub const MAX_REPLACEMENTS: usize = 10;
/// Buckets in the table: one per log-distance 1..=256 (keccak256 ids).
pub const BUCKET_COUNT: usize = 256;
/// Nodes of the same /24 allowed in one bucket (go-ethereum `bucketIPLimit`).
/// Loopback and LAN addresses are exempt, as in go-ethereum.
pub const BUCKET_IP_LIMIT: usize = 2;
/// Nodes of the same /24 allowed in the whole table (go-ethereum `tableIPLimit`).
pub const TABLE_IP_LIMIT: usize = 10;

/// Concurrent FindNode requests per lookup (Kademlia α; go-ethereum `alpha`).
pub const LOOKUP_PARALLELISM: usize = 3;
/// A lookup gives up after this long, whatever its state.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the table is refreshed with a random lookup (go-ethereum
/// `refreshInterval = 30 * time.Minute`).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// How often, while the table is empty, the bootnodes are pinged again.
pub const BOOTNODE_RETRY_INTERVAL: Duration = Duration::from_secs(60);
/// How often one table node is checked for liveness.
pub const REVALIDATE_INTERVAL: Duration = Duration::from_secs(10);
/// A table node is only re-checked once it has been silent this long, so a
/// freshly bonded node is never pinged right away (which would also disturb
/// the `devp2p discv4 test` suite, whose checks read the very next packet).
pub const REVALIDATE_AGE: Duration = Duration::from_secs(5 * 60);
/// Consecutive unanswered liveness pings after which a node leaves the table.
pub const MAX_LIVENESS_FAILURES: u32 = 2;

/// Outstanding Pings we keep track of; beyond this new bonds are not started
/// (bounds the state an attacker can make us hold).
pub const MAX_PENDING_PINGS: usize = 1024;
/// Endpoint-proof records kept; the oldest are dropped beyond this.
pub const MAX_ENDPOINT_PROOFS: usize = 65_536;
