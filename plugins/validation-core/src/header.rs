//! The `header` level: hashes, parent links, trusted neighbours and
//! anchors, and checkpoint roots.

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockRange, ValidationRequest};
use hypasis_polygon::checkpoint::{checkpoint_root, header_leaf};

use crate::{
    decode::DecodedBlock,
    rejection::{Reject, mismatch},
};

fn hex(hash: &B256) -> String {
    format!("{hash:#x}")
}

/// Runs the header checks; returns the ranges confirmed by a checkpoint
/// root or lying at or below a trusted anchor in the batch.
pub fn check(
    blocks: &[DecodedBlock<'_>],
    request: &ValidationRequest,
) -> Result<Vec<BlockRange>, Reject> {
    for block in blocks {
        let claimed = B256::from(block.raw.hash);
        if block.hash != claimed {
            return Err(mismatch(
                block.number(),
                "hash",
                hex(&claimed),
                hex(&block.hash),
            ));
        }
    }
    for pair in blocks.windows(2) {
        if pair[1].header.parent_hash != pair[0].hash {
            return Err(mismatch(
                pair[1].number(),
                "parentHash",
                hex(&pair[0].hash),
                hex(&pair[1].header.parent_hash),
            ));
        }
    }
    if let (Some(first), Some(parent)) = (blocks.first(), request.parent.as_ref().into_option()) {
        if parent.number + 1 != first.number() {
            return Err(Reject::Request(format!(
                "the trusted parent {} is not below block {}",
                parent.number,
                first.number()
            )));
        }
        let expected = B256::from(parent.hash);
        if first.header.parent_hash != expected {
            return Err(mismatch(
                first.number(),
                "parentHash",
                hex(&expected),
                hex(&first.header.parent_hash),
            ));
        }
    }
    if let (Some(last), Some(child)) = (blocks.last(), request.child.as_ref().into_option()) {
        if last.number() + 1 != child.number {
            return Err(Reject::Request(format!(
                "the trusted child {} is not above block {}",
                child.number,
                last.number()
            )));
        }
        let expected = B256::from(child.parent_hash);
        if last.hash != expected {
            return Err(mismatch(
                last.number(),
                "hash",
                hex(&expected),
                hex(&last.hash),
            ));
        }
    }
    let Some(first_number) = blocks.first().map(DecodedBlock::number) else {
        return Ok(Vec::new());
    };
    let at = |number: u64| blocks.get(usize::try_from(number.checked_sub(first_number)?).ok()?);
    let mut confirmed = Vec::new();
    for anchor in request.anchors.iter() {
        if let Some(block) = at(anchor.number) {
            let expected = B256::from(anchor.hash);
            if block.hash != expected {
                return Err(mismatch(
                    anchor.number,
                    "hash",
                    format!("{} (trusted anchor)", hex(&expected)),
                    hex(&block.hash),
                ));
            }
            // Parent links bind every block below the anchor.
            confirmed.push(BlockRange::new(first_number, anchor.number));
        }
    }
    for checkpoint in request.checkpoints.iter() {
        let (start, end) = (checkpoint.range.start, checkpoint.range.end);
        if at(start).is_none() || at(end).is_none() {
            return Err(Reject::Request(format!(
                "checkpoint {} ({start}..={end}) is not inside the batch",
                checkpoint.id
            )));
        }
        let leaves: Vec<B256> = (start..=end)
            .filter_map(at)
            .map(|block| header_leaf(&block.header))
            .collect();
        let root = checkpoint_root(&leaves).unwrap_or_default();
        let expected = B256::from(checkpoint.root);
        if root != expected {
            return Err(mismatch(
                start,
                "checkpointRoot",
                format!(
                    "{} (L1 checkpoint {}, blocks {start}..={end})",
                    hex(&expected),
                    checkpoint.id
                ),
                hex(&root),
            ));
        }
        confirmed.push(BlockRange::new(start, end));
    }
    confirmed.sort();
    Ok(confirmed)
}
