//! The block range a peer serves: eth/69's BlockRangeUpdate (0x11), also
//! carried inside Bor's eth/69 Status.

use alloy_primitives::B256;
use alloy_rlp::{RlpDecodable, RlpEncodable};

use crate::error::BlockRangeError;

/// `BlockRangeUpdate` (0x11, eth/69 only): `[earliest, latest, latestHash]`,
/// the blocks the sender can serve (`B[eth69]:eth/protocols/eth/protocol.go`,
/// `BlockRangeUpdatePacket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, RlpEncodable, RlpDecodable)]
pub struct BlockRangeUpdate {
    /// The oldest block the sender serves.
    pub earliest: u64,
    /// The sender's head number.
    pub latest: u64,
    /// The sender's head hash.
    pub latest_hash: B256,
}

impl BlockRangeUpdate {
    /// Bor's check, on the update and on the range inside Status69:
    /// `earliest <= latest` and a non-zero head hash
    /// (`B[eth69]:eth/protocols/eth/handshake.go`, `Validate`). A peer that
    /// fails it is dropped.
    pub fn validate(&self) -> Result<(), BlockRangeError> {
        if self.earliest > self.latest {
            return Err(BlockRangeError::EarliestAfterLatest {
                earliest: self.earliest,
                latest: self.latest,
            });
        }
        if self.latest_hash == B256::ZERO {
            return Err(BlockRangeError::ZeroLatestHash {
                latest: self.latest,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_follows_bor() {
        let hash = B256::repeat_byte(1);
        let ok = BlockRangeUpdate {
            earliest: 0,
            latest: 10,
            latest_hash: hash,
        };
        assert_eq!(ok.validate(), Ok(()));
        let equal = BlockRangeUpdate { earliest: 10, ..ok };
        assert_eq!(equal.validate(), Ok(()));
        let inverted = BlockRangeUpdate { earliest: 11, ..ok };
        assert_eq!(
            inverted.validate(),
            Err(BlockRangeError::EarliestAfterLatest {
                earliest: 11,
                latest: 10
            })
        );
        let zero = BlockRangeUpdate {
            latest_hash: B256::ZERO,
            ..ok
        };
        assert_eq!(
            zero.validate(),
            Err(BlockRangeError::ZeroLatestHash { latest: 10 })
        );
    }
}
