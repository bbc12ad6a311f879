//! The JSON shapes geth answers with: hex quantities without leading zeros, `0x` data,
//! lowercase addresses, and its block, transaction, receipt and log objects (same keys, same
//! order: alphabetical where geth marshals a map, declaration order where it marshals a struct).

use alloy_consensus::Transaction;
use alloy_primitives::hex;
use serde_json::{Map, Value, json};

use crate::block::{L1Block, MinedTx};

/// A hex quantity: `0x0`, `0x1a`.
pub(crate) fn quantity(value: impl Into<u128>) -> Value {
    Value::String(format!("{:#x}", value.into()))
}

/// `0x`-prefixed lowercase hex of bytes (addresses, hashes, data).
pub(crate) fn data(bytes: impl AsRef<[u8]>) -> Value {
    Value::String(hex::encode_prefixed(bytes))
}

/// A log object (geth's `types.Log` field order).
pub(crate) fn log(
    block: &L1Block,
    tx: &MinedTx,
    tx_index: usize,
    log_index: u64,
    log: &alloy_primitives::Log,
) -> Value {
    json!({
        "address": data(log.address),
        "topics": log.topics().iter().map(data).collect::<Vec<_>>(),
        "data": data(&log.data.data),
        "blockNumber": quantity(block.number()),
        "transactionHash": data(tx.hash()),
        "transactionIndex": quantity(tx_index as u64),
        "blockHash": data(block.hash),
        "blockTimestamp": quantity(block.header.timestamp),
        "logIndex": quantity(log_index),
        "removed": false,
    })
}

/// A transaction object (geth's `RPCTransaction` field order, EIP-1559 fields).
pub(crate) fn transaction(block: &L1Block, index: usize) -> Value {
    let mined = &block.transactions[index];
    let tx = mined.tx.tx();
    let signature = mined.tx.signature();
    json!({
        "blockHash": data(block.hash),
        "blockNumber": quantity(block.number()),
        "from": data(mined.from),
        "gas": quantity(tx.gas_limit),
        "gasPrice": quantity(mined.effective_gas_price),
        "maxFeePerGas": quantity(tx.max_fee_per_gas),
        "maxPriorityFeePerGas": quantity(tx.max_priority_fee_per_gas),
        "hash": data(mined.hash()),
        "input": data(&tx.input),
        "nonce": quantity(tx.nonce),
        "to": tx.to().map_or(Value::Null, data),
        "transactionIndex": quantity(index as u64),
        "value": Value::String(format!("{:#x}", tx.value)),
        "type": quantity(2u8),
        "accessList": [],
        "chainId": quantity(tx.chain_id),
        "v": quantity(u8::from(signature.v())),
        "r": Value::String(format!("{:#x}", signature.r())),
        "s": Value::String(format!("{:#x}", signature.s())),
        "yParity": quantity(u8::from(signature.v())),
    })
}

/// A receipt object (geth marshals a map: keys in alphabetical order).
pub(crate) fn receipt(block: &L1Block, index: usize) -> Value {
    let mined = &block.transactions[index];
    let logs: Vec<Value> = mined
        .logs()
        .map(|(log_index, entry)| log(block, mined, index, log_index, entry))
        .collect();
    json!({
        "blockHash": data(block.hash),
        "blockNumber": quantity(block.number()),
        "contractAddress": mined.contract_address.map_or(Value::Null, data),
        "cumulativeGasUsed": quantity(mined.receipt.receipt.cumulative_gas_used),
        "effectiveGasPrice": quantity(mined.effective_gas_price),
        "from": data(mined.from),
        "gasUsed": quantity(mined.gas_used),
        "logs": logs,
        "logsBloom": data(mined.receipt.logs_bloom),
        "status": quantity(u8::from(mined.receipt.receipt.status.coerce_status())),
        "to": mined.tx.tx().to().map_or(Value::Null, data),
        "transactionHash": data(mined.hash()),
        "transactionIndex": quantity(index as u64),
        "type": quantity(2u8),
    })
}

/// A block object, with transaction hashes or (`full`) transaction objects; geth marshals a
/// map, so keys are in alphabetical order.
pub(crate) fn block(block: &L1Block, full: bool) -> Value {
    let header = &block.header;
    let transactions: Vec<Value> = (0..block.transactions.len())
        .map(|index| {
            if full {
                transaction(block, index)
            } else {
                data(block.transactions[index].hash())
            }
        })
        .collect();
    let mut object = Map::new();
    let mut put = |key: &str, value: Value| {
        object.insert(key.to_string(), value);
    };
    put(
        "baseFeePerGas",
        header.base_fee_per_gas.map_or(Value::Null, quantity),
    );
    put(
        "blobGasUsed",
        header.blob_gas_used.map_or(Value::Null, quantity),
    );
    put(
        "difficulty",
        Value::String(format!("{:#x}", header.difficulty)),
    );
    put(
        "excessBlobGas",
        header.excess_blob_gas.map_or(Value::Null, quantity),
    );
    put("extraData", data(&header.extra_data));
    put("gasLimit", quantity(header.gas_limit));
    put("gasUsed", quantity(header.gas_used));
    put("hash", data(block.hash));
    put("logsBloom", data(header.logs_bloom));
    put("miner", data(header.beneficiary));
    put("mixHash", data(header.mix_hash));
    put("nonce", data(header.nonce));
    put("number", quantity(header.number));
    put(
        "parentBeaconBlockRoot",
        header.parent_beacon_block_root.map_or(Value::Null, data),
    );
    put("parentHash", data(header.parent_hash));
    put("receiptsRoot", data(header.receipts_root));
    put("sha3Uncles", data(header.ommers_hash));
    put("size", quantity(block.size));
    put("stateRoot", data(header.state_root));
    put("timestamp", quantity(header.timestamp));
    put("transactions", Value::Array(transactions));
    put("transactionsRoot", data(header.transactions_root));
    put("uncles", json!([]));
    put("withdrawals", json!([]));
    put(
        "withdrawalsRoot",
        header.withdrawals_root.map_or(Value::Null, data),
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, B256};

    #[test]
    fn quantities_have_no_leading_zeros() {
        assert_eq!(quantity(0u64), json!("0x0"));
        assert_eq!(quantity(26u64), json!("0x1a"));
        assert_eq!(quantity(u64::MAX), json!("0xffffffffffffffff"));
        assert_eq!(
            Value::String(format!("{:#x}", alloy_primitives::U256::ZERO)),
            json!("0x0")
        );
    }

    #[test]
    fn data_is_lowercase_and_prefixed() {
        assert_eq!(
            data(Address::repeat_byte(0xAB)),
            json!(format!("0x{}", "ab".repeat(20)))
        );
        assert_eq!(data(B256::ZERO), json!(format!("0x{}", "00".repeat(32))));
        assert_eq!(data([]), json!("0x"));
    }
}
