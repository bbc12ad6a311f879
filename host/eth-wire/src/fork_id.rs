//! Our EIP-2124 fork id, computed from the chain spec, and the filter that
//! judges a peer's (EIP-2124 with EIP-6122's timestamp forks).
//!
//! Which forks count is go-ethereum's `gatherForks` as Bor inherits it
//! (`B:core/forkid/forkid.go`): the top-level block forks, sorted, with
//! duplicates and block 0 dropped, then the timestamp forks after genesis.
//! Bor's own forks (Jaipur, Delhi, …, inside its `bor` config) do not count,
//! and under [`ForkIdRules::Bor`] neither do timestamp forks: Bor's
//! `ChainConfig` has no `*Time` fields, so a Bor node ignores them.

use alloy_eip2124::{ForkFilter, ForkFilterKey, ForkId, Head};
use hypasis_polygon::{ChainSpec, spec::ForkIdRules};

use crate::error::ForkIdError;

/// The position on the chain that selects the current fork: the head
/// block's number and timestamp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForkHead {
    /// The head block number.
    pub number: u64,
    /// The head block timestamp.
    pub timestamp: u64,
}

impl ForkHead {
    /// A head at `number` with timestamp `timestamp`.
    pub const fn new(number: u64, timestamp: u64) -> Self {
        ForkHead { number, timestamp }
    }

    fn as_head(self) -> Head {
        Head {
            number: self.number,
            timestamp: self.timestamp,
            ..Head::default()
        }
    }
}

/// The forks that feed a chain's fork id, in checksum order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForkSchedule {
    /// Block forks: ascending, without duplicates or block 0.
    pub blocks: Vec<u64>,
    /// Timestamp forks: ascending, without duplicates or any at or before
    /// the genesis timestamp.
    pub timestamps: Vec<u64>,
}

impl ForkSchedule {
    /// The schedule of `spec`: its `forks`, and its `timestamp_forks`
    /// unless the chain's peers follow Bor's rules.
    pub fn from_spec(spec: &ChainSpec) -> Self {
        let mut blocks: Vec<u64> = spec
            .forks
            .iter()
            .map(|fork| fork.block)
            .filter(|block| *block != 0)
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        let timestamp_forks = match spec.fork_id_rules {
            ForkIdRules::Ethereum => spec.timestamp_forks.as_slice(),
            ForkIdRules::Bor => &[],
        };
        let mut timestamps: Vec<u64> = timestamp_forks
            .iter()
            .map(|fork| fork.block)
            .filter(|time| *time > spec.genesis_timestamp)
            .collect();
        timestamps.sort_unstable();
        timestamps.dedup();
        ForkSchedule { blocks, timestamps }
    }

    fn keys(&self) -> impl Iterator<Item = ForkFilterKey> + '_ {
        let blocks = self.blocks.iter().copied().map(ForkFilterKey::Block);
        blocks.chain(self.timestamps.iter().copied().map(ForkFilterKey::Time))
    }
}

/// The fork filter of `spec` with our head at `head`: `current()` is the
/// fork id we announce, `validate()` judges a peer's, and `set_head()`
/// follows our head as it moves.
pub fn fork_filter(spec: &ChainSpec, head: ForkHead) -> Result<ForkFilter, ForkIdError> {
    let genesis = spec
        .genesis_hash
        .ok_or_else(|| ForkIdError::UnknownGenesis {
            chain: spec.name.clone(),
        })?;
    let schedule = ForkSchedule::from_spec(spec);
    Ok(ForkFilter::new(
        head.as_head(),
        genesis,
        spec.genesis_timestamp,
        schedule.keys(),
    ))
}

/// The fork id `spec` announces with its head at `head`.
pub fn fork_id(spec: &ChainSpec, head: ForkHead) -> Result<ForkId, ForkIdError> {
    fork_filter(spec, head).map(|filter| filter.current())
}

/// Moves `filter` to `head`; returns the new fork id if it changed.
pub fn advance(filter: &mut ForkFilter, head: ForkHead) -> Option<ForkId> {
    filter
        .set_head(head.as_head())
        .map(|transition| transition.current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypasis_polygon::spec::Fork;

    fn fork(block: u64) -> Fork {
        Fork {
            name: "f".into(),
            block,
        }
    }

    #[test]
    fn schedule_sorts_dedups_and_drops_genesis_forks() {
        let spec = ChainSpec {
            forks: vec![fork(0), fork(30), fork(10), fork(30), fork(0)],
            timestamp_forks: vec![fork(500), fork(100), fork(1000), fork(99), fork(1000)],
            genesis_timestamp: 100,
            fork_id_rules: ForkIdRules::Ethereum,
            ..ChainSpec::mainnet()
        };
        assert_eq!(
            ForkSchedule::from_spec(&spec),
            ForkSchedule {
                blocks: vec![10, 30],
                timestamps: vec![500, 1000],
            }
        );
        // A Bor node reads the same chain config without its `*Time` forks.
        let bor = ChainSpec {
            fork_id_rules: ForkIdRules::Bor,
            ..spec
        };
        assert_eq!(
            ForkSchedule::from_spec(&bor),
            ForkSchedule {
                blocks: vec![10, 30],
                timestamps: Vec::new(),
            }
        );
    }

    #[test]
    fn no_genesis_no_fork_id() {
        let spec = ChainSpec {
            genesis_hash: None,
            name: "devnet".into(),
            ..ChainSpec::mainnet()
        };
        assert_eq!(
            fork_id(&spec, ForkHead::default()),
            Err(ForkIdError::UnknownGenesis {
                chain: "devnet".into()
            })
        );
    }

    #[test]
    fn advancing_reports_transitions_only() {
        let spec = ChainSpec::amoy();
        let mut filter = fork_filter(&spec, ForkHead::new(73_099, 0)).unwrap();
        assert_eq!(advance(&mut filter, ForkHead::new(73_099, 1)), None);
        let next = advance(&mut filter, ForkHead::new(73_100, 2)).unwrap();
        assert_eq!(next, filter.current());
        assert_eq!(next.next, 5_423_600);
    }
}
