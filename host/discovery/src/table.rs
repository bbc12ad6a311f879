//! The Kademlia routing table, pure: 256 buckets of 16 nodes by log-distance
//! of keccak256 node ids, each with a short replacement list.
//!
//! Only nodes that have proven their endpoint (answered our Ping) are ever
//! inserted; the service decides that, the table only keeps order. Within a
//! bucket, entries are ordered least recently seen first. A full bucket keeps
//! the newcomer as a replacement and asks the caller to check the oldest entry
//! ([`Insert::BucketFull`]); if that check fails, [`RoutingTable::record_failure`]
//! evicts it and promotes the freshest replacement.

use std::{collections::HashMap, time::Instant};

use alloy_primitives::B256;

use crate::{
    node::{NodeRecord, PeerId, distance_cmp, log_distance, node_hash},
    protocol::{BUCKET_COUNT, BUCKET_IP_LIMIT, BUCKET_SIZE, MAX_REPLACEMENTS, TABLE_IP_LIMIT},
    relay::subnet,
};

/// One node in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The node and its last proven endpoint.
    pub record: NodeRecord,
    /// Its Kademlia key.
    pub hash: B256,
    /// When it was last heard from (a Pong to our Ping).
    pub last_seen: Instant,
    /// Consecutive unanswered liveness checks.
    pub failures: u32,
}

/// What [`RoutingTable::insert_live`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert {
    /// The node is new in the table.
    Added,
    /// The node was already there; its endpoint and liveness were refreshed.
    Updated,
    /// The bucket is full: the node waits as a replacement, and the caller
    /// should check that `oldest` is still alive.
    BucketFull {
        /// The least recently seen entry of the bucket.
        oldest: NodeRecord,
    },
    /// Not inserted: it is ourselves, or its subnet is at its limit.
    Rejected,
}

#[derive(Debug, Default)]
struct Bucket {
    entries: Vec<Entry>,
    replacements: Vec<Entry>,
}

/// The routing table.
#[derive(Debug)]
pub struct RoutingTable {
    local: B256,
    buckets: Vec<Bucket>,
    subnets: HashMap<[u8; 8], usize>,
}

impl RoutingTable {
    /// An empty table around `local` (our own node id).
    pub fn new(local: &PeerId) -> Self {
        Self {
            local: node_hash(local),
            buckets: (0..BUCKET_COUNT).map(|_| Bucket::default()).collect(),
            subnets: HashMap::new(),
        }
    }

    /// Nodes in the table (replacements not counted).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.entries.len()).sum()
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn bucket_index(&self, hash: &B256) -> Option<usize> {
        log_distance(&self.local, hash).checked_sub(1)
    }

    /// The entry of `id`, if it is in the table.
    pub fn get(&self, id: &PeerId) -> Option<&Entry> {
        let hash = node_hash(id);
        let index = self.bucket_index(&hash)?;
        self.buckets[index]
            .entries
            .iter()
            .find(|e| e.record.id == *id)
    }

    /// Whether `id` is in the table.
    pub fn contains(&self, id: &PeerId) -> bool {
        self.get(id).is_some()
    }

    fn subnet_allows(&self, index: usize, record: &NodeRecord) -> bool {
        let Some(net) = subnet(record.ip) else {
            return true;
        };
        if self.subnets.get(&net).copied().unwrap_or(0) >= TABLE_IP_LIMIT {
            return false;
        }
        let in_bucket = self.buckets[index]
            .entries
            .iter()
            .filter(|e| subnet(e.record.ip) == Some(net))
            .count();
        in_bucket < BUCKET_IP_LIMIT
    }

    fn count_subnet(&mut self, record: &NodeRecord, delta: isize) {
        if let Some(net) = subnet(record.ip) {
            let count = self.subnets.entry(net).or_insert(0);
            *count = count.saturating_add_signed(delta);
            if *count == 0 {
                self.subnets.remove(&net);
            }
        }
    }

    /// Records that `record` just proved its endpoint (answered our Ping).
    pub fn insert_live(&mut self, record: NodeRecord, now: Instant) -> Insert {
        let hash = record.hash();
        let Some(index) = self.bucket_index(&hash) else {
            return Insert::Rejected;
        };
        let fresh = Entry {
            record,
            hash,
            last_seen: now,
            failures: 0,
        };
        if let Some(at) = self.buckets[index]
            .entries
            .iter()
            .position(|e| e.record.id == record.id)
        {
            let old = self.buckets[index].entries.remove(at);
            if old.record.ip != record.ip {
                self.count_subnet(&old.record, -1);
                if !self.subnet_allows(index, &record) {
                    return Insert::Rejected;
                }
                self.count_subnet(&record, 1);
            }
            self.buckets[index].entries.push(fresh);
            return Insert::Updated;
        }
        self.buckets[index]
            .replacements
            .retain(|e| e.record.id != record.id);
        if !self.subnet_allows(index, &record) {
            return Insert::Rejected;
        }
        let bucket = &mut self.buckets[index];
        if bucket.entries.len() < BUCKET_SIZE {
            bucket.entries.push(fresh);
            self.count_subnet(&record, 1);
            return Insert::Added;
        }
        if bucket.replacements.len() >= MAX_REPLACEMENTS {
            bucket.replacements.remove(0);
        }
        bucket.replacements.push(fresh);
        Insert::BucketFull {
            oldest: bucket.entries[0].record,
        }
    }

    /// Counts an unanswered liveness check of `id`. After `max_failures`
    /// consecutive ones the node is removed and the freshest replacement
    /// takes its place. Returns whether the node was removed.
    pub fn record_failure(&mut self, id: &PeerId, max_failures: u32) -> bool {
        let hash = node_hash(id);
        let Some(index) = self.bucket_index(&hash) else {
            return false;
        };
        let bucket = &mut self.buckets[index];
        let Some(at) = bucket.entries.iter().position(|e| e.record.id == *id) else {
            return false;
        };
        bucket.entries[at].failures += 1;
        if bucket.entries[at].failures < max_failures {
            return false;
        }
        let removed = bucket.entries.remove(at);
        self.count_subnet(&removed.record, -1);
        while let Some(candidate) = self.buckets[index].replacements.pop() {
            if self.subnet_allows(index, &candidate.record) {
                self.count_subnet(&candidate.record, 1);
                // A promoted replacement is the least recently checked entry.
                self.buckets[index].entries.insert(0, candidate);
                break;
            }
        }
        true
    }

    /// Removes `id` from the table (a replacement takes its place, as after
    /// failed liveness checks). Returns whether it was there.
    pub fn remove(&mut self, id: &PeerId) -> bool {
        self.contains(id) && self.record_failure(id, 0)
    }

    /// Up to `count` table nodes closest to `target` (a Kademlia key),
    /// closest first.
    pub fn closest(&self, target: &B256, count: usize) -> Vec<NodeRecord> {
        let mut all: Vec<&Entry> = self.buckets.iter().flat_map(|b| b.entries.iter()).collect();
        all.sort_by(|a, b| distance_cmp(target, &a.hash, &b.hash));
        all.into_iter().take(count).map(|e| e.record).collect()
    }

    /// The table node heard from least recently, if it has been silent for
    /// at least `min_age`: the next one to check for liveness.
    pub fn revalidation_candidate(
        &self,
        now: Instant,
        min_age: std::time::Duration,
    ) -> Option<NodeRecord> {
        self.buckets
            .iter()
            .flat_map(|b| b.entries.iter())
            .filter(|e| now.saturating_duration_since(e.last_seen) >= min_age)
            .min_by_key(|e| e.last_seen)
            .map(|e| e.record)
    }

    /// Every node in the table.
    pub fn nodes(&self) -> Vec<NodeRecord> {
        self.buckets
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.record))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::{net::IpAddr, time::Duration};

    use secp256k1::SecretKey;

    use super::*;
    use crate::node::peer_id_of_secret;

    fn node(seed: u32, ip: &str) -> NodeRecord {
        let mut bytes = [1u8; 32];
        bytes[..4].copy_from_slice(&seed.to_be_bytes());
        let key = SecretKey::from_byte_array(bytes).expect("key");
        NodeRecord {
            id: peer_id_of_secret(&key),
            ip: ip.parse::<IpAddr>().expect("ip"),
            udp: 30303,
            tcp: 30303,
        }
    }

    /// Nodes that all fall into the same bucket as seen from `local`.
    fn same_bucket(
        local: &RoutingTable,
        count: usize,
        ip: impl Fn(usize) -> String,
    ) -> Vec<NodeRecord> {
        let mut by_bucket: HashMap<usize, Vec<NodeRecord>> = HashMap::new();
        for seed in 0..5_000u32 {
            let n = node(seed, "127.0.0.1");
            let index = local.bucket_index(&n.hash()).expect("not self");
            let list = by_bucket.entry(index).or_default();
            list.push(n);
            if list.len() == count {
                return list
                    .iter()
                    .enumerate()
                    .map(|(i, n)| NodeRecord {
                        ip: ip(i).parse().expect("ip"),
                        ..*n
                    })
                    .collect();
            }
        }
        panic!("no bucket with {count} nodes");
    }

    #[test]
    fn insert_update_and_self() {
        let local = node(999_999, "127.0.0.1");
        let mut table = RoutingTable::new(&local.id);
        let now = Instant::now();
        assert_eq!(table.insert_live(local, now), Insert::Rejected);
        let a = node(1, "127.0.0.1");
        assert_eq!(table.insert_live(a, now), Insert::Added);
        let moved = NodeRecord { udp: 1234, ..a };
        assert_eq!(table.insert_live(moved, now), Insert::Updated);
        assert_eq!(table.len(), 1);
        assert_eq!(table.get(&a.id).map(|e| e.record.udp), Some(1234));
    }

    #[test]
    fn full_bucket_keeps_replacement_until_oldest_fails() {
        let local = node(999_999, "127.0.0.1");
        let mut table = RoutingTable::new(&local.id);
        let nodes = same_bucket(&table, BUCKET_SIZE + 1, |_| "127.0.0.1".into());
        let start = Instant::now();
        for (i, n) in nodes[..BUCKET_SIZE].iter().enumerate() {
            let at = start + Duration::from_secs(i as u64);
            assert_eq!(table.insert_live(*n, at), Insert::Added);
        }
        let newcomer = nodes[BUCKET_SIZE];
        let later = start + Duration::from_secs(100);
        assert_eq!(
            table.insert_live(newcomer, later),
            Insert::BucketFull { oldest: nodes[0] }
        );
        assert!(!table.contains(&newcomer.id));
        assert!(!table.record_failure(&nodes[0].id, 2));
        assert!(table.record_failure(&nodes[0].id, 2));
        assert!(!table.contains(&nodes[0].id));
        assert!(table.contains(&newcomer.id));
        assert_eq!(table.len(), BUCKET_SIZE);
    }

    #[test]
    fn subnet_limits_apply_to_public_addresses_only() {
        let local = node(999_999, "127.0.0.1");
        let mut table = RoutingTable::new(&local.id);
        let public = same_bucket(&table, 3, |i| format!("1.2.3.{}", i + 1));
        let now = Instant::now();
        assert_eq!(table.insert_live(public[0], now), Insert::Added);
        assert_eq!(table.insert_live(public[1], now), Insert::Added);
        assert_eq!(table.insert_live(public[2], now), Insert::Rejected);
        let lan = same_bucket(&table, 3, |i| format!("10.0.0.{}", i + 1));
        for n in lan {
            assert_ne!(table.insert_live(n, now), Insert::Rejected);
        }
    }

    #[test]
    fn closest_and_revalidation_order() {
        let local = node(999_999, "127.0.0.1");
        let mut table = RoutingTable::new(&local.id);
        let start = Instant::now();
        let nodes: Vec<_> = (0..40).map(|i| node(i, "127.0.0.1")).collect();
        for (i, n) in nodes.iter().enumerate() {
            table.insert_live(*n, start + Duration::from_secs(i as u64));
        }
        let target = nodes[7].hash();
        let closest = table.closest(&target, BUCKET_SIZE);
        assert_eq!(closest.len(), BUCKET_SIZE);
        assert_eq!(closest[0], nodes[7]);
        for pair in closest.windows(2) {
            assert_ne!(
                distance_cmp(&target, &pair[0].hash(), &pair[1].hash()),
                std::cmp::Ordering::Greater
            );
        }
        let now = start + Duration::from_secs(1000);
        let first = table.revalidation_candidate(now, Duration::from_secs(60));
        assert_eq!(first, Some(nodes[0]));
        assert_eq!(
            table.revalidation_candidate(start, Duration::from_secs(60)),
            None
        );
    }
}
