//! The timers: request timeouts, liveness checks of table nodes,
//! bootstrapping from the bootnodes, and periodic refresh lookups.
//!
//! Nothing here ever contacts a node just after it bonded: liveness checks
//! only pick nodes silent for [`REVALIDATE_AGE`], and lookups only run at
//! start, on refresh and while the table is empty.

use std::time::Instant;

use alloy_primitives::B512;
use rand::RngCore;
use tracing::debug;

use super::{Now, Outbound, V4Node};
use crate::{
    lookup::{BondState, Lookup, Step},
    node::{NodeRecord, node_hash},
    pending::PingPurpose,
    proofs::EndpointProofs,
    protocol::{
        BOOTNODE_RETRY_INTERVAL, BUCKET_SIZE, MAX_LIVENESS_FAILURES, REFRESH_INTERVAL,
        REVALIDATE_AGE, REVALIDATE_INTERVAL,
    },
    v4wire::{FindNode, Message},
};

/// How often stale endpoint proofs are dropped.
const PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// When each periodic job runs next.
#[derive(Debug)]
pub(super) struct Timers {
    revalidate: Instant,
    refresh: Instant,
    prune: Instant,
    /// While the table is empty, when the bootnodes are tried again.
    bootstrap_retry: Instant,
    /// The first lookup (of our own id) has not run yet.
    bootstrapped: bool,
}

impl Timers {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            revalidate: now + REVALIDATE_INTERVAL,
            refresh: now + REFRESH_INTERVAL,
            prune: now + PRUNE_INTERVAL,
            bootstrap_retry: now,
            bootstrapped: false,
        }
    }
}

/// [`BondState`] over our endpoint proofs, at one instant.
struct ProofView<'a> {
    proofs: &'a EndpointProofs,
    now: Instant,
}

impl BondState for ProofView<'_> {
    fn is_proven(&self, node: &NodeRecord) -> bool {
        self.proofs.is_proven(&node.id, node.ip, self.now)
    }

    fn knows_us(&self, node: &NodeRecord) -> bool {
        self.proofs.knows_us(&node.id, node.ip, self.now)
    }
}

impl V4Node {
    /// Runs the timers; call every few hundred milliseconds.
    pub fn on_tick(&mut self, now: Now) -> Vec<Outbound> {
        for ping in self.pending.expire(now.instant) {
            let limit = match ping.purpose {
                PingPurpose::Bond => continue,
                PingPurpose::Revalidate => MAX_LIVENESS_FAILURES,
                PingPurpose::BucketCheck => 1,
            };
            if self.table.record_failure(&ping.node.id, limit) {
                debug!(node = %ping.node, "node removed from table (no pong)");
            }
        }
        if now.instant >= self.timers.prune {
            self.timers.prune = now.instant + PRUNE_INTERVAL;
            self.proofs.prune(now.instant);
        }
        if now.instant >= self.timers.revalidate {
            self.timers.revalidate = now.instant + REVALIDATE_INTERVAL;
            if let Some(node) = self
                .table
                .revalidation_candidate(now.instant, REVALIDATE_AGE)
            {
                self.ping(node, PingPurpose::Revalidate, now);
            }
        }
        self.schedule_lookups(now);
        self.step_lookup(now);
        self.take_out()
    }

    fn schedule_lookups(&mut self, now: Now) {
        if self.lookup.is_some() {
            return;
        }
        if !self.timers.bootstrapped {
            self.timers.bootstrapped = true;
            self.timers.bootstrap_retry = now.instant + BOOTNODE_RETRY_INTERVAL;
            self.begin_lookup(self.local_id, now.instant);
        } else if now.instant >= self.timers.refresh {
            self.timers.refresh = now.instant + REFRESH_INTERVAL;
            let mut target = B512::ZERO;
            rand::rng().fill_bytes(target.as_mut_slice());
            self.begin_lookup(target, now.instant);
        } else if self.table.is_empty()
            && !self.bootnodes.is_empty()
            && now.instant >= self.timers.bootstrap_retry
        {
            self.timers.bootstrap_retry = now.instant + BOOTNODE_RETRY_INTERVAL;
            self.begin_lookup(self.local_id, now.instant);
        }
    }

    /// Starts a lookup for `target`, seeded with the closest table nodes and
    /// the bootnodes.
    fn begin_lookup(&mut self, target: B512, now: Instant) {
        let mut seeds = self.table.closest(&node_hash(&target), BUCKET_SIZE);
        seeds.extend(self.bootnodes.iter().copied());
        debug!(seeds = seeds.len(), "starting lookup");
        self.lookup = Some(Lookup::new(self.local_id, target, &seeds, now));
    }

    fn step_lookup(&mut self, now: Now) {
        let Some(lookup) = self.lookup.as_mut() else {
            return;
        };
        let view = ProofView {
            proofs: &self.proofs,
            now: now.instant,
        };
        let steps = lookup.step(now.instant, &view);
        let target = lookup.target();
        if lookup.is_finished(now.instant) {
            debug!(
                answered = lookup.answered().len(),
                table = self.table.len(),
                "lookup finished"
            );
            self.lookup = None;
        }
        for step in steps {
            match step {
                Step::Ping(node) => self.ping(node, PingPurpose::Bond, now),
                Step::FindNode(node) => {
                    let message = Message::FindNode(FindNode {
                        target,
                        expiration: now.expiration(),
                    });
                    self.send(node.udp_addr(), &message);
                    self.pending.add_find_node(node.id, node.ip, now.instant);
                }
            }
        }
    }
}
