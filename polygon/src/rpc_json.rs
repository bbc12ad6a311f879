//! Ethereum JSON-RPC shapes for blocks, transactions, receipts and logs:
//! rendering what we store. The other direction (rebuilding the exact
//! consensus objects from what an upstream sends) is [`crate::rpc_parse`]
//! over [`crate::rpc_decode`], re-exported here; hex scalars are
//! [`crate::rpc_hex`]. Field names and encodings follow go-ethereum
//! (and Bor, which adds `totalDifficulty` and its state-sync transaction).

use alloy_consensus::{Header, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bloom, U256};
use serde_json::{Map, Value, json};

use crate::state_sync::{STATE_SYNC_TX_TYPE, decode_state_sync_tx};
pub use crate::{
    rpc_hex::{JsonShapeError, parse_b256, parse_bytes, parse_fixed, parse_u64, parse_u256},
    rpc_parse::{header_from_json, log_from_json, receipt_from_json, state_sync_tx_from_json},
};

/// `0x`-prefixed minimal hex quantity.
pub fn quantity(value: u64) -> Value {
    Value::String(format!("{value:#x}"))
}

/// `0x`-prefixed minimal hex quantity of a 256-bit number.
pub fn quantity_u256(value: U256) -> Value {
    Value::String(format!("{value:#x}"))
}

/// `0x`-prefixed hex data.
pub fn data(bytes: &[u8]) -> Value {
    let mut out = vec![0u8; 2 + bytes.len() * 2];
    out[..2].copy_from_slice(b"0x");
    // Cannot fail: the buffer is exactly twice the input.
    let _ = hex::encode_to_slice(bytes, &mut out[2..]);
    Value::String(String::from_utf8(out).unwrap_or_default())
}

/// The header fields of a block's JSON (without `transactions`, `uncles`,
/// `size` and `totalDifficulty`, which the caller adds).
pub fn header_json(header: &Header, hash: &B256) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(fee) = header.base_fee_per_gas {
        out.insert("baseFeePerGas".into(), quantity(fee));
    }
    if let Some(used) = header.blob_gas_used {
        out.insert("blobGasUsed".into(), quantity(used));
    }
    out.insert("difficulty".into(), quantity_u256(header.difficulty));
    if let Some(excess) = header.excess_blob_gas {
        out.insert("excessBlobGas".into(), quantity(excess));
    }
    out.insert("extraData".into(), data(&header.extra_data));
    out.insert("gasLimit".into(), quantity(header.gas_limit));
    out.insert("gasUsed".into(), quantity(header.gas_used));
    out.insert("hash".into(), data(hash.as_slice()));
    out.insert("logsBloom".into(), data(header.logs_bloom.as_slice()));
    out.insert("miner".into(), data(header.beneficiary.as_slice()));
    out.insert("mixHash".into(), data(header.mix_hash.as_slice()));
    out.insert("nonce".into(), data(header.nonce.as_slice()));
    out.insert("number".into(), quantity(header.number));
    if let Some(root) = header.parent_beacon_block_root {
        out.insert("parentBeaconBlockRoot".into(), data(root.as_slice()));
    }
    out.insert("parentHash".into(), data(header.parent_hash.as_slice()));
    out.insert("receiptsRoot".into(), data(header.receipts_root.as_slice()));
    if let Some(requests) = header.requests_hash {
        out.insert("requestsHash".into(), data(requests.as_slice()));
    }
    if let Some(access) = header.block_access_list_hash {
        out.insert("blockAccessListHash".into(), data(access.as_slice()));
    }
    if let Some(slot) = header.slot_number {
        out.insert("slotNumber".into(), quantity(slot));
    }
    out.insert("sha3Uncles".into(), data(header.ommers_hash.as_slice()));
    out.insert("stateRoot".into(), data(header.state_root.as_slice()));
    out.insert("timestamp".into(), quantity(header.timestamp));
    out.insert(
        "transactionsRoot".into(),
        data(header.transactions_root.as_slice()),
    );
    if let Some(root) = header.withdrawals_root {
        out.insert("withdrawalsRoot".into(), data(root.as_slice()));
    }
    out
}

/// Where a transaction sits, for its JSON.
#[derive(Debug, Clone, Copy)]
pub struct TxContext {
    /// The block's hash.
    pub block_hash: B256,
    /// The block's number.
    pub block_number: u64,
    /// The block's timestamp, rendered as `blockTimestamp` when `Some`.
    pub block_timestamp: Option<u64>,
    /// Index in the block.
    pub index: u64,
    /// The block's base fee (effective gas price of dynamic-fee transactions).
    pub base_fee: Option<u64>,
}

/// A transaction that could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transaction {index}: {reason}")]
pub struct TxRenderError {
    /// Its index in the block.
    pub index: u64,
    /// Why.
    pub reason: String,
}

fn access_list_json(list: &alloy_eips::eip2930::AccessList) -> Value {
    Value::Array(
        list.iter()
            .map(|item| {
                json!({
                    "address": data(item.address.as_slice()),
                    "storageKeys": item.storage_keys.iter().map(|key| data(key.as_slice())).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The sender of an EIP-2718 transaction (the zero address for Bor's
/// state-sync type, which has no signature).
pub fn recover_sender(envelope: &[u8]) -> Result<Address, String> {
    if envelope.first() == Some(&STATE_SYNC_TX_TYPE) {
        return Ok(Address::ZERO);
    }
    let tx = TxEnvelope::decode_2718(&mut &envelope[..]).map_err(|error| error.to_string())?;
    let signing_hash = match &tx {
        TxEnvelope::Legacy(signed) => signed.signature_hash(),
        TxEnvelope::Eip2930(signed) => signed.signature_hash(),
        TxEnvelope::Eip1559(signed) => signed.signature_hash(),
        TxEnvelope::Eip4844(signed) => signed.signature_hash(),
        TxEnvelope::Eip7702(signed) => signed.signature_hash(),
    };
    crate::bor::recover_address(&signing_hash, tx.signature())
}

/// Renders one transaction (EIP-2718 bytes, with its hash as stored or
/// computed once) as `eth_getTransactionByHash` does.
pub fn transaction_json(
    envelope: &[u8],
    hash: &B256,
    sender: &Address,
    context: &TxContext,
) -> Result<Value, TxRenderError> {
    let fail = |reason: String| TxRenderError {
        index: context.index,
        reason,
    };
    let mut out = Map::new();
    out.insert("blockHash".into(), data(context.block_hash.as_slice()));
    out.insert("blockNumber".into(), quantity(context.block_number));
    if let Some(timestamp) = context.block_timestamp {
        out.insert("blockTimestamp".into(), quantity(timestamp));
    }
    out.insert("from".into(), data(sender.as_slice()));
    if envelope.first() == Some(&STATE_SYNC_TX_TYPE) {
        let events = decode_state_sync_tx(envelope).map_err(|error| fail(error.to_string()))?;
        // The state-sync type has no fees and no signature. Its events are
        // rendered as `stateSyncData` so that a client can rebuild the exact
        // bytes (this field's name is ours; Bor's own rendering of the type
        // is not confirmed).
        out.insert(
            "stateSyncData".into(),
            Value::Array(
                events
                    .iter()
                    .map(|event| {
                        json!({
                            "id": quantity(event.id),
                            "contract": data(event.contract.as_slice()),
                            "data": data(&event.data),
                            "txHash": data(event.tx_hash.as_slice()),
                        })
                    })
                    .collect(),
            ),
        );
        for (key, value) in [
            ("gas", quantity(0)),
            ("gasPrice", quantity(0)),
            ("hash", data(hash.as_slice())),
            ("input", data(&[])),
            ("nonce", quantity(0)),
            ("to", data(Address::ZERO.as_slice())),
            ("transactionIndex", quantity(context.index)),
            ("value", quantity(0)),
            ("type", quantity(u64::from(STATE_SYNC_TX_TYPE))),
            ("v", quantity(0)),
            ("r", quantity(0)),
            ("s", quantity(0)),
        ] {
            out.insert(key.into(), value);
        }
        return Ok(Value::Object(out));
    }
    let tx =
        TxEnvelope::decode_2718(&mut &envelope[..]).map_err(|error| fail(error.to_string()))?;
    let gas_price = match (tx.max_priority_fee_per_gas(), context.base_fee) {
        (Some(_), Some(base_fee)) => tx.effective_gas_price(Some(base_fee)),
        _ => tx.max_fee_per_gas(),
    };
    out.insert("gas".into(), quantity(tx.gas_limit()));
    out.insert("gasPrice".into(), Value::String(format!("{gas_price:#x}")));
    if let Some(tip) = tx.max_priority_fee_per_gas() {
        out.insert(
            "maxFeePerGas".into(),
            Value::String(format!("{:#x}", tx.max_fee_per_gas())),
        );
        out.insert(
            "maxPriorityFeePerGas".into(),
            Value::String(format!("{tip:#x}")),
        );
    }
    if let Some(blob_fee) = tx.max_fee_per_blob_gas() {
        out.insert(
            "maxFeePerBlobGas".into(),
            Value::String(format!("{blob_fee:#x}")),
        );
    }
    out.insert("hash".into(), data(hash.as_slice()));
    out.insert("input".into(), data(tx.input()));
    out.insert("nonce".into(), quantity(tx.nonce()));
    out.insert(
        "to".into(),
        tx.to().map_or(Value::Null, |to| data(to.as_slice())),
    );
    out.insert("transactionIndex".into(), quantity(context.index));
    out.insert("value".into(), quantity_u256(tx.value()));
    out.insert("type".into(), quantity(u64::from(u8::from(tx.tx_type()))));
    if let Some(list) = tx.access_list() {
        out.insert("accessList".into(), access_list_json(list));
    }
    let signature = tx.signature();
    let typed = !matches!(tx, TxEnvelope::Legacy(_));
    if let Some(chain_id) = tx.chain_id()
        && (typed || chain_id != 0)
    {
        out.insert("chainId".into(), quantity(chain_id));
    }
    if let Some(hashes) = tx.blob_versioned_hashes() {
        out.insert(
            "blobVersionedHashes".into(),
            Value::Array(hashes.iter().map(|hash| data(hash.as_slice())).collect()),
        );
    }
    if let Some(list) = tx.authorization_list() {
        out.insert(
            "authorizationList".into(),
            Value::Array(
                list.iter()
                    .map(|auth| {
                        json!({
                            "chainId": quantity_u256(auth.chain_id),
                            "address": data(auth.address.as_slice()),
                            "nonce": quantity(auth.nonce),
                            "yParity": quantity(u64::from(auth.y_parity())),
                            "r": quantity_u256(auth.r()),
                            "s": quantity_u256(auth.s()),
                        })
                    })
                    .collect(),
            ),
        );
    }
    let v = match &tx {
        TxEnvelope::Legacy(signed) => {
            let parity = u64::from(signature.v());
            match signed.tx().chain_id {
                Some(chain_id) => chain_id * 2 + 35 + parity,
                None => 27 + parity,
            }
        }
        _ => u64::from(signature.v()),
    };
    out.insert("v".into(), quantity(v));
    out.insert("r".into(), quantity_u256(signature.r()));
    out.insert("s".into(), quantity_u256(signature.s()));
    if typed {
        out.insert("yParity".into(), quantity(u64::from(signature.v())));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;

    #[test]
    fn quantities_and_data() {
        assert_eq!(quantity(0), json!("0x0"));
        assert_eq!(quantity(255), json!("0xff"));
        assert_eq!(data(&[0, 1, 0xab]), json!("0x0001ab"));
        assert_eq!(parse_u64("n", "0x1f").unwrap(), 31);
        assert!(parse_u64("n", "0x01").is_err());
        assert!(parse_u64("n", "12").is_err());
    }

    #[test]
    fn header_json_round_trips() {
        let header = Header {
            number: 9,
            difficulty: U256::from(5),
            base_fee_per_gas: Some(7),
            extra_data: Bytes::from_static(&[1, 2, 3]),
            ..Default::default()
        };
        let hash = header.hash_slow();
        let json = Value::Object(header_json(&header, &hash));
        assert_eq!(header_from_json(&json).unwrap(), header);
        assert_eq!(json["hash"], data(hash.as_slice()));
        let mut broken = json.clone();
        broken["gasUsed"] = Value::Null;
        assert_eq!(
            header_from_json(&broken).unwrap_err(),
            JsonShapeError::Missing("gasUsed")
        );
    }
}

/// Everything a receipt's JSON says, gathered by the caller.
#[derive(Debug, Clone)]
pub struct ReceiptView<'a> {
    /// The transaction's hash.
    pub tx_hash: B256,
    /// Its index in the block.
    pub tx_index: u64,
    /// The block.
    pub block_hash: B256,
    /// The block's number.
    pub block_number: u64,
    /// The block's timestamp, rendered as `blockTimestamp` when `Some`.
    pub block_timestamp: Option<u64>,
    /// The sender.
    pub from: Address,
    /// The recipient (`None` for a creation).
    pub to: Option<Address>,
    /// The created contract.
    pub contract_address: Option<Address>,
    /// The transaction type.
    pub tx_type: u8,
    /// Success (post-Byzantium status).
    pub status: bool,
    /// Cumulative gas used.
    pub cumulative_gas_used: u64,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Effective gas price.
    pub effective_gas_price: u128,
    /// The logs.
    pub logs: &'a [alloy_primitives::Log],
    /// The bloom.
    pub bloom: &'a Bloom,
    /// The block-wide index of the first log.
    pub first_log_index: u64,
}

/// Where Bor's derived state-sync receipt sits in its block.
#[derive(Debug, Clone, Copy)]
pub struct BorReceiptPlace {
    /// The derived transaction's hash (`bor_receipt_tx_hash`).
    pub tx_hash: B256,
    /// Its index: after the block's transactions.
    pub tx_index: u64,
    /// The block's hash.
    pub block_hash: B256,
    /// The block's number.
    pub block_number: u64,
    /// The block's timestamp, when the dialect shows it.
    pub block_timestamp: Option<u64>,
    /// Logs before it in the block.
    pub first_log_index: u64,
}

/// Bor's derived state-sync receipt as Bor shows it: zero sender and
/// recipient, no gas, status 1 (the one builder for it).
pub fn bor_receipt_json(
    place: &BorReceiptPlace,
    logs: &[alloy_primitives::Log],
    bloom: &Bloom,
) -> Value {
    receipt_json(&ReceiptView {
        tx_hash: place.tx_hash,
        tx_index: place.tx_index,
        block_hash: place.block_hash,
        block_number: place.block_number,
        block_timestamp: place.block_timestamp,
        from: Address::ZERO,
        to: Some(Address::ZERO),
        contract_address: None,
        tx_type: 0,
        status: true,
        cumulative_gas_used: 0,
        gas_used: 0,
        effective_gas_price: 0,
        logs,
        bloom,
        first_log_index: place.first_log_index,
    })
}

/// Renders one log as `eth_getLogs` and receipts do.
pub fn log_json(log: &alloy_primitives::Log, view: &ReceiptView<'_>, log_index: u64) -> Value {
    let mut out = Map::new();
    out.insert("address".into(), data(log.address.as_slice()));
    out.insert(
        "topics".into(),
        Value::Array(
            log.topics()
                .iter()
                .map(|topic| data(topic.as_slice()))
                .collect(),
        ),
    );
    out.insert("data".into(), data(&log.data.data));
    out.insert("blockNumber".into(), quantity(view.block_number));
    out.insert("transactionHash".into(), data(view.tx_hash.as_slice()));
    out.insert("transactionIndex".into(), quantity(view.tx_index));
    out.insert("blockHash".into(), data(view.block_hash.as_slice()));
    if let Some(timestamp) = view.block_timestamp {
        out.insert("blockTimestamp".into(), quantity(timestamp));
    }
    out.insert("logIndex".into(), quantity(log_index));
    out.insert("removed".into(), Value::Bool(false));
    Value::Object(out)
}

/// Renders a receipt as `eth_getTransactionReceipt` does.
pub fn receipt_json(view: &ReceiptView<'_>) -> Value {
    let logs: Vec<Value> = view
        .logs
        .iter()
        .enumerate()
        .map(|(offset, log)| log_json(log, view, view.first_log_index + offset as u64))
        .collect();
    let mut out = Map::new();
    out.insert("blockHash".into(), data(view.block_hash.as_slice()));
    out.insert("blockNumber".into(), quantity(view.block_number));
    out.insert(
        "contractAddress".into(),
        view.contract_address
            .map_or(Value::Null, |address| data(address.as_slice())),
    );
    out.insert(
        "cumulativeGasUsed".into(),
        quantity(view.cumulative_gas_used),
    );
    out.insert(
        "effectiveGasPrice".into(),
        Value::String(format!("{:#x}", view.effective_gas_price)),
    );
    out.insert("from".into(), data(view.from.as_slice()));
    out.insert("gasUsed".into(), quantity(view.gas_used));
    out.insert("logs".into(), Value::Array(logs));
    out.insert("logsBloom".into(), data(view.bloom.as_slice()));
    out.insert("status".into(), quantity(u64::from(view.status)));
    out.insert(
        "to".into(),
        view.to.map_or(Value::Null, |to| data(to.as_slice())),
    );
    out.insert("transactionHash".into(), data(view.tx_hash.as_slice()));
    out.insert("transactionIndex".into(), quantity(view.tx_index));
    out.insert("type".into(), quantity(u64::from(view.tx_type)));
    Value::Object(out)
}

/// The consensus encoding of a receipt (what the receipt trie and eth/68
/// hold): `type ‖ rlp([status or root, cumulativeGasUsed, logsBloom, logs])`,
/// the bare list for type 0. Covers Bor's 0x7F type, which alloy's
/// envelopes do not know.
pub fn encode_receipt(tx_type: u8, receipt: &alloy_consensus::ReceiptWithBloom) -> Vec<u8> {
    use alloy_rlp::Encodable;
    let mut out = Vec::with_capacity(receipt.length() + 1);
    if tx_type != 0 {
        out.push(tx_type);
    }
    receipt.encode(&mut out);
    out
}
