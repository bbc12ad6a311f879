//! Heimdall's checkpoint root, exactly as Bor's `bor_getRootHash` computes it.
//!
//! One leaf per block: `keccak256(number ‖ timestamp ‖ transactionsRoot ‖
//! receiptsRoot)`, each integer a 32-byte big-endian word. The leaves are
//! padded with 32-byte zero leaves (not hashed) to the next power of two;
//! each parent is `keccak256(left ‖ right)`, unsorted; one leaf is its own root.

use alloy_primitives::{B256, keccak256};

/// Bor's cap on the blocks one root may cover (2^15).
pub const MAX_CHECKPOINT_LENGTH: u64 = 1 << 15;

/// The leaf for `header`'s block (what [`checkpoint_leaf`] takes, read
/// from the header).
pub fn header_leaf(header: &alloy_consensus::Header) -> B256 {
    checkpoint_leaf(
        header.number,
        header.timestamp,
        &header.transactions_root,
        &header.receipts_root,
    )
}

/// The leaf for one block.
pub fn checkpoint_leaf(
    number: u64,
    timestamp: u64,
    transactions_root: &B256,
    receipts_root: &B256,
) -> B256 {
    let mut input = [0u8; 128];
    input[24..32].copy_from_slice(&number.to_be_bytes());
    input[56..64].copy_from_slice(&timestamp.to_be_bytes());
    input[64..96].copy_from_slice(transactions_root.as_slice());
    input[96..128].copy_from_slice(receipts_root.as_slice());
    keccak256(input)
}

/// The root over `leaves` (in block order). `None` for no leaves.
pub fn checkpoint_root(leaves: &[B256]) -> Option<B256> {
    if leaves.is_empty() {
        return None;
    }
    let width = leaves.len().next_power_of_two();
    let mut level: Vec<B256> = Vec::with_capacity(width);
    level.extend_from_slice(leaves);
    level.resize(width, B256::ZERO);
    let mut pair = [0u8; 64];
    while level.len() > 1 {
        let next: Vec<B256> = level
            .chunks_exact(2)
            .map(|children| {
                pair[..32].copy_from_slice(children[0].as_slice());
                pair[32..].copy_from_slice(children[1].as_slice());
                keccak256(pair)
            })
            .collect();
        level = next;
    }
    level.first().copied()
}

/// Why `bor_getRootHash` refuses a range, with Bor's own messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootRangeError {
    /// More than [`MAX_CHECKPOINT_LENGTH`] blocks (also what a start far above the end wraps to).
    #[error(
        "Start: {start} and end block: {end} exceed max allowed checkpoint length: {MAX_CHECKPOINT_LENGTH}"
    )]
    TooLong {
        /// First block asked.
        start: u64,
        /// Last block asked.
        end: u64,
    },
    /// Start after end, or end beyond the head.
    #[error("Invalid parameters start: {start} and end block: {end} params")]
    Invalid {
        /// First block asked.
        start: u64,
        /// Last block asked.
        end: u64,
    },
}

/// Checks a `bor_getRootHash(start, end)` range against the head the way
/// Bor does, in Bor's order (the length check first, with wrapping).
pub fn check_root_range(start: u64, end: u64, head: u64) -> Result<(), RootRangeError> {
    let length = end.wrapping_sub(start).wrapping_add(1);
    if length > MAX_CHECKPOINT_LENGTH {
        return Err(RootRangeError::TooLong { start, end });
    }
    if start > end || end > head {
        return Err(RootRangeError::Invalid { start, end });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leaf_is_its_own_root_and_padding_is_zero_leaves() {
        let a = B256::repeat_byte(1);
        let b = B256::repeat_byte(2);
        let c = B256::repeat_byte(3);
        assert_eq!(checkpoint_root(&[a]), Some(a));
        let ab = keccak256([a.as_slice(), b.as_slice()].concat());
        assert_eq!(checkpoint_root(&[a, b]), Some(ab));
        let c0 = keccak256([c.as_slice(), B256::ZERO.as_slice()].concat());
        let root = keccak256([ab.as_slice(), c0.as_slice()].concat());
        assert_eq!(checkpoint_root(&[a, b, c]), Some(root));
        assert_eq!(checkpoint_root(&[]), None);
    }

    #[test]
    fn range_checks_follow_bor() {
        assert!(check_root_range(1, 1024, 5000).is_ok());
        assert_eq!(
            check_root_range(10, 9, 100),
            Err(RootRangeError::Invalid { start: 10, end: 9 })
        );
        assert_eq!(
            check_root_range(11, 9, 100),
            Err(RootRangeError::TooLong { start: 11, end: 9 })
        );
        assert_eq!(
            check_root_range(0, 32_768, 100_000),
            Err(RootRangeError::TooLong {
                start: 0,
                end: 32_768
            })
        );
        assert!(check_root_range(0, 32_767, 100_000).is_ok());
        assert_eq!(
            check_root_range(5, 200, 100).unwrap_err().to_string(),
            "Invalid parameters start: 5 and end block: 200 params"
        );
    }
}
