//! Validating one fetched range on the blocking pool, split in two halves
//! validated at once when that gives the same verdict as one call: the
//! split point lies outside every checkpoint in the range, the later half
//! takes the earlier half's last (claimed) hash as its parent, and a
//! trusted anchor in either half confirms from the range's first block, as
//! it would in one call (parent links bind the halves together once both
//! are accepted). Levels that check a block against its parent header
//! (`full`: timestamps, sprint rules) are never split.

use std::sync::Arc;

use hypasis_plugin_api::{BlockRange, BlockRef, RawBlock, ValidationRequest, Verdict};

use super::range_error::RangeError;
use crate::plugins::{PluginCallError, ValidationPlugin};

/// Ranges shorter than this are validated in one call.
pub const MIN_SPLIT_BLOCKS: usize = 128;

/// Where to split `range`: the last block of the first half, or `None`
/// when no point near the middle lies outside all `checkpoints`.
fn split_point(range: BlockRange, checkpoints: &[BlockRange]) -> Option<u64> {
    let middle = range.start + range.len() / 2;
    let straddles = |at: u64| {
        checkpoints
            .iter()
            .any(|checkpoint| checkpoint.start <= at && at < checkpoint.end)
    };
    let mut candidates = vec![middle];
    for checkpoint in checkpoints {
        candidates.push(checkpoint.end);
        candidates.push(checkpoint.start.saturating_sub(1));
    }
    candidates
        .into_iter()
        .filter(|at| range.start + 32 <= *at && *at + 32 <= range.end && !straddles(*at))
        .min_by_key(|at| at.abs_diff(middle))
}

/// Validates `request` with `plugin`; returns the verdict and the blocks.
pub async fn validate(
    plugin: Arc<ValidationPlugin>,
    request: ValidationRequest,
    may_split: bool,
) -> Result<(Result<Verdict, PluginCallError>, Vec<RawBlock>), RangeError> {
    let (Some(first), Some(last)) = (request.blocks.first(), request.blocks.last()) else {
        return run(plugin, request).await;
    };
    let range = BlockRange::new(first.number, last.number);
    let checkpoints: Vec<BlockRange> = request.checkpoints.iter().map(|c| c.range).collect();
    let split = (may_split && request.blocks.len() >= MIN_SPLIT_BLOCKS)
        .then(|| split_point(range, &checkpoints))
        .flatten();
    let Some(at) = split else {
        return run(plugin, request).await;
    };
    let mut blocks = request.blocks.into_vec();
    let second_blocks: Vec<RawBlock> = blocks.split_off((at - range.start + 1) as usize);
    let Some(boundary) = blocks.last().map(|block| BlockRef {
        number: block.number,
        hash: block.hash,
    }) else {
        return Err(RangeError::Internal("empty first half".into()));
    };
    let inside = |half: BlockRange| {
        let anchors: Vec<BlockRef> = request
            .anchors
            .iter()
            .filter(|anchor| half.contains(anchor.number))
            .copied()
            .collect();
        let checkpoints: Vec<_> = request
            .checkpoints
            .iter()
            .filter(|checkpoint| {
                half.contains(checkpoint.range.start) && half.contains(checkpoint.range.end)
            })
            .cloned()
            .collect();
        (anchors, checkpoints)
    };
    let first_range = BlockRange::new(range.start, at);
    let second_range = BlockRange::new(at + 1, range.end);
    let (anchors, checkpoints) = inside(first_range);
    let first_request = ValidationRequest {
        direction: request.direction,
        blocks: blocks.into(),
        parent: request.parent,
        child: None.into(),
        anchors: anchors.into(),
        checkpoints: checkpoints.into(),
        spans: request.spans.clone(),
        ext: request.ext.clone(),
    };
    let (anchors, checkpoints) = inside(second_range);
    let second_request = ValidationRequest {
        direction: request.direction,
        blocks: second_blocks.into(),
        parent: Some(boundary).into(),
        child: request.child,
        anchors: anchors.into(),
        checkpoints: checkpoints.into(),
        spans: request.spans,
        ext: request.ext,
    };
    let all_anchors: Vec<BlockRef> = request.anchors.into_vec();
    let (one, two) = tokio::join!(
        run(Arc::clone(&plugin), first_request),
        run(plugin, second_request)
    );
    let ((first_verdict, mut blocks), (second_verdict, second_blocks)) = (one?, two?);
    blocks.extend(second_blocks);
    let verdict = match (first_verdict, second_verdict) {
        (Err(error), _) | (_, Err(error)) => Err(error),
        (Ok(one), Ok(two)) => Ok(match (one.into_result(), two.into_result()) {
            (Err(rejection), _) | (_, Err(rejection)) => Verdict::rejected(*rejection),
            (Ok(one), Ok(two)) => {
                let mut confirmed: Vec<BlockRange> = one.into_iter().chain(two).collect();
                // As one call would: an anchor confirms every block below it in the range.
                for anchor in &all_anchors {
                    if range.contains(anchor.number) {
                        confirmed.push(BlockRange::new(range.start, anchor.number));
                    }
                }
                confirmed.sort();
                confirmed.dedup();
                Verdict::accepted(confirmed)
            }
        }),
    };
    Ok((verdict, blocks))
}

/// One call on the blocking pool.
async fn run(
    plugin: Arc<ValidationPlugin>,
    request: ValidationRequest,
) -> Result<(Result<Verdict, PluginCallError>, Vec<RawBlock>), RangeError> {
    tokio::task::spawn_blocking(move || {
        let verdict = plugin.validate(&request);
        (verdict, request.blocks.into_vec())
    })
    .await
    .map_err(|error| RangeError::Internal(format!("validation task failed: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_avoid_checkpoints() {
        let range = BlockRange::new(1000, 1511);
        assert_eq!(split_point(range, &[]), Some(1256));
        // A checkpoint over the middle: split at its end or just before its start.
        let over = [BlockRange::new(1100, 1400)];
        assert_eq!(split_point(range, &over), Some(1400));
        // Checkpoints covering everything but their shared boundary.
        let tiling = [BlockRange::new(1000, 1255), BlockRange::new(1256, 1511)];
        assert_eq!(split_point(range, &tiling), Some(1255));
        // One checkpoint over the whole range: no split.
        assert_eq!(split_point(range, &[BlockRange::new(1000, 1511)]), None);
    }
}
