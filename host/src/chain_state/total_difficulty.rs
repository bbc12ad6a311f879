//! The total difficulty we announce while syncing (run mode).
//!
//! Bor syncs only from a peer whose Status TD is higher than its own
//! (`B:eth/sync.go`, `nextSyncOp`), so the value matters. It is computed
//! simply, from what we have:
//!
//! 1. **Exact**: the newest Heimdall milestone's total difficulty at its end
//!    block (when Heimdall reports one and the stored block there has the
//!    milestone's hash), plus the difficulty of every stored canonical
//!    header above it up to the head. A previous exact value for a block
//!    still canonical is used the same way, so each head advance reads only
//!    the new headers.
//! 2. **Lower bound** otherwise: the sum of the difficulties of the stored
//!    canonical headers from `floor` (the lowest block sync has stored) to
//!    the head, at most [`MAX_TD_SCAN`] of them. Until a milestone with a
//!    total difficulty arrives, Bor nodes ahead of that sum will not pick us
//!    as a sync source (they still download from us on request).
//!
//! Headers missing from the store contribute nothing (and make the value a
//! lower bound).
//!
//! The store is read only to find a first value (at start, or after a
//! reorg deeper than the points kept in memory): as sync settles batches,
//! [`TdTracker::advance`] adds their difficulties to the last point, and
//! the last [`KEPT_POINTS`] heads are kept so a reorg or a milestone can
//! rebase the value without reading a header.

use std::collections::VecDeque;

use alloy_primitives::{B256, U256};
use hypasis_plugin_api::BlockPart;

use crate::block_store::BlockStore;
use crate::plugins::PluginCallError;

/// Most headers summed when the total difficulty has no exact base (no
/// milestone with a total difficulty below the head): the sum is then a
/// lower bound over the newest stored headers only.
pub const MAX_TD_SCAN: u64 = 100_000;

/// A total difficulty and whether it is exact or a lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotalDifficulty {
    /// The value.
    pub value: U256,
    /// Whether it is anchored on a milestone's total difficulty.
    pub exact: bool,
}

/// A known total difficulty at a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Point {
    number: u64,
    hash: B256,
    td: U256,
    exact: bool,
}

/// How many settled heads are kept to rebase on after a reorg or a milestone.
pub const KEPT_POINTS: usize = 4096;

/// A block sync settled, with what the total difficulty needs and its
/// decoded header (kept for the newest blocks, so announcing a head reads
/// nothing from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledBlock {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
    /// Its difficulty.
    pub difficulty: U256,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its header.
    pub header: std::sync::Arc<alloy_consensus::Header>,
}

/// Follows the head's total difficulty as the head moves.
#[derive(Debug, Default)]
pub struct TdTracker {
    milestone: Option<Point>,
    last: Option<Point>,
    recent: VecDeque<Point>,
}

impl TdTracker {
    /// A tracker with nothing known yet.
    pub fn new() -> Self {
        TdTracker::default()
    }

    /// Records the newest milestone: block `end` with hash `hash` has total
    /// difficulty `td` (0 means Heimdall does not know it; ignored). When
    /// `end` is among the kept heads, every kept value from it up is
    /// rebased on the milestone's and becomes exact.
    pub fn set_milestone(&mut self, end: u64, hash: B256, td: u64) {
        if td == 0 {
            return;
        }
        let td = U256::from(td);
        self.milestone = Some(Point {
            number: end,
            hash,
            td,
            exact: true,
        });
        let Some(base) = self
            .recent
            .iter()
            .find(|point| point.number == end && point.hash == hash)
            .copied()
        else {
            return;
        };
        for point in self.recent.iter_mut().filter(|point| point.number >= end) {
            point.td = point.td.saturating_sub(base.td).saturating_add(td);
            point.exact = true;
        }
        // The last head is always the newest kept point.
        if let (Some(last), Some(back)) = (&mut self.last, self.recent.back())
            && last.hash == back.hash
        {
            *last = *back;
        }
    }

    /// Adds settled blocks on top of the last head, without reading the
    /// store. `None` when they do not extend it (nothing known yet, or a
    /// block that is not the last head's child): then [`TdTracker::compute`].
    pub fn advance(&mut self, blocks: &[SettledBlock]) -> Option<TotalDifficulty> {
        let mut last = self.last?;
        for block in blocks {
            if block.number != last.number + 1 || block.parent_hash != last.hash {
                return None;
            }
            last = Point {
                number: block.number,
                hash: block.hash,
                td: last.td.saturating_add(block.difficulty),
                exact: last.exact,
            };
            self.keep(last);
        }
        self.last = Some(last);
        Some(TotalDifficulty {
            value: last.td,
            exact: last.exact,
        })
    }

    /// Moves the head back to kept block `number` (`hash`) after a reorg;
    /// false when it is not kept (then [`TdTracker::compute`]).
    pub fn rewind(&mut self, number: u64, hash: B256) -> bool {
        while let Some(point) = self.recent.back() {
            if point.number <= number {
                break;
            }
            self.recent.pop_back();
        }
        match self.recent.back() {
            Some(point) if point.number == number && point.hash == hash => {
                self.last = Some(*point);
                true
            }
            _ => {
                self.last = None;
                false
            }
        }
    }

    /// The last head's total difficulty, if known.
    pub fn last(&self) -> Option<TotalDifficulty> {
        self.last.map(|point| TotalDifficulty {
            value: point.td,
            exact: point.exact,
        })
    }

    fn keep(&mut self, point: Point) {
        if self.recent.len() == KEPT_POINTS {
            self.recent.pop_front();
        }
        self.recent.push_back(point);
    }

    /// The total difficulty at the canonical block `head` (`head_hash`),
    /// summing over stored headers from `floor` when nothing exact is known.
    pub fn compute(
        &mut self,
        store: &dyn BlockStore,
        head: u64,
        head_hash: B256,
        floor: u64,
    ) -> Result<TotalDifficulty, PluginCallError> {
        if let Some(last) = self.last
            && last.number == head
            && last.hash == head_hash
            && (last.exact || self.milestone.is_none())
        {
            return Ok(TotalDifficulty {
                value: last.td,
                exact: last.exact,
            });
        }
        let usable = |point: &Option<Point>| -> Result<Option<Point>, PluginCallError> {
            match point {
                Some(point)
                    if point.number <= head
                        && store.canonical_hash(point.number)? == Some(point.hash) =>
                {
                    Ok(Some(*point))
                }
                _ => Ok(None),
            }
        };
        let milestone = usable(&self.milestone)?;
        let last = usable(&self.last)?;
        // Prefer exact bases, then the newest.
        let base = [milestone, last]
            .into_iter()
            .flatten()
            .max_by_key(|point| (point.exact, point.number));
        let (from, start_td, mut exact) = match base {
            Some(point) => (point.number + 1, point.td, point.exact),
            None => {
                let lowest = head.saturating_sub(MAX_TD_SCAN - 1).max(floor);
                (lowest, U256::ZERO, false)
            }
        };
        let (sum, complete) = sum_difficulties(store, from, head)?;
        exact &= complete;
        let value = start_td.saturating_add(sum);
        let point = Point {
            number: head,
            hash: head_hash,
            td: value,
            exact,
        };
        self.last = Some(point);
        self.recent.clear();
        self.keep(point);
        Ok(TotalDifficulty { value, exact })
    }
}

/// The difficulties of the stored canonical headers `from..=to` summed, and
/// whether every one of them was there.
fn sum_difficulties(
    store: &dyn BlockStore,
    from: u64,
    to: u64,
) -> Result<(U256, bool), PluginCallError> {
    let mut sum = U256::ZERO;
    let mut complete = true;
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(1023));
        let numbers: Vec<u64> = (start..=end).collect();
        let hashes: Vec<B256> = store
            .canonical_hashes(&numbers)?
            .into_iter()
            .filter_map(|hash| {
                complete &= hash.is_some();
                hash
            })
            .collect();
        for header in store.parts(BlockPart::Header, &hashes)? {
            match header.map(|bytes| hypasis_polygon::decode_header(&bytes)) {
                Some(Ok(header)) => sum = sum.saturating_add(header.difficulty),
                _ => complete = false,
            }
        }
        if end == u64::MAX {
            break;
        }
        start = end + 1;
    }
    Ok((sum, complete))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block_store::memory::MemoryStore;

    /// Difficulties in `MemoryStore::chain` are `1 + n % 3`.
    fn expected(from: u64, to: u64) -> U256 {
        U256::from((from..=to).map(|n| 1 + n % 3).sum::<u64>())
    }

    #[test]
    fn without_a_milestone_the_stored_headers_are_summed() {
        let store = MemoryStore::chain(50);
        let mut tracker = TdTracker::new();
        let td = tracker.compute(&store, 40, store.hash(40), 10).unwrap();
        assert_eq!(
            td,
            TotalDifficulty {
                value: expected(10, 40),
                exact: false
            }
        );
        // The head moves: only the new headers are added.
        let td = tracker.compute(&store, 45, store.hash(45), 10).unwrap();
        assert_eq!(td.value, expected(10, 45));
    }

    #[test]
    fn a_milestone_anchors_an_exact_value() {
        let store = MemoryStore::chain(50);
        let mut tracker = TdTracker::new();
        tracker.compute(&store, 30, store.hash(30), 10).unwrap();
        tracker.set_milestone(20, store.hash(20), 1_000);
        let td = tracker.compute(&store, 30, store.hash(30), 10).unwrap();
        assert_eq!(
            td,
            TotalDifficulty {
                value: U256::from(1_000) + expected(21, 30),
                exact: true
            }
        );
        let td = tracker.compute(&store, 49, store.hash(49), 10).unwrap();
        assert_eq!(td.value, U256::from(1_000) + expected(21, 49));
        assert!(td.exact);
    }

    #[test]
    fn a_milestone_off_our_chain_or_above_the_head_is_not_used() {
        let store = MemoryStore::chain(50);
        let mut tracker = TdTracker::new();
        tracker.set_milestone(20, B256::repeat_byte(1), 1_000);
        let td = tracker.compute(&store, 30, store.hash(30), 0).unwrap();
        assert_eq!(td.value, expected(0, 30));
        assert!(!td.exact);
        let mut tracker = TdTracker::new();
        tracker.set_milestone(45, store.hash(45), 1_000);
        assert!(
            !tracker
                .compute(&store, 30, store.hash(30), 0)
                .unwrap()
                .exact
        );
        // Heimdall v1 milestones carry no TD: ignored.
        let mut tracker = TdTracker::new();
        tracker.set_milestone(20, store.hash(20), 0);
        assert!(
            !tracker
                .compute(&store, 30, store.hash(30), 0)
                .unwrap()
                .exact
        );
    }

    #[test]
    fn settled_blocks_advance_without_the_store_and_rebase_on_a_milestone() {
        let store = MemoryStore::chain(60);
        let mut tracker = TdTracker::new();
        assert_eq!(tracker.advance(&store.settled(31, 32)), None);
        tracker.compute(&store, 30, store.hash(30), 10).unwrap();
        let td = tracker.advance(&store.settled(31, 40)).unwrap();
        assert_eq!(td.value, expected(10, 40));
        // Not a child of the head: refused.
        assert_eq!(tracker.advance(&store.settled(45, 46)), None);
        // A milestone at a kept block rebases every value above it.
        tracker.set_milestone(35, store.hash(35), 1_000);
        let td = tracker.last().unwrap();
        assert!(td.exact);
        assert_eq!(td.value, U256::from(1_000) + expected(36, 40));
        // A reorg back to a kept block, then a new branch on it.
        assert!(tracker.rewind(37, store.hash(37)));
        assert_eq!(
            tracker.last().unwrap().value,
            U256::from(1_000) + expected(36, 37)
        );
        assert!(!tracker.rewind(5, store.hash(5)));
        assert_eq!(tracker.last(), None);
    }

    #[test]
    fn a_hole_makes_it_a_lower_bound() {
        let mut store = MemoryStore::chain(50);
        store.remove(25);
        let mut tracker = TdTracker::new();
        tracker.set_milestone(20, store.hash(20), 1_000);
        let td = tracker.compute(&store, 30, store.hash(30), 0).unwrap();
        assert_eq!(
            td.value,
            U256::from(1_000) + expected(21, 30) - U256::from(1 + 25 % 3)
        );
        assert!(!td.exact);
    }
}
