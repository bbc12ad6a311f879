//! [`ChainState`]: the one owner of what everyone reads about the chain —
//! the head we serve, the safe (newest milestone) and finalized (newest L1
//! checkpoint) blocks, the L1 checkpoint list, and the stored coverage.
//!
//! Writers push: sync tells it each batch it settled ([`ChainState::advance`])
//! and each coverage change; the L1 + Heimdall tracker tells it each new
//! checkpoint and milestone. Readers subscribe: the JSON-RPC API (`latest`,
//! `safe`, `finalized`, WebSocket `newHeads`), devp2p (Status,
//! NewBlockHashes, BlockRangeUpdate) and the status page hold a
//! [`ChainWatch`] and wait on its `watch` channels. Nothing polls the store
//! for the head: the store is read only at start (the first head and its
//! total difficulty) and after a reorg deeper than the heads kept in memory.
//! Sync hands over each settled block's decoded header with it, and the
//! newest [`KEPT_HEADERS`] are kept ([`ChainWatch::recent_header`]), so a
//! `newHeads` subscriber is told of a head without a store read.
//!
//! A store filled by `import` and served by `serve` has a fixed head
//! ([`ChainState::fixed`]).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{B256, U256};
use hypasis_plugin_api::{BlockPart, BlockRange};
use hypasis_polygon::ChainSpec;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

pub mod coverage;
pub mod recent;
pub mod total_difficulty;

pub use coverage::{Coverage, UNCONFIRMED, UNLINKED, VERIFIED};
pub use recent::{KEPT_HEADERS, RecentHeaders};
pub use total_difficulty::{SettledBlock, TdTracker, TotalDifficulty};

use crate::{
    block_store::BlockStore,
    checkpoints::{L1Checkpoint, Milestone},
    plugins::PluginCallError,
    served_chain::ServedChain,
};

/// The head we serve, with what a Status needs besides the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedHead {
    /// Head block number.
    pub number: u64,
    /// Head block hash.
    pub hash: B256,
    /// Head block timestamp (selects timestamp forks in the fork id).
    pub timestamp: u64,
    /// Total difficulty at the head.
    pub total_difficulty: U256,
    /// The oldest block we serve (eth/69's `earliest`).
    pub earliest: u64,
    /// The genesis hash.
    pub genesis: B256,
}

/// Why the chain state could not be read at start.
#[derive(Debug, thiserror::Error)]
pub enum ChainStateError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] PluginCallError),
    /// The served head's header is not in the store.
    #[error("the store's served head {number} ({hash}) has no stored header")]
    MissingHead {
        /// Its number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// A header in the store does not decode.
    #[error("stored header of block {number} does not decode: {reason}")]
    BadHeader {
        /// Its number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// Neither the spec nor the store knows the genesis hash.
    #[error("the genesis hash of chain `{0}` is unknown (not in the spec, block 0 not stored)")]
    UnknownGenesis(String),
}

/// The tip of the linked chain: the head before its total difficulty and
/// genesis are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tip {
    number: u64,
    hash: B256,
    timestamp: u64,
}

/// The owner of the chain's state (see the module docs).
pub struct ChainState {
    spec: Arc<ChainSpec>,
    head: watch::Sender<Option<ServedHead>>,
    safe: watch::Sender<Option<Milestone>>,
    finalized: watch::Sender<Option<L1Checkpoint>>,
    coverage: watch::Sender<Arc<Coverage>>,
    checkpoints: RwLock<BTreeMap<u64, L1Checkpoint>>,
    td: Mutex<TdTracker>,
    recent: Mutex<RecentHeaders>,
    tip: Mutex<Option<Tip>>,
    genesis: Mutex<Option<B256>>,
    fixed: bool,
}

impl std::fmt::Debug for ChainState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainState")
            .field("chain", &self.spec.name)
            .field("head", &*self.head.borrow())
            .finish_non_exhaustive()
    }
}

impl ChainState {
    fn with(spec: Arc<ChainSpec>, head: Option<ServedHead>, fixed: bool) -> Arc<Self> {
        let genesis = spec.genesis_hash.or(head.map(|head| head.genesis));
        Arc::new(ChainState {
            spec,
            head: watch::Sender::new(head),
            safe: watch::Sender::new(None),
            finalized: watch::Sender::new(None),
            coverage: watch::Sender::new(Arc::default()),
            checkpoints: RwLock::default(),
            td: Mutex::new(TdTracker::new()),
            recent: Mutex::default(),
            tip: Mutex::new(None),
            genesis: Mutex::new(genesis),
            fixed,
        })
    }

    /// A state with a head that never moves (tests; `serve`).
    pub fn fixed(spec: Arc<ChainSpec>, head: Option<ServedHead>) -> Arc<Self> {
        Self::with(spec, head, true)
    }

    /// The fixed state of a store `import` filled.
    pub fn served(
        store: &dyn BlockStore,
        served: &ServedChain,
    ) -> Result<Arc<Self>, ChainStateError> {
        let spec = Arc::new(served.spec.clone());
        let genesis = genesis(store, &spec)?
            .ok_or_else(|| ChainStateError::UnknownGenesis(spec.name.clone()))?;
        let head = ServedHead {
            number: served.head_number,
            hash: served.head_hash,
            timestamp: timestamp(store, served.head_number, served.head_hash)?,
            total_difficulty: served.head_total_difficulty,
            earliest: 0,
            genesis,
        };
        Ok(Self::fixed(spec, Some(head)))
    }

    /// The state of a syncing host at start: the head is the tip of the
    /// linked chain in `coverage`, read from `store` once (its hash,
    /// timestamp and total difficulty).
    pub fn syncing(
        spec: Arc<ChainSpec>,
        store: &dyn BlockStore,
        coverage: Coverage,
    ) -> Result<Arc<Self>, ChainStateError> {
        let state = Self::with(Arc::clone(&spec), None, false);
        if state.genesis.lock().is_none() {
            *state.genesis.lock() = store.canonical_hash(0)?;
        }
        let top = coverage.forward_top();
        state.coverage.send_replace(Arc::new(coverage));
        if let Some(number) = top
            && let Some(hash) = store.canonical_hash(number)?
        {
            let tip = Tip {
                number,
                hash,
                timestamp: timestamp(store, number, hash)?,
            };
            state.reread_td(store, tip)?;
        }
        Ok(state)
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    /// A reader of this state.
    pub fn watch(self: &Arc<Self>) -> ChainWatch {
        ChainWatch {
            state: Arc::clone(self),
        }
    }

    /// Sync settled `blocks` (ascending) on top of the head: the new head
    /// is the last one, its total difficulty the previous one's plus theirs.
    /// Reads the store only when the blocks do not extend the head (the
    /// first batch after start, say).
    pub fn advance(
        &self,
        blocks: &[SettledBlock],
        store: &dyn BlockStore,
    ) -> Result<(), PluginCallError> {
        let Some(last) = blocks.last() else {
            return Ok(());
        };
        let tip = Tip {
            number: last.number,
            hash: last.hash,
            timestamp: last.timestamp,
        };
        {
            // Kept before the head is published: a woken subscriber finds them.
            let mut recent = self.recent.lock();
            for block in &blocks[blocks.len().saturating_sub(KEPT_HEADERS)..] {
                recent.push(block.number, block.hash, Arc::clone(&block.header));
            }
        }
        let td = self.td.lock().advance(blocks);
        match td {
            Some(td) => self.publish(tip, td),
            None => self.reread_td(store, tip)?,
        }
        Ok(())
    }

    /// Sync unwound the chain above `number` (`hash`) after a reorg.
    pub fn unwound(
        &self,
        number: u64,
        hash: B256,
        timestamp: Option<u64>,
        store: &dyn BlockStore,
    ) -> Result<(), ChainStateError> {
        let timestamp = match timestamp {
            Some(timestamp) => timestamp,
            None => self::timestamp(store, number, hash)?,
        };
        let tip = Tip {
            number,
            hash,
            timestamp,
        };
        self.recent.lock().unwind_to(number, hash);
        let rewound = {
            let mut td = self.td.lock();
            td.rewind(number, hash).then(|| td.last()).flatten()
        };
        match rewound {
            Some(td) => self.publish(tip, td),
            None => self.reread_td(store, tip)?,
        }
        Ok(())
    }

    fn reread_td(&self, store: &dyn BlockStore, tip: Tip) -> Result<(), PluginCallError> {
        let floor = self
            .coverage
            .borrow()
            .backward_lowest()
            .unwrap_or(tip.number);
        let td = self.td.lock().compute(store, tip.number, tip.hash, floor)?;
        self.publish(tip, td);
        Ok(())
    }

    fn publish(&self, tip: Tip, td: TotalDifficulty) {
        *self.tip.lock() = Some(tip);
        self.republish_with(Some(td.value));
    }

    /// Recomputes the served head from the tip, the total difficulty and
    /// the coverage; subscribers wake only when it changed.
    fn republish_with(&self, td: Option<U256>) {
        if self.fixed {
            return;
        }
        let Some(tip) = *self.tip.lock() else {
            return;
        };
        let Some(genesis) = *self.genesis.lock() else {
            return;
        };
        let total_difficulty = match td.or_else(|| self.td.lock().last().map(|td| td.value)) {
            Some(value) => value,
            None => return,
        };
        let earliest = {
            let coverage = self.coverage.borrow();
            coverage
                .backward_lowest()
                .or(coverage.anchor)
                .unwrap_or(tip.number)
                .min(tip.number)
        };
        let head = ServedHead {
            number: tip.number,
            hash: tip.hash,
            timestamp: tip.timestamp,
            total_difficulty,
            earliest,
            genesis,
        };
        self.head.send_if_modified(|current| {
            let changed = *current != Some(head);
            *current = Some(head);
            changed
        });
    }

    /// The stored coverage changed (sync wrote a batch).
    pub fn set_coverage(&self, coverage: Coverage) {
        self.coverage.send_if_modified(|current| {
            let changed = **current != coverage;
            if changed {
                *current = Arc::new(coverage);
            }
            changed
        });
        self.republish_with(None);
    }

    /// Block 0 was stored with this hash (when the spec does not name it).
    pub fn set_genesis(&self, hash: B256) {
        let mut genesis = self.genesis.lock();
        if genesis.is_none() {
            *genesis = Some(hash);
            drop(genesis);
            self.republish_with(None);
        }
    }

    /// A new newest milestone (`safe`); rebases the total difficulty when
    /// it carries one for a block kept in memory.
    pub fn set_safe(&self, milestone: Milestone) {
        self.td
            .lock()
            .set_milestone(milestone.end, milestone.hash, milestone.total_difficulty);
        self.safe.send_if_modified(|current| {
            let changed = current.as_ref() != Some(&milestone);
            *current = Some(milestone);
            changed
        });
        self.republish_with(None);
    }

    /// Records L1 checkpoints; the newest becomes `finalized`.
    pub fn add_checkpoints(&self, checkpoints: &[L1Checkpoint]) {
        let newest = {
            let mut known = self.checkpoints.write();
            for checkpoint in checkpoints {
                known.insert(checkpoint.start, checkpoint.clone());
            }
            known.values().next_back().cloned()
        };
        if let Some(newest) = newest {
            self.finalized.send_if_modified(|current| {
                let changed = current.as_ref() != Some(&newest);
                *current = Some(newest);
                changed
            });
        }
    }

    /// The known checkpoint covering `number`.
    pub fn checkpoint_covering(&self, number: u64) -> Option<L1Checkpoint> {
        self.checkpoints
            .read()
            .range(..=number)
            .next_back()
            .map(|(_, checkpoint)| checkpoint.clone())
            .filter(|checkpoint| checkpoint.end >= number)
    }

    /// The lowest known checkpoint starting above `number`.
    pub fn checkpoint_above(&self, number: u64) -> Option<L1Checkpoint> {
        self.checkpoints
            .read()
            .range(number.saturating_add(1)..)
            .next()
            .map(|(_, checkpoint)| checkpoint.clone())
    }

    /// Known checkpoints lying wholly inside `range`, ascending.
    pub fn checkpoints_inside(&self, range: BlockRange) -> Vec<L1Checkpoint> {
        self.checkpoints
            .read()
            .range(range.start..=range.end)
            .map(|(_, checkpoint)| checkpoint)
            .filter(|checkpoint| checkpoint.end <= range.end)
            .cloned()
            .collect()
    }

    /// Every known checkpoint, ascending.
    pub fn checkpoints(&self) -> Vec<L1Checkpoint> {
        self.checkpoints.read().values().cloned().collect()
    }

    /// How many checkpoints are known.
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.read().len()
    }
}

/// What readers hold: the spec and the current head, safe and finalized
/// blocks and coverage, each with a channel to wait for changes on.
#[derive(Debug, Clone)]
pub struct ChainWatch {
    state: Arc<ChainState>,
}

impl ChainWatch {
    /// A watch over a fixed head (tests; `serve`).
    pub fn fixed(spec: Arc<ChainSpec>, head: Option<ServedHead>) -> Self {
        ChainState::fixed(spec, head).watch()
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.state.spec
    }

    /// The state itself.
    pub fn state(&self) -> &Arc<ChainState> {
        &self.state
    }

    /// The current head, if known.
    pub fn head(&self) -> Option<ServedHead> {
        *self.state.head.borrow()
    }

    /// A receiver to wait for head changes on.
    pub fn subscribe(&self) -> watch::Receiver<Option<ServedHead>> {
        self.state.head.subscribe()
    }

    /// The header of canonical block `number`, with its hash, when it is
    /// among the newest [`KEPT_HEADERS`] settled ones (read from memory,
    /// not the store).
    pub fn recent_header(&self, number: u64) -> Option<(B256, Arc<alloy_consensus::Header>)> {
        self.state.recent.lock().get(number)
    }

    /// The newest milestone (`safe`).
    pub fn safe(&self) -> Option<Milestone> {
        self.state.safe.borrow().clone()
    }

    /// A receiver to wait for new milestones on.
    pub fn subscribe_safe(&self) -> watch::Receiver<Option<Milestone>> {
        self.state.safe.subscribe()
    }

    /// The newest L1 checkpoint (`finalized`).
    pub fn finalized(&self) -> Option<L1Checkpoint> {
        self.state.finalized.borrow().clone()
    }

    /// A receiver to wait for new checkpoints on.
    pub fn subscribe_finalized(&self) -> watch::Receiver<Option<L1Checkpoint>> {
        self.state.finalized.subscribe()
    }

    /// A receiver to wait for coverage changes on.
    pub fn subscribe_coverage(&self) -> watch::Receiver<Arc<Coverage>> {
        self.state.coverage.subscribe()
    }

    /// The stored coverage.
    pub fn coverage(&self) -> Arc<Coverage> {
        Arc::clone(&self.state.coverage.borrow())
    }
}

/// The genesis hash: the spec's, else the stored block 0's.
fn genesis(store: &dyn BlockStore, spec: &ChainSpec) -> Result<Option<B256>, PluginCallError> {
    match spec.genesis_hash {
        Some(hash) => Ok(Some(hash)),
        None => store.canonical_hash(0),
    }
}

/// The timestamp of stored block `hash`.
fn timestamp(store: &dyn BlockStore, number: u64, hash: B256) -> Result<u64, ChainStateError> {
    let header = store
        .part(BlockPart::Header, hash)?
        .ok_or(ChainStateError::MissingHead { number, hash })?;
    hypasis_polygon::decode_header(&header)
        .map(|header| header.timestamp)
        .map_err(|error| ChainStateError::BadHeader {
            number,
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block_store::memory::MemoryStore;

    fn spec() -> Arc<ChainSpec> {
        Arc::new(ChainSpec {
            genesis_hash: None,
            ..ChainSpec::mainnet()
        })
    }

    #[test]
    fn the_served_head_comes_from_the_store() {
        let store = MemoryStore::chain(10);
        let served = ServedChain {
            spec: (*spec()).clone(),
            head_number: 9,
            head_hash: store.hash(9),
            head_total_difficulty: U256::from(77),
        };
        let head = ChainState::served(&store, &served)
            .unwrap()
            .watch()
            .head()
            .unwrap();
        assert_eq!(
            head,
            ServedHead {
                number: 9,
                hash: store.hash(9),
                timestamp: 118,
                total_difficulty: U256::from(77),
                earliest: 0,
                genesis: store.hash(0),
            }
        );
        let missing = ServedChain {
            head_hash: B256::repeat_byte(1),
            ..served
        };
        assert!(matches!(
            ChainState::served(&store, &missing),
            Err(ChainStateError::MissingHead { number: 9, .. })
        ));
    }

    #[test]
    fn settled_batches_move_the_head_and_wake_subscribers() {
        let store = MemoryStore::chain(40);
        let coverage = Coverage {
            anchor: Some(20),
            verified: hypasis_plugin_api::IntervalSet::from_ranges([BlockRange::new(15, 30)]),
            ..Coverage::default()
        };
        let state = ChainState::syncing(spec(), &store, coverage).unwrap();
        let watch = state.watch();
        let head = watch.head().unwrap();
        assert_eq!((head.number, head.earliest), (30, 15));
        assert_eq!(head.timestamp, 160);
        let expected: u64 = (15..=30).map(|n| 1 + n % 3).sum();
        assert_eq!(head.total_difficulty, U256::from(expected));
        let mut changes = watch.subscribe();
        changes.mark_unchanged();
        let blocks = store.settled(31, 33);
        state.advance(&blocks, &store).unwrap();
        assert!(changes.has_changed().unwrap());
        let head = watch.head().unwrap();
        assert_eq!(head.number, 33);
        let expected: u64 = (15..=33).map(|n| 1 + n % 3).sum();
        assert_eq!(head.total_difficulty, U256::from(expected));
    }
}
