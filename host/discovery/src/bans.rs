//! Nodes the host has banned (for misbehaving over RLPx): discovery ignores
//! their packets, by node id or source IP, does not tell others about them
//! and drops them from its table, until the ban ends or is lifted.

use std::{collections::HashMap, net::IpAddr, time::Instant};

use crate::node::PeerId;

/// The bans in force, by node id (each with the IP banned with it).
#[derive(Debug, Default)]
pub struct BanList {
    bans: HashMap<PeerId, (IpAddr, Instant)>,
}

impl BanList {
    /// Bans `id` and `ip` until `until`.
    pub fn ban(&mut self, id: PeerId, ip: IpAddr, until: Instant) {
        self.bans.insert(id, (ip.to_canonical(), until));
    }

    /// Lifts the ban on `id` (and its IP); whether there was one.
    pub fn lift(&mut self, id: &PeerId) -> bool {
        self.bans.remove(id).is_some()
    }

    /// Whether a packet signed by `id`, or sent from `ip`, is to be ignored
    /// at `now` (ended bans are forgotten here).
    pub fn refuses(&mut self, id: &PeerId, ip: IpAddr, now: Instant) -> bool {
        self.bans.retain(|_, (_, until)| *until > now);
        let ip = ip.to_canonical();
        self.bans.contains_key(id) || self.bans.values().any(|(banned, _)| *banned == ip)
    }

    /// Whether nothing is banned (the common case: no lookups at all).
    pub fn is_empty(&self) -> bool {
        self.bans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_ban_covers_the_id_and_the_ip_until_it_ends_or_is_lifted() {
        let mut list = BanList::default();
        let now = Instant::now();
        let (id, other) = (PeerId::repeat_byte(1), PeerId::repeat_byte(2));
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        list.ban(id, ip, now + Duration::from_secs(60));
        assert!(list.refuses(&id, "10.9.9.9".parse().unwrap(), now));
        assert!(list.refuses(&other, "::ffff:10.0.0.7".parse().unwrap(), now));
        assert!(!list.refuses(&other, "10.0.0.8".parse().unwrap(), now));
        assert!(!list.refuses(&id, ip, now + Duration::from_secs(61)));
        assert!(list.is_empty(), "an ended ban is forgotten");
        list.ban(id, ip, now + Duration::from_secs(60));
        assert!(list.lift(&id));
        assert!(!list.refuses(&id, ip, now));
        assert!(!list.lift(&id));
    }
}
