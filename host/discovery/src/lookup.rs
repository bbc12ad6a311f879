//! An iterative Kademlia lookup, pure: which node to ask next, and when the
//! lookup is over. The service performs the steps and feeds the answers back.
//!
//! Nodes a lookup learns from Neighbors are only candidates: each is pinged
//! (bonded) before it is asked anything, and it enters the routing table only
//! by answering that Ping. Before asking a node, we make sure it has seen our
//! endpoint proven (it pinged us, or enough time passed after our Ping for it
//! to do so), since discv4 nodes ignore FindNode from unproven senders.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, B512};

use crate::{
    node::{NodeRecord, PeerId, distance_cmp, node_hash},
    protocol::{BUCKET_SIZE, LOOKUP_PARALLELISM, LOOKUP_TIMEOUT, RESPONSE_TIMEOUT},
};

/// How long we wait, after pinging a candidate, for it to ping us back.
const BOND_WAIT: Duration = Duration::from_millis(600);
/// How long a queried node has to answer before it is skipped.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// Candidates kept beyond the closest `BUCKET_SIZE`.
const MAX_CANDIDATES: usize = BUCKET_SIZE * 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    Bonding(Instant),
    Asked(Instant),
    Answered,
    Failed,
}

#[derive(Debug, Clone)]
struct Candidate {
    record: NodeRecord,
    hash: B256,
    state: State,
}

/// What the service should do next for the lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ping the node to bond with it.
    Ping(NodeRecord),
    /// Send it FindNode for the lookup target.
    FindNode(NodeRecord),
}

/// What the service knows about a candidate, asked by [`Lookup::step`].
pub trait BondState {
    /// The node answered our Ping (it is endpoint-proven).
    fn is_proven(&self, node: &NodeRecord) -> bool;
    /// The node pinged us recently, so it holds our endpoint proof.
    fn knows_us(&self, node: &NodeRecord) -> bool;
}

/// One lookup.
#[derive(Debug)]
pub struct Lookup {
    local: PeerId,
    target: B512,
    target_hash: B256,
    started: Instant,
    candidates: Vec<Candidate>,
    seen: HashSet<PeerId>,
}

impl Lookup {
    /// Starts a lookup for `target` (a 64-byte node id) from `seeds`.
    pub fn new(local: PeerId, target: B512, seeds: &[NodeRecord], now: Instant) -> Self {
        let mut lookup = Self {
            local,
            target,
            target_hash: node_hash(&target),
            started: now,
            candidates: Vec::new(),
            seen: HashSet::new(),
        };
        lookup.add(seeds);
        lookup
    }

    /// The 64-byte target sent in FindNode.
    pub fn target(&self) -> B512 {
        self.target
    }

    /// Adds candidates (from the table, bootnodes or a Neighbors answer).
    pub fn add(&mut self, nodes: &[NodeRecord]) {
        for node in nodes {
            if node.id == self.local || !self.seen.insert(node.id) {
                continue;
            }
            self.candidates.push(Candidate {
                record: *node,
                hash: node.hash(),
                state: State::New,
            });
        }
        let target = self.target_hash;
        self.candidates
            .sort_by(|a, b| distance_cmp(&target, &a.hash, &b.hash));
        self.candidates.truncate(MAX_CANDIDATES);
    }

    /// Records a Neighbors answer from `from`.
    pub fn on_neighbours(&mut self, from: &PeerId, nodes: &[NodeRecord]) {
        if let Some(c) = self.candidates.iter_mut().find(|c| c.record.id == *from) {
            c.state = State::Answered;
        }
        self.add(nodes);
    }

    /// Advances timeouts and returns the requests to send now.
    pub fn step(&mut self, now: Instant, bonds: &impl BondState) -> Vec<Step> {
        let mut steps = Vec::new();
        for c in &mut self.candidates {
            match c.state {
                State::Asked(at) if now.saturating_duration_since(at) >= ASK_TIMEOUT => {
                    c.state = State::Failed;
                }
                State::Bonding(at) => {
                    let waited = now.saturating_duration_since(at);
                    if bonds.knows_us(&c.record)
                        || (waited >= BOND_WAIT && bonds.is_proven(&c.record))
                    {
                        c.state = State::Asked(now);
                        steps.push(Step::FindNode(c.record));
                    } else if waited >= RESPONSE_TIMEOUT + BOND_WAIT {
                        c.state = State::Failed;
                    }
                }
                _ => {}
            }
        }
        let mut in_flight = self
            .window()
            .filter(|c| matches!(c.state, State::Asked(_) | State::Bonding(_)))
            .count();
        let window: Vec<usize> = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state != State::Failed)
            .take(BUCKET_SIZE)
            .map(|(i, _)| i)
            .collect();
        for i in window {
            if in_flight >= LOOKUP_PARALLELISM {
                break;
            }
            let c = &mut self.candidates[i];
            if c.state != State::New {
                continue;
            }
            if bonds.knows_us(&c.record) {
                c.state = State::Asked(now);
                steps.push(Step::FindNode(c.record));
            } else {
                c.state = State::Bonding(now);
                steps.push(Step::Ping(c.record));
            }
            in_flight += 1;
        }
        steps
    }

    /// The closest `BUCKET_SIZE` candidates that have not failed.
    fn window(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.state != State::Failed)
            .take(BUCKET_SIZE)
    }

    /// Whether the lookup is over: every one of the closest candidates has
    /// answered or failed, or the lookup ran out of time.
    pub fn is_finished(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= LOOKUP_TIMEOUT
            || self
                .window()
                .all(|c| matches!(c.state, State::Answered | State::Failed))
    }

    /// The candidates that answered, closest first.
    pub fn answered(&self) -> Vec<NodeRecord> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Answered)
            .map(|c| c.record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashSet, net::IpAddr};

    use secp256k1::SecretKey;

    use super::*;
    use crate::node::peer_id_of_secret;

    fn node(seed: u8) -> NodeRecord {
        let key = SecretKey::from_byte_array([seed; 32]).expect("key");
        NodeRecord {
            id: peer_id_of_secret(&key),
            ip: "127.0.0.1".parse::<IpAddr>().expect("ip"),
            udp: 30000 + u16::from(seed),
            tcp: 0,
        }
    }

    #[derive(Default)]
    struct Bonds {
        proven: HashSet<PeerId>,
        knows_us: HashSet<PeerId>,
    }

    impl BondState for Bonds {
        fn is_proven(&self, node: &NodeRecord) -> bool {
            self.proven.contains(&node.id)
        }
        fn knows_us(&self, node: &NodeRecord) -> bool {
            self.knows_us.contains(&node.id)
        }
    }

    #[test]
    fn bonds_before_asking_and_finishes() {
        let now = Instant::now();
        let local = node(1);
        let seed = node(2);
        let mut lookup = Lookup::new(local.id, local.id, &[seed, local], now);
        let mut bonds = Bonds::default();

        assert_eq!(lookup.step(now, &bonds), vec![Step::Ping(seed)]);
        assert!(lookup.step(now, &bonds).is_empty(), "waits for the bond");
        // It answered our Ping and pinged us back.
        bonds.proven.insert(seed.id);
        bonds.knows_us.insert(seed.id);
        assert_eq!(lookup.step(now, &bonds), vec![Step::FindNode(seed)]);

        let found = [node(3), node(4)];
        lookup.on_neighbours(&seed.id, &found);
        bonds.knows_us.insert(found[0].id);
        let steps = lookup.step(now, &bonds);
        assert!(steps.contains(&Step::FindNode(found[0])));
        assert!(steps.contains(&Step::Ping(found[1])));
        assert!(!lookup.is_finished(now));

        // node 4 never answers: after the timeouts the lookup is over.
        lookup.on_neighbours(&found[0].id, &[]);
        let later = now + ASK_TIMEOUT + RESPONSE_TIMEOUT + BOND_WAIT;
        assert!(lookup.step(later, &bonds).is_empty());
        assert!(lookup.is_finished(later));
        assert_eq!(lookup.answered().len(), 2);
    }

    #[test]
    fn asks_proven_nodes_after_the_bond_wait() {
        let now = Instant::now();
        let local = node(1);
        let seed = node(2);
        let mut lookup = Lookup::new(local.id, local.id, &[seed], now);
        let mut bonds = Bonds::default();
        assert_eq!(lookup.step(now, &bonds), vec![Step::Ping(seed)]);
        bonds.proven.insert(seed.id);
        assert!(lookup.step(now, &bonds).is_empty());
        assert_eq!(
            lookup.step(now + BOND_WAIT, &bonds),
            vec![Step::FindNode(seed)]
        );
    }

    #[test]
    fn parallelism_is_bounded() {
        let now = Instant::now();
        let local = node(1);
        let seeds: Vec<_> = (2..30).map(node).collect();
        let mut lookup = Lookup::new(local.id, local.id, &seeds, now);
        let bonds = Bonds::default();
        assert_eq!(lookup.step(now, &bonds).len(), LOOKUP_PARALLELISM);
        assert!(lookup.step(now, &bonds).is_empty());
        assert!(lookup.is_finished(now + LOOKUP_TIMEOUT));
    }
}
