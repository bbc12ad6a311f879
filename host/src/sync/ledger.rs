//! What sync has done, as it is persisted: the three interval sets of
//! [`Coverage`] (chain namespace) and the anchor record (host namespace),
//! every change written in the same atomic batch as the blocks it covers.
//! The [`Ledger`] keeps a copy in memory, applies each change once its
//! batch has landed, and hands the result to [`ChainState`], so readers
//! never ask the store what is covered.

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockRange, IntervalChange, IntervalSet, Namespace, WriteBatch};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::{
    chain_state::{ChainState, Coverage, UNCONFIRMED, UNLINKED, VERIFIED},
    plugins::{PluginCallError, StoragePlugin},
    store_records::{host_meta, interval_change, meta_delete, meta_set},
};

/// Interval set of stored blocks whose senders are stored too.
pub const SENDERS: &str = "senders";

/// The host-namespace key of the anchor record.
const ANCHOR_KEY: &str = "sync/anchor";
/// Cursor keys an earlier version kept (the sets hold the same now).
const LEGACY_KEYS: [&str; 2] = ["sync/forward", "sync/backward"];

/// The block both directions grow from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Block number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
}

/// The in-memory copy of what sync has stored.
pub struct Ledger {
    coverage: Mutex<Coverage>,
    senders: Mutex<IntervalSet>,
    state: Arc<ChainState>,
}

/// Reads a chain interval set.
fn read_set(storage: &StoragePlugin, set: &str) -> Result<IntervalSet, PluginCallError> {
    Ok(IntervalSet::from_ranges(
        storage.intervals(Namespace::Chain, set)?,
    ))
}

impl Ledger {
    /// The anchor record, if sync ever anchored in this store.
    pub fn anchor(storage: &StoragePlugin) -> Result<Option<Anchor>, PluginCallError> {
        Ok(host_meta(storage, ANCHOR_KEY)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Reads the coverage (and the anchor) from the store.
    pub fn load_coverage(storage: &StoragePlugin) -> Result<Coverage, PluginCallError> {
        Ok(Coverage {
            anchor: Self::anchor(storage)?.map(|anchor| anchor.number),
            verified: read_set(storage, VERIFIED)?,
            unconfirmed: read_set(storage, UNCONFIRMED)?,
            unlinked: read_set(storage, UNLINKED)?,
        })
    }

    /// A ledger starting from `coverage` (as read at start), feeding `state`.
    pub fn new(
        storage: &StoragePlugin,
        coverage: Coverage,
        state: Arc<ChainState>,
    ) -> Result<Self, PluginCallError> {
        let senders = read_set(storage, SENDERS)?;
        state.set_coverage(coverage.clone());
        Ok(Ledger {
            coverage: Mutex::new(coverage),
            senders: Mutex::new(senders),
            state,
        })
    }

    /// The chain state it feeds.
    pub fn state(&self) -> &Arc<ChainState> {
        &self.state
    }

    /// The coverage now.
    pub fn coverage(&self) -> Coverage {
        self.coverage.lock().clone()
    }

    /// The blocks whose senders are stored.
    pub fn senders(&self) -> IntervalSet {
        self.senders.lock().clone()
    }

    /// Books the interval changes of a batch that landed.
    pub fn landed(&self, changes: &[IntervalChange]) {
        let coverage = {
            let mut coverage = self.coverage.lock();
            let mut senders = self.senders.lock();
            for change in changes
                .iter()
                .filter(|change| change.space == Namespace::Chain)
            {
                let set = match change.set.as_str() {
                    VERIFIED => &mut coverage.verified,
                    UNCONFIRMED => &mut coverage.unconfirmed,
                    UNLINKED => &mut coverage.unlinked,
                    SENDERS => &mut senders,
                    _ => continue,
                };
                for range in change.remove.iter() {
                    set.remove(*range);
                }
                for range in change.add.iter() {
                    set.insert(*range);
                }
            }
            coverage.clone()
        };
        self.state.set_coverage(coverage);
    }

    /// Books the anchor once its batch landed.
    pub fn anchored(&self, anchor: u64) {
        let coverage = {
            let mut coverage = self.coverage.lock();
            coverage.anchor = Some(anchor);
            coverage.clone()
        };
        self.state.set_coverage(coverage);
    }
}

/// The metadata changes that record the anchor (and drop an earlier
/// version's cursors, which the interval sets replace).
pub fn anchor_changes(anchor: &Anchor) -> Vec<hypasis_plugin_api::MetaChange> {
    let mut changes = vec![
        meta_set(
            Namespace::Host,
            ANCHOR_KEY,
            serde_json::to_vec(anchor).unwrap_or_default(),
        ),
        meta_delete(Namespace::Chain, ANCHOR_KEY),
    ];
    changes.extend(LEGACY_KEYS.iter().flat_map(|key| {
        [
            meta_delete(Namespace::Chain, key),
            meta_delete(Namespace::Host, key),
        ]
    }));
    changes
}

/// Interval changes for a batch linked to the anchor's chain: `confirmed`
/// ranges into `verified`, the rest of `range` into `unconfirmed`.
pub fn linked(range: BlockRange, confirmed: &[BlockRange]) -> Vec<IntervalChange> {
    let confirmed = IntervalSet::from_ranges(confirmed.iter().copied());
    let rest: Vec<BlockRange> = confirmed.gaps(range);
    vec![
        interval_change(VERIFIED, confirmed.ranges().to_vec(), Vec::new()),
        interval_change(UNCONFIRMED, rest, confirmed.ranges().to_vec()),
        interval_change(UNLINKED, Vec::new(), vec![range]),
    ]
}

/// Interval changes for a range confirmed by its checkpoint whose
/// neighbour above is not stored yet.
pub fn unlinked(range: BlockRange) -> Vec<IntervalChange> {
    vec![interval_change(UNLINKED, vec![range], Vec::new())]
}

/// Interval changes that move `range` into `verified` (a new checkpoint
/// or milestone confirmed it, or it now links to the anchor's chain).
pub fn confirm(range: BlockRange) -> Vec<IntervalChange> {
    vec![
        interval_change(VERIFIED, vec![range], Vec::new()),
        interval_change(UNCONFIRMED, Vec::new(), vec![range]),
        interval_change(UNLINKED, Vec::new(), vec![range]),
    ]
}

/// Interval changes that forget `range` everywhere (blocks found not to
/// link: they will be fetched again).
pub fn forget(range: BlockRange) -> Vec<IntervalChange> {
    [VERIFIED, UNCONFIRMED, UNLINKED, SENDERS]
        .into_iter()
        .map(|set| interval_change(set, Vec::new(), vec![range]))
        .collect()
}

/// The one unwind batch: forget the canonical chain, and everything the
/// sets say, above `number` (a reorg, or stored blocks a new checkpoint
/// or milestone contradicts).
pub fn unwind_batch(number: u64) -> WriteBatch {
    let above = BlockRange::new(number.saturating_add(1), u64::MAX);
    WriteBatch {
        unwind_above: Some(number).into(),
        intervals: forget(above).into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_batches_split_confirmed_from_the_rest() {
        let changes = linked(BlockRange::new(100, 199), &[BlockRange::new(100, 149)]);
        assert_eq!(changes[0].add.as_slice(), &[BlockRange::new(100, 149)]);
        assert_eq!(changes[1].add.as_slice(), &[BlockRange::new(150, 199)]);
        let none = linked(BlockRange::new(5, 9), &[]);
        assert_eq!(none[1].add.as_slice(), &[BlockRange::new(5, 9)]);
    }

    #[test]
    fn the_unwind_batch_forgets_every_set_above_the_fork() {
        let batch = unwind_batch(41);
        assert_eq!(batch.unwind_above.into_option(), Some(41));
        assert_eq!(batch.intervals.len(), 4);
        for change in batch.intervals.iter() {
            assert_eq!(change.remove.as_slice(), &[BlockRange::new(42, u64::MAX)]);
        }
    }
}
