//! A set of block numbers kept as sorted, merged, inclusive ranges: the
//! shape of "verified", "stored" and "unconfirmed" in every backend.

use crate::BlockRange;

/// Sorted, non-overlapping, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalSet {
    ranges: Vec<BlockRange>,
}

impl IntervalSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from any ranges (unsorted, overlapping ranges are merged).
    pub fn from_ranges(ranges: impl IntoIterator<Item = BlockRange>) -> Self {
        let mut set = Self::new();
        for range in ranges {
            set.insert(range);
        }
        set
    }

    /// The ranges, ascending.
    pub fn ranges(&self) -> &[BlockRange] {
        &self.ranges
    }

    /// Whether the set holds no block.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many blocks the set holds.
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(BlockRange::len).sum()
    }

    /// Whether `number` is in the set.
    pub fn contains(&self, number: u64) -> bool {
        let index = self.ranges.partition_point(|range| range.end < number);
        self.ranges
            .get(index)
            .is_some_and(|range| range.contains(number))
    }

    /// Whether every block of `range` is in the set.
    pub fn contains_range(&self, range: BlockRange) -> bool {
        let index = self.ranges.partition_point(|held| held.end < range.start);
        self.ranges
            .get(index)
            .is_some_and(|held| held.start <= range.start && range.end <= held.end)
    }

    /// Adds `range`, merging with overlapping and adjacent ranges.
    pub fn insert(&mut self, range: BlockRange) {
        let mut start = range.start;
        let mut end = range.end;
        // First range that could touch: its end + 1 >= start.
        let first = self
            .ranges
            .partition_point(|held| held.end.saturating_add(1) < start);
        let mut last = first;
        while last < self.ranges.len() && self.ranges[last].start <= end.saturating_add(1) {
            start = start.min(self.ranges[last].start);
            end = end.max(self.ranges[last].end);
            last += 1;
        }
        self.ranges
            .splice(first..last, std::iter::once(BlockRange::new(start, end)));
    }

    /// Removes `range`, splitting ranges it cuts through.
    pub fn remove(&mut self, range: BlockRange) {
        let first = self.ranges.partition_point(|held| held.end < range.start);
        let mut last = first;
        let mut kept = Vec::with_capacity(2);
        while last < self.ranges.len() && self.ranges[last].start <= range.end {
            let held = self.ranges[last];
            if held.start < range.start {
                kept.push(BlockRange::new(held.start, range.start - 1));
            }
            if held.end > range.end {
                kept.push(BlockRange::new(range.end + 1, held.end));
            }
            last += 1;
        }
        self.ranges.splice(first..last, kept);
    }

    /// The parts of `within` that are not in the set, ascending.
    pub fn gaps(&self, within: BlockRange) -> Vec<BlockRange> {
        let mut gaps = Vec::new();
        let mut cursor = within.start;
        for held in &self.ranges {
            if held.end < cursor {
                continue;
            }
            if held.start > within.end {
                break;
            }
            if held.start > cursor {
                gaps.push(BlockRange::new(cursor, held.start - 1));
            }
            if held.end >= within.end {
                return gaps;
            }
            cursor = held.end + 1;
        }
        if cursor <= within.end {
            gaps.push(BlockRange::new(cursor, within.end));
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> BlockRange {
        BlockRange::new(start, end)
    }

    #[test]
    fn insert_merges_overlapping_and_adjacent() {
        let mut set = IntervalSet::new();
        set.insert(r(10, 20));
        set.insert(r(30, 40));
        assert_eq!(set.ranges(), &[r(10, 20), r(30, 40)]);
        set.insert(r(21, 29));
        assert_eq!(set.ranges(), &[r(10, 40)]);
        set.insert(r(0, 5));
        set.insert(r(50, 60));
        set.insert(r(4, 52));
        assert_eq!(set.ranges(), &[r(0, 60)]);
        assert_eq!(set.count(), 61);
    }

    #[test]
    fn remove_splits() {
        let mut set = IntervalSet::from_ranges([r(0, 100), r(200, 300)]);
        set.remove(r(50, 60));
        assert_eq!(set.ranges(), &[r(0, 49), r(61, 100), r(200, 300)]);
        set.remove(r(90, 250));
        assert_eq!(set.ranges(), &[r(0, 49), r(61, 89), r(251, 300)]);
        set.remove(r(0, 1000));
        assert!(set.is_empty());
    }

    #[test]
    fn contains_and_gaps() {
        let set = IntervalSet::from_ranges([r(10, 20), r(30, 40)]);
        assert!(set.contains(10) && set.contains(20) && set.contains(35));
        assert!(!set.contains(9) && !set.contains(21) && !set.contains(41));
        assert!(set.contains_range(r(31, 40)));
        assert!(!set.contains_range(r(15, 31)));
        assert_eq!(set.gaps(r(0, 50)), vec![r(0, 9), r(21, 29), r(41, 50)]);
        assert_eq!(set.gaps(r(12, 18)), vec![]);
        assert_eq!(set.gaps(r(15, 35)), vec![r(21, 29)]);
        assert_eq!(set.gaps(r(41, 45)), vec![r(41, 45)]);
    }

    #[test]
    fn matches_a_naive_model() {
        // Pseudo-random operations checked against a bitmap.
        let mut set = IntervalSet::new();
        let mut model = [false; 200];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let a = seed % 200;
            let b = (seed >> 20) % 200;
            let (start, end) = (a.min(b), a.max(b).min(a.min(b) + 20));
            if seed & 1 == 0 {
                set.insert(r(start, end));
                model[start as usize..=end as usize].fill(true);
            } else {
                set.remove(r(start, end));
                model[start as usize..=end as usize].fill(false);
            }
            for (number, held) in model.iter().enumerate() {
                assert_eq!(set.contains(number as u64), *held, "block {number}");
            }
            assert_eq!(
                set.count(),
                model.iter().filter(|held| **held).count() as u64
            );
            for pair in set.ranges().windows(2) {
                assert!(pair[0].end + 1 < pair[1].start, "not merged: {pair:?}");
            }
        }
    }
}
