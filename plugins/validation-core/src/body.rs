//! The `light` level: bodies and receipts against the header. `full`
//! also recomputes each receipt's bloom from its logs: under `light` the
//! receipts root (which the header, and through it the checkpoint, commits
//! to) already authenticates every receipt's bloom, so only a chain whose
//! producers sealed an inconsistent receipt could fail that check, and
//! catching such a chain is consensus work.

use alloy_consensus::EMPTY_OMMER_ROOT_HASH;
use alloy_primitives::{B256, Bloom, Log, keccak256};
use alloy_rlp::{Decodable, Header as RlpHeader};
use hypasis_polygon::roots::{body_transactions, body_uncles, envelope_items, ordered_root};

use crate::{
    decode::DecodedBlock,
    rejection::{Reject, mismatch},
};

/// A receipt's fields that the header commits to.
struct ReceiptFields {
    cumulative_gas_used: u64,
    bloom: Bloom,
    /// The logs, when asked for.
    logs: Option<Vec<Log>>,
}

/// Decodes a receipt's gas and bloom, and its logs when `with_logs`.
fn decode_receipt(
    number: u64,
    index: usize,
    envelope: &[u8],
    with_logs: bool,
) -> Result<ReceiptFields, Reject> {
    let bad = |reason: String| {
        mismatch(
            number,
            &format!("receipts[{index}]"),
            "a valid receipt",
            reason,
        )
    };
    let mut payload = match envelope.first() {
        Some(first) if *first < 0xc0 => &envelope[1..],
        _ => envelope,
    };
    let list = RlpHeader::decode(&mut payload).map_err(|error| bad(error.to_string()))?;
    if !list.list {
        return Err(bad("not a list".into()));
    }
    // Status (or a pre-Byzantium state root): skipped, it is in the root.
    let status = RlpHeader::decode(&mut payload).map_err(|error| bad(error.to_string()))?;
    payload = payload
        .get(status.payload_length..)
        .ok_or_else(|| bad("truncated status".into()))?;
    let cumulative_gas_used = u64::decode(&mut payload).map_err(|error| bad(error.to_string()))?;
    let bloom = Bloom::decode(&mut payload).map_err(|error| bad(error.to_string()))?;
    let logs = if with_logs {
        Some(Vec::<Log>::decode(&mut payload).map_err(|error| bad(error.to_string()))?)
    } else {
        None
    };
    Ok(ReceiptFields {
        cumulative_gas_used,
        bloom,
        logs,
    })
}

fn hex(hash: &B256) -> String {
    format!("{hash:#x}")
}

/// The third list of a body (withdrawals), if present.
fn body_withdrawals(body: &[u8]) -> Option<&[u8]> {
    let mut cursor = body;
    RlpHeader::decode(&mut cursor).ok()?;
    for _ in 0..2 {
        let item = RlpHeader::decode(&mut cursor).ok()?;
        cursor = cursor.get(item.payload_length..)?;
    }
    (!cursor.is_empty()).then_some(cursor)
}

/// Runs the light checks on every block; with `receipt_blooms`, also checks
/// each receipt's bloom against its logs (the `full` level).
pub fn check(blocks: &[DecodedBlock<'_>], receipt_blooms: bool) -> Result<(), Reject> {
    for block in blocks {
        let number = block.number();
        let header = &block.header;
        let Some(body) = block.raw.body.as_ref().into_option() else {
            return Err(Reject::Request(format!("block {number}: no body")));
        };
        let transactions = body_transactions(body)
            .map_err(|error| mismatch(number, "body", "a valid body", error))?;
        let root = ordered_root(&transactions);
        if root != header.transactions_root {
            return Err(mismatch(
                number,
                "transactionsRoot",
                hex(&header.transactions_root),
                hex(&root),
            ));
        }
        let uncles =
            body_uncles(body).map_err(|error| mismatch(number, "body", "a valid body", error))?;
        let ommers = if uncles == [0xc0] {
            EMPTY_OMMER_ROOT_HASH
        } else {
            keccak256(uncles)
        };
        if ommers != header.ommers_hash {
            return Err(mismatch(
                number,
                "sha3Uncles",
                hex(&header.ommers_hash),
                hex(&ommers),
            ));
        }
        match (header.withdrawals_root, body_withdrawals(body)) {
            (Some(expected), Some(list)) => {
                let items = envelope_items("withdrawals", list)
                    .map_err(|error| mismatch(number, "withdrawals", "a valid list", error))?;
                let root = ordered_root(&items);
                if root != expected {
                    return Err(mismatch(
                        number,
                        "withdrawalsRoot",
                        hex(&expected),
                        hex(&root),
                    ));
                }
            }
            (None, None) => {}
            (expected, _) => {
                return Err(mismatch(
                    number,
                    "withdrawals",
                    if expected.is_some() {
                        "present"
                    } else {
                        "absent"
                    },
                    if expected.is_some() {
                        "absent"
                    } else {
                        "present"
                    },
                ));
            }
        }

        let Some(receipts) = block.raw.receipts.as_ref().into_option() else {
            return Err(Reject::Request(format!("block {number}: no receipts")));
        };
        let items = envelope_items("receipts", receipts)
            .map_err(|error| mismatch(number, "receipts", "a valid receipt list", error))?;
        if items.len() != transactions.len() {
            return Err(mismatch(
                number,
                "receipts",
                format!("{} receipts", transactions.len()),
                format!("{} receipts", items.len()),
            ));
        }
        let root = ordered_root(&items);
        if root != header.receipts_root {
            return Err(mismatch(
                number,
                "receiptsRoot",
                hex(&header.receipts_root),
                hex(&root),
            ));
        }
        let mut block_bloom = Bloom::ZERO;
        let mut gas_used = 0;
        for (index, item) in items.iter().enumerate() {
            let receipt = decode_receipt(number, index, item, receipt_blooms)?;
            if let Some(logs) = &receipt.logs {
                let mut bloom = Bloom::ZERO;
                for log in logs {
                    bloom.accrue_log(log);
                }
                if bloom != receipt.bloom {
                    return Err(mismatch(
                        number,
                        &format!("receipts[{index}].logsBloom"),
                        bloom,
                        receipt.bloom,
                    ));
                }
            }
            block_bloom.accrue_bloom(&receipt.bloom);
            gas_used = receipt.cumulative_gas_used;
        }
        if block_bloom != header.logs_bloom {
            return Err(mismatch(
                number,
                "logsBloom",
                header.logs_bloom,
                block_bloom,
            ));
        }
        if gas_used != header.gas_used {
            return Err(mismatch(
                number,
                "gasUsed",
                header.gas_used,
                format!("{gas_used} (cumulative gas of the last receipt)"),
            ));
        }
    }
    Ok(())
}
