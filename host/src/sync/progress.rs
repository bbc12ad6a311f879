//! What sync has done, as it is persisted: cursors in metadata and the
//! `verified` / `unconfirmed` interval sets.

use abi_stable::std_types::{ROption, RVec};
use alloy_primitives::B256;
use hypasis_plugin_api::{BlockRange, IntervalChange, MetaChange};
use serde::{Deserialize, Serialize};

use crate::plugins::{PluginCallError, StoragePlugin};

/// Interval set of blocks stored and confirmed (checkpoint, anchor or seals).
pub const VERIFIED: &str = "verified";
/// Interval set of blocks stored and linked but not yet confirmed.
pub const UNCONFIRMED: &str = "unconfirmed";

const ANCHOR_KEY: &str = "sync/anchor";
const FORWARD_KEY: &str = "sync/forward";
const BACKWARD_KEY: &str = "sync/backward";

/// A block a direction has reached: its number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    /// Block number.
    pub number: u64,
    /// Its hash (forward: the stored block; backward: the parent hash the
    /// next lower block must have).
    pub hash: B256,
}

/// The persisted cursors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The anchor block, once stored.
    pub anchor: Option<SyncCursor>,
    /// The highest block forward sync stored (its hash).
    pub forward: Option<SyncCursor>,
    /// The lowest block backward sync stored (its number, and its parent hash).
    pub backward: Option<SyncCursor>,
}

fn read(storage: &StoragePlugin, key: &str) -> Result<Option<SyncCursor>, PluginCallError> {
    Ok(storage
        .meta(key)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn change(key: &str, cursor: &SyncCursor) -> MetaChange {
    MetaChange {
        key: key.into(),
        value: ROption::RSome(RVec::from(serde_json::to_vec(cursor).unwrap_or_default())),
    }
}

impl Progress {
    /// Reads the cursors from storage.
    pub fn load(storage: &StoragePlugin) -> Result<Self, PluginCallError> {
        Ok(Progress {
            anchor: read(storage, ANCHOR_KEY)?,
            forward: read(storage, FORWARD_KEY)?,
            backward: read(storage, BACKWARD_KEY)?,
        })
    }

    /// The metadata change that records the anchor.
    pub fn anchor_change(cursor: &SyncCursor) -> MetaChange {
        change(ANCHOR_KEY, cursor)
    }

    /// The metadata change that records the forward cursor.
    pub fn forward_change(cursor: &SyncCursor) -> MetaChange {
        change(FORWARD_KEY, cursor)
    }

    /// The metadata change that records the backward cursor.
    pub fn backward_change(cursor: &SyncCursor) -> MetaChange {
        change(BACKWARD_KEY, cursor)
    }
}

/// Interval changes for a stored batch: `confirmed` ranges into `verified`,
/// the rest of `range` into `unconfirmed`.
pub fn interval_changes(range: BlockRange, confirmed: &[BlockRange]) -> Vec<IntervalChange> {
    let verified =
        hypasis_plugin_sdk::intervals::IntervalSet::from_ranges(confirmed.iter().copied());
    let rest: Vec<BlockRange> = verified.gaps(range);
    vec![
        IntervalChange {
            set: VERIFIED.into(),
            add: confirmed.to_vec().into(),
            remove: RVec::new(),
        },
        IntervalChange {
            set: UNCONFIRMED.into(),
            add: rest.into(),
            remove: confirmed.to_vec().into(),
        },
    ]
}

/// Interval changes that move `range` from unconfirmed to verified.
pub fn confirm(range: BlockRange) -> Vec<IntervalChange> {
    vec![
        IntervalChange {
            set: VERIFIED.into(),
            add: vec![range].into(),
            remove: RVec::new(),
        },
        IntervalChange {
            set: UNCONFIRMED.into(),
            add: RVec::new(),
            remove: vec![range].into(),
        },
    ]
}

/// Interval changes that forget everything above `number` (a reorg).
pub fn forget_above(number: u64) -> Vec<IntervalChange> {
    let range = BlockRange::new(number + 1, u64::MAX);
    vec![
        IntervalChange {
            set: VERIFIED.into(),
            add: RVec::new(),
            remove: vec![range].into(),
        },
        IntervalChange {
            set: UNCONFIRMED.into(),
            add: RVec::new(),
            remove: vec![range].into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_intervals_split_confirmed_from_the_rest() {
        let changes = interval_changes(BlockRange::new(100, 199), &[BlockRange::new(100, 149)]);
        assert_eq!(changes[0].add.as_slice(), &[BlockRange::new(100, 149)]);
        assert_eq!(changes[1].add.as_slice(), &[BlockRange::new(150, 199)]);
        let none = interval_changes(BlockRange::new(5, 9), &[]);
        assert_eq!(none[1].add.as_slice(), &[BlockRange::new(5, 9)]);
    }
}
