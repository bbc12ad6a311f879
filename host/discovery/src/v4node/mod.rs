//! The discv4 node as a state machine, without I/O: datagrams and clock ticks
//! go in, datagrams to send come out. The async service
//! (`service.rs`) only moves bytes between this and the socket.
//!
//! `handlers.rs` answers each packet kind; `maintenance.rs` runs the timers
//! (request timeouts, liveness checks, bootstrapping and refresh lookups).

mod handlers;
mod maintenance;

use std::{
    fmt,
    net::SocketAddr,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::B256;
use secp256k1::SecretKey;

use crate::{
    bans::BanList,
    local_record::LocalRecord,
    lookup::Lookup,
    node::{NodeRecord, PeerId, peer_id_of_secret},
    pending::{PendingPing, PendingRequests, PingPurpose},
    proofs::EndpointProofs,
    protocol::{EXPIRATION, PING_VERSION},
    table::RoutingTable,
    v4wire::{self, Endpoint, Message, Ping},
};

/// The time, in the two forms discv4 needs: monotonic for our own timers,
/// Unix seconds for packet expirations.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Monotonic time.
    pub instant: Instant,
    /// Wall-clock Unix seconds.
    pub unix: i64,
}

impl Now {
    /// The current time.
    pub fn current() -> Self {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self {
            instant: Instant::now(),
            unix,
        }
    }

    /// The expiration to put in a packet sent now.
    pub fn expiration(&self) -> u64 {
        (self.unix + EXPIRATION.as_secs() as i64) as u64
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The destination.
    pub to: SocketAddr,
    /// The signed packet.
    pub datagram: Vec<u8>,
}

/// What the node needs to know about itself.
#[derive(Debug, Clone)]
pub struct V4Settings {
    /// The node key.
    pub key: SecretKey,
    /// The endpoint we advertise in our Pings' `from`.
    pub endpoint: Endpoint,
    /// Nodes to bootstrap from.
    pub bootnodes: Vec<NodeRecord>,
}

/// A short form of a node id for logs (first 8 bytes, hex).
pub struct ShortId<'a>(pub &'a PeerId);

impl fmt::Display for ShortId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(&self.0[..8]))
    }
}

/// The discv4 node state.
pub struct V4Node {
    key: SecretKey,
    local_id: PeerId,
    endpoint: Endpoint,
    record: LocalRecord,
    table: RoutingTable,
    proofs: EndpointProofs,
    pending: PendingRequests,
    lookup: Option<Lookup>,
    bootnodes: Vec<NodeRecord>,
    timers: maintenance::Timers,
    bans: BanList,
    out: Vec<Outbound>,
}

impl V4Node {
    /// A node with an empty table. The first [`V4Node::on_tick`] starts a
    /// lookup of our own id seeded with the bootnodes.
    pub fn new(settings: V4Settings, record: LocalRecord, now: Now) -> Self {
        let local_id = peer_id_of_secret(&settings.key);
        Self {
            key: settings.key,
            local_id,
            endpoint: settings.endpoint,
            record,
            table: RoutingTable::new(&local_id),
            proofs: EndpointProofs::default(),
            pending: PendingRequests::default(),
            lookup: None,
            bootnodes: settings.bootnodes,
            timers: maintenance::Timers::new(now.instant),
            bans: BanList::default(),
            out: Vec::new(),
        }
    }

    /// Bans `id` and `ip` until `until`: their packets are ignored, `id` is
    /// dropped from the table and neither is told to others.
    pub fn ban(&mut self, id: PeerId, ip: std::net::IpAddr, until: Instant) {
        self.bans.ban(id, ip, until);
        self.table.remove(&id);
    }

    /// Lifts the ban on `id`; whether there was one.
    pub fn lift_ban(&mut self, id: &PeerId) -> bool {
        self.bans.lift(id)
    }

    /// Our node id.
    pub fn local_id(&self) -> PeerId {
        self.local_id
    }

    /// Nodes in the routing table.
    pub fn table_size(&self) -> usize {
        self.table.len()
    }

    /// The routing table's nodes.
    pub fn table_nodes(&self) -> Vec<NodeRecord> {
        self.table.nodes()
    }

    /// Signs `message` and queues it for `to`; returns the packet hash.
    fn send(&mut self, to: SocketAddr, message: &Message) -> B256 {
        let (datagram, hash) = v4wire::encode(&self.key, message);
        tracing::trace!(%to, kind = message.name(), bytes = datagram.len(), "send");
        self.out.push(Outbound { to, datagram });
        hash
    }

    /// Pings `node` (unless a Ping to it is already outstanding or too many
    /// are) and remembers why.
    fn ping(&mut self, node: NodeRecord, purpose: PingPurpose, now: Now) {
        if self.pending.is_pinging(&node.id, node.ip) || !self.pending.can_ping() {
            return;
        }
        let message = Message::Ping(Ping {
            version: PING_VERSION,
            from: self.endpoint,
            to: Endpoint {
                ip: node.ip,
                udp: node.udp,
                tcp: node.tcp,
            },
            expiration: now.expiration(),
            enr_seq: Some(self.record.seq()),
        });
        let hash = self.send(node.udp_addr(), &message);
        self.pending.add_ping(
            hash,
            PendingPing {
                node,
                sent: now.instant,
                purpose,
            },
        );
    }

    fn take_out(&mut self) -> Vec<Outbound> {
        std::mem::take(&mut self.out)
    }
}
