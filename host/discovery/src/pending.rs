//! Our outstanding requests: Pings awaiting a Pong (keyed by the Ping's hash,
//! which the Pong must quote) and FindNodes awaiting Neighbors. A reply that
//! matches none of them is unsolicited and is ignored.

use std::{
    collections::HashMap,
    net::IpAddr,
    time::{Duration, Instant},
};

use alloy_primitives::B256;

use crate::{
    node::{NodeRecord, PeerId},
    protocol::{BUCKET_SIZE, MAX_PENDING_PINGS, RESPONSE_TIMEOUT},
};

/// Why we sent a Ping; decides what an unanswered one means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingPurpose {
    /// Endpoint proof for a node that pinged us, or that a lookup found.
    Bond,
    /// Periodic liveness check of a table node.
    Revalidate,
    /// Liveness check of the oldest node of a full bucket.
    BucketCheck,
}

/// A Ping we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingPing {
    /// Whom we pinged (the address we sent to).
    pub node: NodeRecord,
    /// When.
    pub sent: Instant,
    /// Why.
    pub purpose: PingPurpose,
}

#[derive(Debug, Clone, Copy)]
struct PendingFindNode {
    sent: Instant,
    received: usize,
}

/// The outstanding requests.
#[derive(Debug, Default)]
pub struct PendingRequests {
    pings: HashMap<B256, PendingPing>,
    find_nodes: HashMap<(PeerId, IpAddr), PendingFindNode>,
}

/// Neighbors may come in several packets; we wait this long for the rest.
const FIND_NODE_WINDOW: Duration = Duration::from_secs(2);

impl PendingRequests {
    /// Whether another Ping may be sent (the table of pending ones is bounded).
    pub fn can_ping(&self) -> bool {
        self.pings.len() < MAX_PENDING_PINGS
    }

    /// Whether a Ping to `id` at `ip` is already outstanding.
    pub fn is_pinging(&self, id: &PeerId, ip: IpAddr) -> bool {
        self.pings
            .values()
            .any(|p| p.node.id == *id && p.node.ip.to_canonical() == ip.to_canonical())
    }

    /// Registers a Ping sent, under its packet hash.
    pub fn add_ping(&mut self, hash: B256, ping: PendingPing) {
        self.pings.insert(hash, ping);
    }

    /// Matches a Pong from `id` at `ip` quoting `token`. Returns the Ping it
    /// answers, or `None` if the token, the sender or its IP do not match.
    pub fn take_pong(&mut self, id: &PeerId, ip: IpAddr, token: &B256) -> Option<PendingPing> {
        let ping = self.pings.get(token)?;
        if ping.node.id != *id || ping.node.ip.to_canonical() != ip.to_canonical() {
            return None;
        }
        self.pings.remove(token)
    }

    /// Registers a FindNode sent to `id` at `ip`.
    pub fn add_find_node(&mut self, id: PeerId, ip: IpAddr, now: Instant) {
        self.find_nodes.insert(
            (id, ip.to_canonical()),
            PendingFindNode {
                sent: now,
                received: 0,
            },
        );
    }

    /// Matches a Neighbors packet of `count` nodes from `id` at `ip` against
    /// our FindNodes. Returns whether it was solicited.
    pub fn neighbours_received(&mut self, id: &PeerId, ip: IpAddr, count: usize) -> bool {
        let key = (*id, ip.to_canonical());
        let Some(pending) = self.find_nodes.get_mut(&key) else {
            return false;
        };
        pending.received += count;
        if pending.received >= BUCKET_SIZE {
            self.find_nodes.remove(&key);
        }
        true
    }

    /// Drops requests past their deadline; returns the Pings that went
    /// unanswered.
    pub fn expire(&mut self, now: Instant) -> Vec<PendingPing> {
        self.find_nodes
            .retain(|_, f| now.saturating_duration_since(f.sent) < FIND_NODE_WINDOW);
        let mut expired = Vec::new();
        self.pings.retain(|_, p| {
            let alive = now.saturating_duration_since(p.sent) < RESPONSE_TIMEOUT;
            if !alive {
                expired.push(*p);
            }
            alive
        });
        expired
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B512;

    use super::*;

    fn record(ip: &str) -> NodeRecord {
        NodeRecord {
            id: B512::repeat_byte(5),
            ip: ip.parse().expect("ip"),
            udp: 1,
            tcp: 1,
        }
    }

    #[test]
    fn pong_must_quote_the_hash_and_come_from_the_pinged_ip() {
        let mut pending = PendingRequests::default();
        let now = Instant::now();
        let node = record("127.0.0.1");
        let token = B256::repeat_byte(9);
        pending.add_ping(
            token,
            PendingPing {
                node,
                sent: now,
                purpose: PingPurpose::Bond,
            },
        );
        assert!(pending.is_pinging(&node.id, node.ip));
        // Zero token (go-ethereum's Amplification/InvalidPongHash).
        assert!(pending.take_pong(&node.id, node.ip, &B256::ZERO).is_none());
        let other_ip = "127.0.0.2".parse().expect("ip");
        assert!(pending.take_pong(&node.id, other_ip, &token).is_none());
        assert!(pending.take_pong(&B512::ZERO, node.ip, &token).is_none());
        assert!(pending.take_pong(&node.id, node.ip, &token).is_some());
        assert!(
            pending.take_pong(&node.id, node.ip, &token).is_none(),
            "used once"
        );
    }

    #[test]
    fn neighbours_only_when_asked_and_requests_expire() {
        let mut pending = PendingRequests::default();
        let now = Instant::now();
        let node = record("127.0.0.1");
        assert!(!pending.neighbours_received(&node.id, node.ip, 3));
        pending.add_find_node(node.id, node.ip, now);
        assert!(pending.neighbours_received(&node.id, node.ip, 12));
        assert!(pending.neighbours_received(&node.id, node.ip, 4));
        assert!(
            !pending.neighbours_received(&node.id, node.ip, 1),
            "16 nodes complete it"
        );

        pending.add_ping(
            B256::ZERO,
            PendingPing {
                node,
                sent: now,
                purpose: PingPurpose::Revalidate,
            },
        );
        assert!(pending.expire(now).is_empty());
        let expired = pending.expire(now + RESPONSE_TIMEOUT);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].purpose, PingPurpose::Revalidate);
    }
}
