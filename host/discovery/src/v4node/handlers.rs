//! One function per packet kind, as go-ethereum's `v4_udp.go` splits them.
//! Every packet is dropped silently (logged at `trace`) when it is expired,
//! unsolicited, from a banned node, or from a sender whose endpoint is not
//! proven where that is required.

use std::net::SocketAddr;

use alloy_primitives::B256;
use tracing::{debug_span, trace};

use super::{Now, Outbound, ShortId, V4Node};
use crate::{
    node::{NodeRecord, node_hash},
    pending::PingPurpose,
    protocol::BUCKET_SIZE,
    relay::{can_relay, is_special},
    table::Insert,
    v4wire::{
        self, Endpoint, EnrResponse, FindNode, Message, Neighbours, Packet, Ping, Pong, is_expired,
        split_neighbours,
    },
};

impl V4Node {
    /// Handles one received datagram; returns what to send in reply.
    pub fn on_datagram(&mut self, now: Now, from: SocketAddr, datagram: &[u8]) -> Vec<Outbound> {
        let packet = match v4wire::decode(datagram) {
            Ok(packet) => packet,
            Err(error) => {
                trace!(%from, %error, "dropping undecodable discv4 packet");
                return Vec::new();
            }
        };
        if packet.sender == self.local_id {
            return Vec::new();
        }
        if !self.bans.is_empty() && self.bans.refuses(&packet.sender, from.ip(), now.instant) {
            trace!(%from, "dropping packet from a banned node");
            return Vec::new();
        }
        let span = debug_span!("discv4_peer", peer = %from, id = %ShortId(&packet.sender));
        let _entered = span.enter();
        if let Some(expiration) = packet.message.expiration()
            && is_expired(expiration, now.unix)
        {
            trace!(
                kind = packet.message.name(),
                expiration, "dropping expired packet"
            );
            return Vec::new();
        }
        let Packet {
            message,
            sender,
            hash,
        } = packet;
        let peer = Peer {
            addr: from,
            id: sender,
        };
        match message {
            Message::Ping(ping) => self.handle_ping(now, peer, hash, &ping),
            Message::Pong(pong) => self.handle_pong(now, peer, &pong),
            Message::FindNode(find) => self.handle_find_node(now, peer, &find),
            Message::Neighbours(neighbours) => self.handle_neighbours(now, peer, neighbours),
            Message::EnrRequest(_) => self.handle_enr_request(now, peer, hash),
            Message::EnrResponse(_) => trace!("dropping unsolicited ENRResponse"),
        }
        self.take_out()
    }

    /// Ping: always answer with a Pong to the observed source address; ping
    /// back unless the sender's endpoint is already proven.
    fn handle_ping(&mut self, now: Now, peer: Peer, hash: B256, ping: &Ping) {
        trace!("ping");
        let pong = Message::Pong(Pong {
            to: Endpoint {
                ip: peer.ip(),
                udp: peer.addr.port(),
                tcp: ping.from.tcp,
            },
            reply_token: hash,
            expiration: now.expiration(),
            enr_seq: Some(self.record.seq()),
        });
        self.send(peer.addr, &pong);

        let node = NodeRecord {
            id: peer.id,
            ip: peer.ip(),
            udp: peer.addr.port(),
            tcp: ping.from.tcp,
        };
        if self.proofs.is_proven(&peer.id, node.ip, now.instant) {
            self.insert_live(node, now);
        } else {
            self.ping(node, PingPurpose::Bond, now);
        }
        self.proofs.ping_received(peer.id, node.ip, now.instant);
    }

    /// Pong: only a Pong quoting one of our outstanding Pings, from the node
    /// and IP we pinged, proves the endpoint.
    fn handle_pong(&mut self, now: Now, peer: Peer, pong: &Pong) {
        let Some(ping) = self
            .pending
            .take_pong(&peer.id, peer.ip(), &pong.reply_token)
        else {
            trace!(token = %pong.reply_token, "dropping unsolicited pong");
            return;
        };
        trace!(purpose = ?ping.purpose, "pong");
        self.proofs.pong_received(peer.id, peer.ip(), now.instant);
        self.insert_live(ping.node, now);
    }

    /// Inserts a node that just proved itself; checks the oldest entry of a
    /// full bucket.
    fn insert_live(&mut self, node: NodeRecord, now: Now) {
        match self.table.insert_live(node, now.instant) {
            Insert::Added => trace!(size = self.table.len(), "node added to table"),
            Insert::BucketFull { oldest } => self.ping(oldest, PingPurpose::BucketCheck, now),
            Insert::Updated | Insert::Rejected => {}
        }
    }

    /// FindNode: answered only for endpoint-proven senders (amplification
    /// protection), with the closest table nodes they may be told about,
    /// split into packets of at most 1280 bytes.
    fn handle_find_node(&mut self, now: Now, peer: Peer, find: &FindNode) {
        if !self.proofs.is_proven(&peer.id, peer.ip(), now.instant) {
            trace!("dropping findnode from unproven endpoint");
            return;
        }
        let target = node_hash(&find.target);
        let nodes: Vec<NodeRecord> = self
            .table
            .closest(&target, BUCKET_SIZE)
            .into_iter()
            .filter(|n| can_relay(peer.ip(), n.ip))
            .filter(|n| !self.bans.refuses(&n.id, n.ip, now.instant))
            .collect();
        trace!(count = nodes.len(), "findnode");
        for packet in split_neighbours(&nodes, now.expiration()) {
            self.send(peer.addr, &Message::Neighbours(packet));
        }
    }

    /// Neighbors: only as the answer to our FindNode. The nodes become
    /// lookup candidates (to be pinged), never table entries directly.
    fn handle_neighbours(&mut self, now: Now, peer: Peer, neighbours: Neighbours) {
        let count = neighbours.nodes.len();
        if !self.pending.neighbours_received(&peer.id, peer.ip(), count) {
            trace!(count, "dropping unsolicited neighbours");
            return;
        }
        let local = self.local_id;
        let nodes: Vec<NodeRecord> = neighbours
            .nodes
            .into_iter()
            .map(|n| NodeRecord {
                ip: n.ip.to_canonical(),
                ..n
            })
            .filter(|n| {
                n.id != local && n.udp != 0 && !is_special(n.ip) && can_relay(peer.ip(), n.ip)
            })
            .filter(|n| !self.bans.refuses(&n.id, n.ip, now.instant))
            .collect();
        trace!(count, usable = nodes.len(), "neighbours");
        if let Some(lookup) = self.lookup.as_mut() {
            lookup.on_neighbours(&peer.id, &nodes);
        }
    }

    /// ENRRequest: answered with our signed record, for proven senders only.
    fn handle_enr_request(&mut self, now: Now, peer: Peer, hash: B256) {
        if !self.proofs.is_proven(&peer.id, peer.ip(), now.instant) {
            trace!("dropping enr request from unproven endpoint");
            return;
        }
        trace!("enr request");
        let response = Message::EnrResponse(EnrResponse {
            reply_token: hash,
            record: self.record.rlp(),
        });
        self.send(peer.addr, &response);
    }
}

/// The sender of a packet: where it came from and who signed it.
#[derive(Debug, Clone, Copy)]
struct Peer {
    addr: SocketAddr,
    id: crate::node::PeerId,
}

impl Peer {
    /// The source IP, IPv4-mapped IPv6 folded to IPv4.
    fn ip(&self) -> std::net::IpAddr {
        self.addr.ip().to_canonical()
    }
}
