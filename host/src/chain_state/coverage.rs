//! What the store holds, as the three interval sets of the chain
//! namespace that sync writes in the same atomic batch as the blocks:
//! - `verified`: confirmed (by a checkpoint root, a trusted anchor or
//!   seals) and hash-linked to the anchor's chain;
//! - `unconfirmed`: linked to the chain but not yet confirmed (forward
//!   blocks past the newest checkpoint or milestone);
//! - `unlinked`: confirmed by their checkpoint root but not yet
//!   hash-linked to the anchor's chain: a range synced out of order whose
//!   neighbour above is not stored yet. It joins `verified` when that
//!   neighbour arrives and the parent hashes link.

use hypasis_plugin_api::{BlockRange, IntervalSet};

/// Interval set of blocks stored, confirmed and linked to the anchor.
pub const VERIFIED: &str = "verified";
/// Interval set of blocks stored and linked but not yet confirmed.
pub const UNCONFIRMED: &str = "unconfirmed";
/// Interval set of blocks confirmed by their checkpoint but not yet linked.
pub const UNLINKED: &str = "unlinked";

/// The stored coverage and the anchor it grows from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The anchor block both directions grow from, once established.
    pub anchor: Option<u64>,
    /// See [`VERIFIED`].
    pub verified: IntervalSet,
    /// See [`UNCONFIRMED`].
    pub unconfirmed: IntervalSet,
    /// See [`UNLINKED`].
    pub unlinked: IntervalSet,
}

impl Coverage {
    /// Every stored block: the union of the three sets.
    pub fn stored(&self) -> IntervalSet {
        let mut all = self.verified.clone();
        for range in self
            .unconfirmed
            .ranges()
            .iter()
            .chain(self.unlinked.ranges())
        {
            all.insert(*range);
        }
        all
    }

    /// The linked chain through the anchor: the run of verified and
    /// unconfirmed blocks around it with no hole.
    pub fn linked_run(&self) -> Option<BlockRange> {
        let anchor = self.anchor?;
        let mut linked = self.verified.clone();
        for range in self.unconfirmed.ranges() {
            linked.insert(*range);
        }
        linked
            .ranges()
            .iter()
            .copied()
            .find(|range| range.contains(anchor))
    }

    /// The highest block of the linked chain (the forward tip).
    pub fn forward_top(&self) -> Option<u64> {
        self.linked_run().map(|run| run.end)
    }

    /// The lowest block of the linked chain (how far backward has come with
    /// every block hash-linked to the anchor).
    pub fn backward_lowest(&self) -> Option<u64> {
        self.linked_run().map(|run| run.start)
    }

    /// Blocks stored at or below the anchor (backward's share, whatever the set).
    pub fn backward_blocks(&self) -> u64 {
        let Some(anchor) = self.anchor else {
            return 0;
        };
        let below = BlockRange::new(0, anchor);
        self.stored()
            .ranges()
            .iter()
            .filter_map(|range| intersect(*range, below))
            .map(|range| range.len())
            .sum()
    }

    /// Blocks stored above the anchor (forward's share).
    pub fn forward_blocks(&self) -> u64 {
        let Some(above) = self.anchor.and_then(|anchor| anchor.checked_add(1)) else {
            return 0;
        };
        let above = BlockRange::new(above, u64::MAX);
        self.stored()
            .ranges()
            .iter()
            .filter_map(|range| intersect(*range, above))
            .map(|range| range.len())
            .sum()
    }

    /// The lowest stored block.
    pub fn lowest(&self) -> Option<u64> {
        self.stored().ranges().first().map(|range| range.start)
    }
}

/// The blocks two ranges share.
pub fn intersect(a: BlockRange, b: BlockRange) -> Option<BlockRange> {
    let start = a.start.max(b.start);
    let end = a.end.min(b.end);
    (start <= end).then(|| BlockRange::new(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u64, u64)]) -> IntervalSet {
        IntervalSet::from_ranges(ranges.iter().map(|&(a, b)| BlockRange::new(a, b)))
    }

    #[test]
    fn the_linked_run_spans_verified_and_unconfirmed_around_the_anchor() {
        let coverage = Coverage {
            anchor: Some(100),
            verified: set(&[(50, 120)]),
            unconfirmed: set(&[(121, 130)]),
            unlinked: set(&[(10, 30)]),
        };
        assert_eq!(coverage.linked_run(), Some(BlockRange::new(50, 130)));
        assert_eq!(coverage.forward_top(), Some(130));
        assert_eq!(coverage.backward_lowest(), Some(50));
        assert_eq!(coverage.backward_blocks(), 51 + 21);
        assert_eq!(coverage.forward_blocks(), 30);
        assert_eq!(coverage.lowest(), Some(10));
        assert_eq!(Coverage::default().linked_run(), None);
    }
}
