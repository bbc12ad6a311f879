//! Header checks that do not need execution: linkage to the parent, the
//! fields the parent determines (base fee, excess blob gas, the merge by
//! total difficulty), the fork-dependent optional fields, and the roots of
//! the body (transactions, uncles, withdrawals). And the check of the
//! header against what execution gave.

use alloy_consensus::{Header, proofs::calculate_withdrawals_root};
use alloy_eips::{eip1559::BaseFeeParams, eip1559::INITIAL_BASE_FEE, eip4895::Withdrawal};
use alloy_primitives::{B64, B256, U256, keccak256};
use std::fmt::Display;

use crate::{error::BlockFault, executor::BlockOutput, forks::EthereumForks};

/// The block before the one being checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parent<'a> {
    /// Its header.
    pub header: &'a Header,
    /// Its hash.
    pub hash: B256,
    /// The total difficulty up to and including it.
    pub total_difficulty: U256,
}

/// The longest extra data a header may carry.
const MAX_EXTRA_DATA: usize = 32;
/// The smallest gas limit a header may carry.
const MIN_GAS_LIMIT: u64 = 5_000;

/// The gas limit may move by less than 1/1024 of the parent's (of twice
/// the parent's on the London block, EIP-1559's elasticity).
fn check_gas_limit(
    forks: &EthereumForks,
    parent: &Header,
    header: &Header,
) -> Result<(), BlockFault> {
    let parent_limit = if forks.is_block_active("london", header.number)
        && !forks.is_block_active("london", parent.number)
    {
        parent
            .gas_limit
            .saturating_mul(BaseFeeParams::ethereum().elasticity_multiplier as u64)
    } else {
        parent.gas_limit
    };
    let step = parent_limit / 1024;
    if header.gas_limit.abs_diff(parent_limit) >= step || header.gas_limit < MIN_GAS_LIMIT {
        return Err(BlockFault::Invalid(format!(
            "gasLimit {} is not within {step} of the parent's {parent_limit} (or below {MIN_GAS_LIMIT})",
            header.gas_limit
        )));
    }
    if header.gas_used > header.gas_limit {
        return Err(BlockFault::Invalid(format!(
            "gasUsed {} exceeds gasLimit {}",
            header.gas_used, header.gas_limit
        )));
    }
    Ok(())
}

/// Renders an optional header field.
fn show<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".into(), |value| value.to_string())
}

fn check_optional<T: PartialEq + Display>(
    field: &'static str,
    expected: Option<T>,
    found: Option<T>,
) -> Result<(), BlockFault> {
    BlockFault::check(field, show(expected), show(found))
}

/// The base fee EIP-1559 gives a block after `parent` (the initial base fee
/// on the London block itself).
fn expected_base_fee(forks: &EthereumForks, parent: &Header) -> u64 {
    match parent.base_fee_per_gas {
        Some(base_fee) if forks.is_block_active("london", parent.number) => {
            BaseFeeParams::ethereum().next_block_base_fee(
                parent.gas_used,
                parent.gas_limit,
                base_fee,
            )
        }
        _ => INITIAL_BASE_FEE,
    }
}

/// The excess blob gas a block at `timestamp` must carry after `parent`
/// (EIP-4844, with EIP-7918's reserve price from Osaka), using the blob
/// schedule in force at `timestamp`.
fn expected_excess_blob_gas(forks: &EthereumForks, parent: &Header, timestamp: u64) -> Option<u64> {
    let params = forks.blob_params(timestamp)?;
    let excess = parent.excess_blob_gas.unwrap_or(0);
    let used = parent.blob_gas_used.unwrap_or(0);
    Some(params.next_block_excess_blob_gas_osaka(
        excess,
        used,
        parent.base_fee_per_gas.unwrap_or(0),
    ))
}

/// Checks a header against its parent and the fork schedule.
pub(crate) fn header(
    forks: &EthereumForks,
    parent: Parent<'_>,
    header: &Header,
) -> Result<(), BlockFault> {
    let (number, timestamp) = (header.number, header.timestamp);
    BlockFault::check("number", parent.header.number.saturating_add(1), number)?;
    BlockFault::check("parentHash", parent.hash, header.parent_hash)?;
    if header.extra_data.len() > MAX_EXTRA_DATA {
        return Err(BlockFault::Invalid(format!(
            "extraData is {} bytes, at most {MAX_EXTRA_DATA} are allowed",
            header.extra_data.len()
        )));
    }
    check_gas_limit(forks, parent.header, header)?;
    if timestamp <= parent.header.timestamp {
        return Err(BlockFault::Invalid(format!(
            "timestamp {timestamp} is not after the parent's {}",
            parent.header.timestamp
        )));
    }
    let post_merge = header.difficulty.is_zero();
    if let Some(ttd) = forks.terminal_total_difficulty {
        let reached = parent.total_difficulty >= ttd;
        if post_merge != reached {
            return Err(BlockFault::Invalid(format!(
                "difficulty {} after a parent with total difficulty {} (terminal total difficulty {ttd})",
                header.difficulty, parent.total_difficulty
            )));
        }
    }
    if post_merge {
        BlockFault::check("nonce", B64::ZERO, header.nonce)?;
    }
    let london = forks.is_block_active("london", number);
    let time = |name| forks.is_active(name, number, timestamp);
    check_optional(
        "baseFeePerGas",
        london.then(|| expected_base_fee(forks, parent.header)),
        header.base_fee_per_gas,
    )?;
    if time("shanghai") != header.withdrawals_root.is_some() {
        return Err(BlockFault::Invalid(format!(
            "withdrawalsRoot is {} but Shanghai is {}",
            show(header.withdrawals_root),
            if time("shanghai") {
                "active"
            } else {
                "not active"
            }
        )));
    }
    let cancun = time("cancun");
    check_optional(
        "excessBlobGas",
        cancun
            .then(|| expected_excess_blob_gas(forks, parent.header, timestamp))
            .flatten(),
        header.excess_blob_gas,
    )?;
    if cancun != header.blob_gas_used.is_some()
        || cancun != header.parent_beacon_block_root.is_some()
    {
        return Err(BlockFault::Invalid(
            "blobGasUsed and parentBeaconBlockRoot must be present exactly from Cancun".into(),
        ));
    }
    if time("prague") != header.requests_hash.is_some() {
        return Err(BlockFault::Invalid(
            "requestsHash must be present exactly from Prague".into(),
        ));
    }
    Ok(())
}

/// Checks the body's roots against the header: transactions root, uncle
/// hash (and no uncles after the merge), withdrawals root.
pub(crate) fn body_roots(
    header: &Header,
    transactions_root: B256,
    uncles_rlp: &[u8],
    uncle_count: usize,
    withdrawals: Option<&[Withdrawal]>,
) -> Result<(), BlockFault> {
    BlockFault::check(
        "transactionsRoot",
        header.transactions_root,
        transactions_root,
    )?;
    BlockFault::check("sha3Uncles", header.ommers_hash, keccak256(uncles_rlp))?;
    if header.difficulty.is_zero() && uncle_count > 0 {
        return Err(BlockFault::Invalid(format!(
            "{uncle_count} uncles in a proof-of-stake block"
        )));
    }
    check_optional(
        "withdrawalsRoot",
        header.withdrawals_root,
        withdrawals.map(calculate_withdrawals_root),
    )
}

/// Checks the header against execution: gas used, logs bloom, receipts
/// root, blob gas used, requests hash and state root.
pub(crate) fn outcome(header: &Header, output: &BlockOutput) -> Result<(), BlockFault> {
    BlockFault::check("gasUsed", header.gas_used, output.gas_used)?;
    BlockFault::check("logsBloom", header.logs_bloom, output.receipts.bloom)?;
    BlockFault::check("receiptsRoot", header.receipts_root, output.receipts.root())?;
    if let Some(used) = header.blob_gas_used {
        BlockFault::check("blobGasUsed", used, output.blob_gas_used)?;
    }
    check_optional("requestsHash", header.requests_hash, output.requests_hash)?;
    BlockFault::check("stateRoot", header.state_root, output.state_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_fee_follows_eip_1559() {
        let config = serde_json::from_str(r#"{"chainId":1,"londonBlock":5}"#).unwrap();
        let forks = EthereumForks::from_config(&config).unwrap();
        let before = Header {
            number: 4,
            gas_limit: 30_000_000,
            ..Default::default()
        };
        assert_eq!(expected_base_fee(&forks, &before), INITIAL_BASE_FEE);
        let full = Header {
            number: 5,
            gas_limit: 30_000_000,
            gas_used: 30_000_000,
            base_fee_per_gas: Some(INITIAL_BASE_FEE),
            ..Default::default()
        };
        assert_eq!(expected_base_fee(&forks, &full), INITIAL_BASE_FEE * 9 / 8);
        let child = Header {
            number: 6,
            timestamp: 1,
            gas_limit: 30_000_000,
            parent_hash: full.hash_slow(),
            base_fee_per_gas: Some(1),
            ..Default::default()
        };
        let parent = Parent {
            header: &full,
            hash: full.hash_slow(),
            total_difficulty: U256::ZERO,
        };
        let error = header(&forks, parent, &child).unwrap_err();
        assert!(
            matches!(
                error,
                BlockFault::Mismatch {
                    field: "baseFeePerGas",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn excess_blob_gas_uses_the_childs_schedule() {
        let config = serde_json::from_str(
            r#"{"chainId":1,"londonBlock":0,"cancunTime":0,"pragueTime":10,"osakaTime":20,"bpo1Time":30,
                "blobSchedule":{"bpo1":{"target":10,"max":15,"baseFeeUpdateFraction":8346193}}}"#,
        )
        .unwrap();
        let forks = EthereumForks::from_config(&config).unwrap();
        let blob = alloy_eips::eip4844::DATA_GAS_PER_BLOB;
        let parent = Header {
            excess_blob_gas: Some(0),
            blob_gas_used: Some(8 * blob),
            base_fee_per_gas: Some(1),
            ..Default::default()
        };
        // Cancun's target is 3 blobs, Prague's 6, BPO1's 10.
        assert_eq!(expected_excess_blob_gas(&forks, &parent, 5), Some(5 * blob));
        assert_eq!(
            expected_excess_blob_gas(&forks, &parent, 15),
            Some(2 * blob)
        );
        assert_eq!(expected_excess_blob_gas(&forks, &parent, 35), Some(0));
        // EIP-7918 (Osaka): when execution gas is dear, the excess grows by
        // used × (max − target) / max instead.
        let dear = Header {
            base_fee_per_gas: Some(1_000_000_000),
            ..parent
        };
        assert_eq!(expected_excess_blob_gas(&forks, &dear, 15), Some(2 * blob));
        assert_eq!(
            expected_excess_blob_gas(&forks, &dear, 25),
            Some(8 * blob * 3 / 9)
        );
    }
}
