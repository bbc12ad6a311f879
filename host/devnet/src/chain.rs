//! The devnet chain as it grows: canonical blocks, every block by hash
//! (orphans too), the transaction index, milestones, and the generator
//! states needed to fork the tip.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use alloy_consensus::Header;
use alloy_primitives::B256;

use crate::{archive::ColdBlocks, block::DevBlock, generator::ChainGenerator};

/// How many recent generator states are kept (the deepest possible reorg).
pub const FORKABLE_DEPTH: usize = 256;

/// Canonical blocks kept in memory by default; older ones go to the
/// on-disk archive ([`ColdBlocks`]).
pub const DEFAULT_HOT_BLOCKS: usize = 8192;

/// A Heimdall milestone: the blocks `[start, end]`, whose end hash validators agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    /// 1-based number (Heimdall's count).
    pub number: u64,
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// Hash of `end`.
    pub hash: B256,
    /// Total difficulty at `end`.
    pub total_difficulty: u64,
    /// Seconds since the epoch when it was made.
    pub timestamp: u64,
}

/// Why the chain refused a reorg.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReorgError {
    /// Depth zero, or deeper than the kept generator states.
    #[error("reorg depth {depth} is out of range (1..={max})")]
    Depth {
        /// Asked depth.
        depth: u64,
        /// Deepest possible now.
        max: u64,
    },
    /// The reorg would replace a block an L1 checkpoint covers.
    #[error(
        "reorg depth {depth} would replace block {first}, at or below checkpoint end {checkpoint_end}"
    )]
    BelowCheckpoint {
        /// Asked depth.
        depth: u64,
        /// First block that would be replaced.
        first: u64,
        /// Newest checkpoint end.
        checkpoint_end: u64,
    },
    /// The reorg would replace a block a milestone covers.
    #[error(
        "reorg depth {depth} would replace block {first}, at or below milestone end {milestone_end}"
    )]
    BelowMilestone {
        /// Asked depth.
        depth: u64,
        /// First block that would be replaced.
        first: u64,
        /// Newest milestone end.
        milestone_end: u64,
    },
}

/// The devnet chain: the newest canonical blocks (and every orphan) in
/// memory, older canonical blocks in an on-disk archive.
pub struct Chain {
    /// Canonical blocks `cold.len()..`, oldest first.
    canonical: VecDeque<Arc<DevBlock>>,
    /// Canonical blocks `0..cold.len()`, once the chain has outgrown `hot_blocks`.
    cold: Option<ColdBlocks>,
    hot_blocks: usize,
    /// Hot canonical blocks and orphans.
    by_hash: HashMap<B256, Arc<DevBlock>>,
    transactions: HashMap<B256, (B256, usize)>,
    states: VecDeque<ChainGenerator>,
    generator: ChainGenerator,
    milestones: Vec<Milestone>,
    reorgs: u64,
}

impl Chain {
    /// A chain holding the generator's genesis, keeping
    /// [`DEFAULT_HOT_BLOCKS`] canonical blocks in memory.
    pub fn new(generator: ChainGenerator) -> Self {
        Self::with_hot_blocks(generator, DEFAULT_HOT_BLOCKS)
    }

    /// A chain keeping the newest `hot_blocks` canonical blocks in memory
    /// (at least [`FORKABLE_DEPTH`] + 1, so a reorg never reaches the
    /// archive) and the older ones on disk.
    pub fn with_hot_blocks(generator: ChainGenerator, hot_blocks: usize) -> Self {
        let genesis = Arc::new(generator.head().clone());
        let mut chain = Chain {
            canonical: VecDeque::new(),
            cold: None,
            hot_blocks: hot_blocks.max(FORKABLE_DEPTH + 1),
            by_hash: HashMap::new(),
            transactions: HashMap::new(),
            states: VecDeque::new(),
            generator,
            milestones: Vec::new(),
            reorgs: 0,
        };
        chain.push(genesis);
        chain
    }

    fn push(&mut self, block: Arc<DevBlock>) {
        for (index, tx) in block.txs.iter().enumerate() {
            self.transactions.insert(tx.hash, (block.hash, index));
        }
        if let Some(bor) = &block.bor_receipt {
            self.transactions
                .insert(bor.tx_hash, (block.hash, block.txs.len()));
        }
        self.by_hash.insert(block.hash, Arc::clone(&block));
        self.canonical.push_back(block);
        self.states.push_back(self.generator.clone());
        if self.states.len() > FORKABLE_DEPTH {
            self.states.pop_front();
        }
        while self.canonical.len() > self.hot_blocks {
            if !self.archive_oldest() {
                break;
            }
        }
    }

    /// Moves the oldest hot canonical block to the archive. `false` (and
    /// the block stays in memory) when the archive cannot be written.
    fn archive_oldest(&mut self) -> bool {
        let Some(oldest) = self.canonical.front().cloned() else {
            return false;
        };
        if self.cold.is_none() {
            match ColdBlocks::new(None) {
                Ok(cold) => self.cold = Some(cold),
                Err(error) => {
                    tracing::error!(%error, "devnet archive cannot be created; blocks stay in memory");
                    self.hot_blocks = usize::MAX;
                    return false;
                }
            }
        }
        let Some(cold) = self.cold.as_mut() else {
            return false;
        };
        if let Err(error) = cold.push(&oldest) {
            tracing::error!(%error, number = oldest.number(), "devnet archive write failed; blocks stay in memory");
            self.hot_blocks = usize::MAX;
            return false;
        }
        self.canonical.pop_front();
        self.by_hash.remove(&oldest.hash);
        let bor = oldest.bor_receipt.as_ref().map(|bor| bor.tx_hash);
        for hash in oldest.txs.iter().map(|tx| tx.hash).chain(bor) {
            if self
                .transactions
                .get(&hash)
                .is_some_and(|(block, _)| *block == oldest.hash)
            {
                self.transactions.remove(&hash);
            }
        }
        true
    }

    /// How many canonical blocks are archived (numbers `0..archived()`).
    pub fn archived(&self) -> u64 {
        self.cold.as_ref().map_or(0, ColdBlocks::len)
    }

    /// Bytes of the on-disk archive.
    pub fn archive_bytes(&self) -> u64 {
        self.cold.as_ref().map_or(0, ColdBlocks::bytes)
    }

    /// Makes the next block and appends it.
    pub fn grow(&mut self) -> Arc<DevBlock> {
        let block = Arc::new(self.generator.next_block());
        self.push(Arc::clone(&block));
        block
    }

    /// The generator (for its spec and validators).
    pub fn generator(&self) -> &ChainGenerator {
        &self.generator
    }

    /// The newest canonical block.
    pub fn head(&self) -> &Arc<DevBlock> {
        self.canonical.back().expect("the chain has a genesis")
    }

    /// Where canonical block `number` is: `Ok` in memory, `Err` in the
    /// archive (`Err(None)` past the head).
    fn locate(&self, number: u64) -> Result<&Arc<DevBlock>, Option<&ColdBlocks>> {
        let archived = self.archived();
        if number < archived {
            return Err(self.cold.as_ref());
        }
        usize::try_from(number - archived)
            .ok()
            .and_then(|index| self.canonical.get(index))
            .ok_or(None)
    }

    /// The canonical block at `number` (read back from the archive for old ones).
    pub fn by_number(&self, number: u64) -> Option<Arc<DevBlock>> {
        match self.locate(number) {
            Ok(block) => Some(Arc::clone(block)),
            Err(cold) => cold?.block(number),
        }
    }

    /// The canonical hash at `number` (no archive read).
    pub fn hash_at(&self, number: u64) -> Option<B256> {
        match self.locate(number) {
            Ok(block) => Some(block.hash),
            Err(cold) => cold?.hash(number),
        }
    }

    /// The canonical header at `number` (a short archive read for old ones).
    pub fn header_at(&self, number: u64) -> Option<Header> {
        match self.locate(number) {
            Ok(block) => Some(block.header.clone()),
            Err(cold) => cold?.header(number),
        }
    }

    /// Any block ever made, canonical or not.
    pub fn by_hash(&self, hash: &B256) -> Option<Arc<DevBlock>> {
        if let Some(block) = self.by_hash.get(hash) {
            return Some(Arc::clone(block));
        }
        let cold = self.cold.as_ref()?;
        cold.block(cold.number_of(hash)?)
    }

    /// Whether `hash` is canonical.
    pub fn is_canonical(&self, block: &DevBlock) -> bool {
        self.hash_at(block.number()) == Some(block.hash)
    }

    /// A canonical transaction's block and index (`index == txs.len()` is the bor receipt's).
    pub fn transaction(&self, hash: &B256) -> Option<(Arc<DevBlock>, usize)> {
        if let Some((block_hash, index)) = self.transactions.get(hash) {
            let block = self.by_hash.get(block_hash)?;
            return self
                .is_canonical(block)
                .then(|| (Arc::clone(block), *index));
        }
        self.cold.as_ref()?.transaction(hash)
    }

    /// Every milestone so far.
    pub fn milestones(&self) -> &[Milestone] {
        &self.milestones
    }

    /// Records milestones of `length` blocks while the head is more than
    /// `lag` blocks past the newest one.
    pub fn advance_milestones(&mut self, length: u64, lag: u64, now: u64) {
        let length = length.max(1);
        loop {
            let end_so_far = self.milestones.last().map_or(0, |milestone| milestone.end);
            let end = end_so_far + length;
            if end + lag > self.head().number() {
                return;
            }
            let Some(block) = self.by_number(end) else {
                return;
            };
            let milestone = Milestone {
                number: self.milestones.len() as u64 + 1,
                start: end_so_far + 1,
                end,
                hash: block.hash,
                total_difficulty: block.total_difficulty.saturating_to(),
                timestamp: now,
            };
            self.milestones.push(milestone);
        }
    }

    /// Replaces the newest `depth` blocks with a fork one block longer.
    /// Returns the new head.
    pub fn reorg(&mut self, depth: u64) -> Result<Arc<DevBlock>, ReorgError> {
        let head = self.head().number();
        let max = (self.states.len() as u64).saturating_sub(1).min(head);
        if depth == 0 || depth > max {
            return Err(ReorgError::Depth { depth, max });
        }
        let first = head - depth + 1;
        let milestone_end = self.milestones.last().map_or(0, |milestone| milestone.end);
        if first <= milestone_end {
            return Err(ReorgError::BelowMilestone {
                depth,
                first,
                milestone_end,
            });
        }
        // The state after block `first - 1` sits `depth` entries before the last.
        let keep = self.states.len() - depth as usize;
        let mut generator = self.states[keep - 1].clone();
        self.states.truncate(keep);
        // The hot window is deeper than any reorg, so `first` is in memory.
        let first_hot = usize::try_from(first - self.archived()).unwrap_or(usize::MAX);
        for block in self.canonical.drain(first_hot.min(self.canonical.len())..) {
            for tx in &block.txs {
                self.transactions.remove(&tx.hash);
            }
            if let Some(bor) = &block.bor_receipt {
                self.transactions.remove(&bor.tx_hash);
            }
        }
        self.reorgs += 1;
        generator.diverge(self.reorgs);
        self.generator = generator;
        for _ in 0..=depth {
            self.grow();
        }
        Ok(Arc::clone(self.head()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChainConfig;

    #[test]
    fn reorg_replaces_the_tip_with_a_longer_fork() {
        let mut chain = Chain::new(
            ChainGenerator::new(ChainConfig {
                txs_per_block: 2,
                ..Default::default()
            })
            .unwrap(),
        );
        for _ in 0..40 {
            chain.grow();
        }
        let old_head = Arc::clone(chain.head());
        let old_tx = old_head.txs.first().map(|tx| tx.hash);
        let kept = chain.by_number(35).unwrap();
        let new_head = chain.reorg(5).unwrap();
        assert_eq!(new_head.number(), 41);
        assert_eq!(chain.by_number(35).unwrap().hash, kept.hash);
        assert_ne!(chain.by_number(36).unwrap().hash, old_head.hash);
        assert_eq!(chain.by_number(36).unwrap().header.parent_hash, kept.hash);
        assert!(
            chain.by_hash(&old_head.hash).is_some(),
            "orphans stay readable by hash"
        );
        assert!(!chain.is_canonical(&old_head));
        if let Some(hash) = old_tx {
            assert!(chain.transaction(&hash).is_none());
        }
        chain.advance_milestones(8, 4, 0);
        assert_eq!(chain.milestones().last().unwrap().end, 32);
        assert!(matches!(
            chain.reorg(10),
            Err(ReorgError::BelowMilestone { .. })
        ));
        assert!(matches!(chain.reorg(0), Err(ReorgError::Depth { .. })));
    }
}
