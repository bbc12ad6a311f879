//! Heimdall's checkpoint proposer, in miniature: sizes the next checkpoint
//! the way Heimdall's bridge does, computes its root by Heimdall's rule and
//! submits it to the L1's RootChain contract.

use alloy_primitives::B256;
use hypasis_devnet_l1::L1Devnet;
use hypasis_polygon::checkpoint::{checkpoint_root, header_leaf};

use crate::{
    chain::Chain,
    heimdall::{CheckpointRecord, Checkpoints},
};

/// The next checkpoint's range, as Heimdall's bridge picks it: from the
/// last checkpoint's end + 1 over a multiple of `interval` blocks, at most
/// `max_length`. `None` when fewer than `interval` blocks are waiting.
pub fn next_range(
    last_end: Option<u64>,
    head: u64,
    interval: u64,
    max_length: u64,
) -> Option<(u64, u64)> {
    let start = last_end.map_or(0, |end| end + 1);
    if head < start {
        return None;
    }
    let waiting = head - start + 1;
    let length = (waiting - waiting % interval.max(1)).min(max_length.max(1));
    (length > 0).then(|| (start, start + length - 1))
}

/// Why a checkpoint was not posted.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// L1 refused the transaction.
    #[error("L1 refused checkpoint {start}..={end}: {reason}")]
    L1 {
        /// First block.
        start: u64,
        /// Last block.
        end: u64,
        /// The L1's message.
        reason: String,
    },
}

/// Computes the checkpoint over `start..=end` of the canonical chain.
pub fn root_over(chain: &Chain, start: u64, end: u64) -> Option<B256> {
    let leaves: Vec<B256> = (start..=end)
        .map(|number| chain.header_at(number).map(|header| header_leaf(&header)))
        .collect::<Option<_>>()?;
    checkpoint_root(&leaves)
}

/// Posts every checkpoint that is due; returns how many were posted.
pub fn post_due(
    chain: &Chain,
    l1: &L1Devnet,
    checkpoints: &Checkpoints,
    interval: u64,
    max_length: u64,
    confirmed_head: u64,
    now: u64,
) -> Result<usize, CheckpointError> {
    let mut posted = 0;
    loop {
        let last_end = checkpoints.read().last().map(|checkpoint| checkpoint.end);
        let Some((start, end)) = next_range(last_end, confirmed_head, interval, max_length) else {
            return Ok(posted);
        };
        let Some(root) = root_over(chain, start, end) else {
            return Ok(posted);
        };
        let id = checkpoints.read().len() as u64 + 1;
        let validators = chain.generator().validators();
        let proposer = validators[(id as usize) % validators.len()].address;
        let submitted = l1
            .submit_checkpoint(proposer, start, end, root, now)
            .map_err(|error| CheckpointError::L1 {
                start,
                end,
                reason: error.to_string(),
            })?;
        checkpoints.write().push(CheckpointRecord {
            id,
            proposer,
            start,
            end,
            root,
            timestamp: now,
            header_block_id: submitted.header_block_id,
        });
        tracing::debug!(id, start, end, %root, header_block_id = submitted.header_block_id, "checkpoint posted to L1");
        posted += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_heimdall() {
        assert_eq!(next_range(None, 100, 256, 1024), None);
        assert_eq!(next_range(None, 255, 256, 1024), Some((0, 255)));
        assert_eq!(next_range(Some(255), 1000, 256, 1024), Some((256, 767)));
        assert_eq!(next_range(Some(255), 9000, 256, 1024), Some((256, 1279)));
        assert_eq!(next_range(Some(1279), 1279, 256, 1024), None);
    }
}
