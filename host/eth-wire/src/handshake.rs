//! Judging a peer's Status against ours, with Bor's checks in Bor's order
//! (`B:eth/protocols/eth/handshake.go`, `readStatus`): network id, version,
//! genesis, fork id, total difficulty size, and on eth/69 the block range.
//! Reading the message (first message must be Status, size limit, decode)
//! is [`EthMessage::decode`](crate::EthMessage::decode)'s job.

use alloy_eip2124::{ForkFilter, ForkId};
use alloy_primitives::{B256, U256};

use crate::error::HandshakeError;
use crate::protocol::MAX_TD_BITS;
use crate::status::{Status68, Status69};

/// The fields both Status shapes share, for one comparison routine.
struct Common {
    version: u32,
    network_id: u64,
    genesis: B256,
    fork_id: ForkId,
    total_difficulty: U256,
}

impl From<&Status68> for Common {
    fn from(status: &Status68) -> Self {
        Common {
            version: status.version,
            network_id: status.network_id,
            genesis: status.genesis,
            fork_id: status.fork_id,
            total_difficulty: status.total_difficulty,
        }
    }
}

impl From<&Status69> for Common {
    fn from(status: &Status69) -> Self {
        Common {
            version: status.version,
            network_id: status.network_id,
            genesis: status.genesis,
            fork_id: status.fork_id,
            total_difficulty: status.total_difficulty,
        }
    }
}

fn check_common(ours: Common, theirs: Common, filter: &ForkFilter) -> Result<(), HandshakeError> {
    if theirs.network_id != ours.network_id {
        return Err(HandshakeError::NetworkIdMismatch {
            ours: ours.network_id,
            theirs: theirs.network_id,
        });
    }
    if theirs.version != ours.version {
        return Err(HandshakeError::VersionMismatch {
            ours: ours.version,
            theirs: theirs.version,
        });
    }
    if theirs.genesis != ours.genesis {
        return Err(HandshakeError::GenesisMismatch {
            ours: ours.genesis,
            theirs: theirs.genesis,
        });
    }
    filter.validate(theirs.fork_id)?;
    let bits = theirs.total_difficulty.bit_len();
    if bits > MAX_TD_BITS {
        return Err(HandshakeError::TotalDifficultyTooLarge { bits });
    }
    Ok(())
}

/// Checks a peer's eth/68 Status against the one we sent. A low (even zero)
/// TD is accepted: go-ethereum's test suite sends 0.
pub fn check_status68(
    ours: &Status68,
    theirs: &Status68,
    filter: &ForkFilter,
) -> Result<(), HandshakeError> {
    check_common(ours.into(), theirs.into(), filter)
}

/// Checks a peer's (Bor) eth/69 Status against the one we sent, including
/// its block range.
pub fn check_status69(
    ours: &Status69,
    theirs: &Status69,
    filter: &ForkFilter,
) -> Result<(), HandshakeError> {
    check_common(ours.into(), theirs.into(), filter)?;
    theirs.block_range().validate()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork_id::{ForkHead, fork_filter};
    use alloy_eip2124::ForkHash;
    use hypasis_polygon::ChainSpec;

    fn ours() -> (Status68, ForkFilter) {
        let spec = ChainSpec::mainnet();
        let filter = fork_filter(&spec, ForkHead::new(80_000_000, 0)).unwrap();
        let status = Status68 {
            version: 68,
            network_id: 137,
            total_difficulty: U256::from(1_000_000u64),
            head: B256::repeat_byte(9),
            genesis: spec.genesis_hash.unwrap(),
            fork_id: filter.current(),
        };
        (status, filter)
    }

    #[test]
    fn status68_checks_in_bor_order() {
        let (ours, filter) = ours();
        let zero_td = Status68 {
            total_difficulty: U256::ZERO,
            ..ours
        };
        assert_eq!(check_status68(&ours, &zero_td, &filter), Ok(()));
        let other_network = Status68 {
            network_id: 80002,
            genesis: B256::ZERO,
            ..ours
        };
        assert!(matches!(
            check_status68(&ours, &other_network, &filter),
            Err(HandshakeError::NetworkIdMismatch { theirs: 80002, .. })
        ));
        let other_version = Status68 {
            version: 67,
            ..ours
        };
        assert!(matches!(
            check_status68(&ours, &other_version, &filter),
            Err(HandshakeError::VersionMismatch { theirs: 67, .. })
        ));
        let other_genesis = Status68 {
            genesis: B256::ZERO,
            ..ours
        };
        assert!(matches!(
            check_status68(&ours, &other_genesis, &filter),
            Err(HandshakeError::GenesisMismatch { .. })
        ));
        let stale = Status68 {
            fork_id: ForkId {
                hash: ForkHash([0xf0, 0x97, 0xbc, 0x13]),
                next: 0,
            },
            ..ours
        };
        assert!(matches!(
            check_status68(&ours, &stale, &filter),
            Err(HandshakeError::ForkIdRejected(_))
        ));
        let huge_td = Status68 {
            total_difficulty: U256::from(1) << 100,
            ..ours
        };
        assert_eq!(
            check_status68(&ours, &huge_td, &filter),
            Err(HandshakeError::TotalDifficultyTooLarge { bits: 101 })
        );
        let max_td = Status68 {
            total_difficulty: (U256::from(1) << 100) - U256::from(1),
            ..ours
        };
        assert_eq!(check_status68(&ours, &max_td, &filter), Ok(()));
    }

    #[test]
    fn status69_checks_the_block_range() {
        let (ours68, filter) = ours();
        let ours = Status69 {
            version: 69,
            network_id: ours68.network_id,
            total_difficulty: ours68.total_difficulty,
            genesis: ours68.genesis,
            fork_id: ours68.fork_id,
            earliest: 0,
            latest: 80_000_000,
            latest_hash: B256::repeat_byte(9),
        };
        assert_eq!(check_status69(&ours, &ours, &filter), Ok(()));
        let inverted = Status69 {
            earliest: 80_000_001,
            ..ours
        };
        assert!(matches!(
            check_status69(&ours, &inverted, &filter),
            Err(HandshakeError::BlockRange(_))
        ));
    }
}
