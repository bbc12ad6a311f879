//! Endpoint proofs, per (node id, IP) as in go-ethereum's node database.
//!
//! A node has proven its endpoint to us when it answered one of our Pings
//! with a Pong quoting that Ping's hash, from that IP: only then do we answer
//! its FindNode and ENRRequest, so a forged source address cannot turn us into
//! a traffic amplifier. The other direction ("it has seen a Ping from us
//! answered") is approximated as "it pinged us recently", which is when it
//! will answer our own FindNode.

use std::{
    collections::HashMap,
    net::IpAddr,
    time::{Duration, Instant},
};

use crate::{
    node::PeerId,
    protocol::{BOND_EXPIRATION, MAX_ENDPOINT_PROOFS},
};

#[derive(Debug, Default, Clone, Copy)]
struct Proof {
    ping_received: Option<Instant>,
    pong_received: Option<Instant>,
}

impl Proof {
    fn latest(&self) -> Option<Instant> {
        self.ping_received.max(self.pong_received)
    }
}

/// The proof records.
#[derive(Debug, Default)]
pub struct EndpointProofs {
    proofs: HashMap<(PeerId, IpAddr), Proof>,
}

fn fresh(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|at| now.saturating_duration_since(at) < BOND_EXPIRATION)
}

impl EndpointProofs {
    fn entry(&mut self, id: PeerId, ip: IpAddr) -> &mut Proof {
        self.proofs.entry((id, ip.to_canonical())).or_default()
    }

    /// `id` sent us a valid Ping from `ip`.
    pub fn ping_received(&mut self, id: PeerId, ip: IpAddr, now: Instant) {
        self.entry(id, ip).ping_received = Some(now);
    }

    /// `id` answered our Ping from `ip` with a matching Pong.
    pub fn pong_received(&mut self, id: PeerId, ip: IpAddr, now: Instant) {
        self.entry(id, ip).pong_received = Some(now);
    }

    /// Whether `id` has proven it receives packets at `ip` (answered our
    /// Ping within the bond expiration). Gates FindNode and ENRRequest.
    pub fn is_proven(&self, id: &PeerId, ip: IpAddr, now: Instant) -> bool {
        self.proofs
            .get(&(*id, ip.to_canonical()))
            .is_some_and(|p| fresh(p.pong_received, now))
    }

    /// Whether `id` pinged us from `ip` recently, so that our Pong proved our
    /// endpoint to it and it will answer our FindNode.
    pub fn knows_us(&self, id: &PeerId, ip: IpAddr, now: Instant) -> bool {
        self.proofs
            .get(&(*id, ip.to_canonical()))
            .is_some_and(|p| fresh(p.ping_received, now))
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.proofs.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.proofs.is_empty()
    }

    /// Drops expired records and, beyond the size cap, the oldest ones.
    pub fn prune(&mut self, now: Instant) {
        self.proofs
            .retain(|_, p| fresh(p.ping_received, now) || fresh(p.pong_received, now));
        if self.proofs.len() <= MAX_ENDPOINT_PROOFS {
            return;
        }
        let mut ages: Vec<Duration> = self
            .proofs
            .values()
            .map(|p| {
                p.latest()
                    .map_or(Duration::MAX, |at| now.saturating_duration_since(at))
            })
            .collect();
        let keep = MAX_ENDPOINT_PROOFS * 3 / 4;
        ages.sort_unstable();
        let cutoff = ages[keep];
        self.proofs.retain(|_, p| {
            p.latest()
                .is_some_and(|at| now.saturating_duration_since(at) < cutoff)
        });
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B512;

    use super::*;

    #[test]
    fn proofs_are_per_ip_and_expire() {
        let mut proofs = EndpointProofs::default();
        let id = B512::repeat_byte(1);
        let l1: IpAddr = "127.0.0.1".parse().expect("ip");
        let l2: IpAddr = "127.0.0.2".parse().expect("ip");
        let now = Instant::now();
        assert!(!proofs.is_proven(&id, l1, now));
        proofs.ping_received(id, l1, now);
        assert!(
            !proofs.is_proven(&id, l1, now),
            "a Ping alone proves nothing"
        );
        assert!(proofs.knows_us(&id, l1, now));
        proofs.pong_received(id, l1, now);
        assert!(proofs.is_proven(&id, l1, now));
        assert!(!proofs.is_proven(&id, l2, now), "proof is tied to the IP");
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().expect("ip");
        assert!(proofs.is_proven(&id, mapped, now));
        let later = now + BOND_EXPIRATION;
        assert!(!proofs.is_proven(&id, l1, later));
        proofs.prune(later);
        assert!(proofs.is_empty());
    }
}
