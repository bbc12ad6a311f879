//! Values that change at block numbers (`{"0": 64, "38189056": 16}`), the
//! way Bor's config maps work: the value at the greatest key ≤ the block.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A value per block range, keyed by the first block it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockSchedule<T: Clone>(BTreeMap<u64, T>);

impl<T: Clone> BlockSchedule<T> {
    /// One value from block 0.
    pub fn constant(value: T) -> Self {
        BlockSchedule(BTreeMap::from([(0, value)]))
    }

    /// A schedule from `(first block, value)` pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u64, T)>) -> Self {
        BlockSchedule(pairs.into_iter().collect())
    }

    /// The value in force at `number`; the earliest value if `number`
    /// precedes every key.
    pub fn at(&self, number: u64) -> T {
        self.0
            .range(..=number)
            .next_back()
            .or_else(|| self.0.iter().next())
            .map(|(_, value)| value.clone())
            .expect("a schedule has at least one entry")
    }

    /// The entries, ascending.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &T)> {
        self.0.iter().map(|(block, value)| (*block, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greatest_key_at_or_below() {
        let sprint = BlockSchedule::from_pairs([(0, 64u64), (38_189_056, 16)]);
        assert_eq!(sprint.at(0), 64);
        assert_eq!(sprint.at(38_189_055), 64);
        assert_eq!(sprint.at(38_189_056), 16);
        assert_eq!(sprint.at(u64::MAX), 16);
        let json = serde_json::to_string(&sprint).unwrap();
        assert_eq!(json, r#"{"0":64,"38189056":16}"#);
        assert_eq!(
            serde_json::from_str::<BlockSchedule<u64>>(&json).unwrap(),
            sprint
        );
    }
}
