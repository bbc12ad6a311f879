//! The devnet's blocks, transactions and receipts as Bor's JSON-RPC shows
//! them, including Bor's pre-Madhugiri state-sync extras: the derived
//! transaction appended to `transactions` and the bor receipt appended to
//! `eth_getBlockReceipts`.

use alloy_primitives::Address;
use hypasis_polygon::rpc_json::{
    BorReceiptPlace, ReceiptView, TxContext, bor_receipt_json, data, header_json, quantity,
    quantity_u256, receipt_json, transaction_json,
};
use serde_json::{Map, Value, json};

use crate::block::DevBlock;

fn context(block: &DevBlock, index: usize) -> TxContext {
    TxContext {
        block_hash: block.hash,
        block_number: block.number(),
        block_timestamp: None,
        index: index as u64,
        base_fee: block.header.base_fee_per_gas,
    }
}

/// Bor's fake transaction for a bor receipt: a zeroed legacy transaction
/// whose hash is the derived one.
fn bor_transaction_json(block: &DevBlock) -> Option<Value> {
    let bor = block.bor_receipt.as_ref()?;
    Some(json!({
        "blockHash": data(block.hash.as_slice()),
        "blockNumber": quantity(block.number()),
        "from": data(Address::ZERO.as_slice()),
        "gas": quantity(0),
        "gasPrice": quantity(0),
        "hash": data(bor.tx_hash.as_slice()),
        "input": "0x",
        "nonce": quantity(0),
        "to": data(Address::ZERO.as_slice()),
        "transactionIndex": quantity(block.txs.len() as u64),
        "value": quantity(0),
        "type": quantity(0),
        "v": quantity(0),
        "r": quantity(0),
        "s": quantity(0),
    }))
}

/// One transaction's JSON (`index == txs.len()` is the bor transaction).
pub fn transaction(block: &DevBlock, index: usize) -> Option<Value> {
    if index == block.txs.len() {
        return bor_transaction_json(block);
    }
    let tx = block.txs.get(index)?;
    transaction_json(&tx.envelope, &tx.hash, &tx.sender, &context(block, index)).ok()
}

/// A block's JSON, with transaction hashes or full transactions.
pub fn block(block: &DevBlock, full: bool) -> Value {
    let mut out: Map<String, Value> = header_json(&block.header, &block.hash);
    let mut transactions: Vec<Value> = if full {
        (0..block.txs.len())
            .filter_map(|index| transaction(block, index))
            .collect()
    } else {
        block
            .txs
            .iter()
            .map(|tx| data(tx.hash.as_slice()))
            .collect()
    };
    if let Some(bor) = &block.bor_receipt {
        transactions.push(if full {
            bor_transaction_json(block).unwrap_or(Value::Null)
        } else {
            data(bor.tx_hash.as_slice())
        });
    }
    out.insert("size".into(), quantity(block.size));
    out.insert(
        "totalDifficulty".into(),
        quantity_u256(block.total_difficulty),
    );
    out.insert("transactions".into(), Value::Array(transactions));
    out.insert("uncles".into(), Value::Array(Vec::new()));
    Value::Object(out)
}

fn first_log_index(block: &DevBlock, index: usize) -> u64 {
    block.receipts[..index.min(block.receipts.len())]
        .iter()
        .map(|receipt| receipt.logs.len() as u64)
        .sum()
}

/// One receipt's JSON (`index == txs.len()` is the bor receipt).
pub fn receipt(block: &DevBlock, index: usize) -> Option<Value> {
    if index == block.txs.len() {
        let bor = block.bor_receipt.as_ref()?;
        let place = BorReceiptPlace {
            tx_hash: bor.tx_hash,
            tx_index: index as u64,
            block_hash: block.hash,
            block_number: block.number(),
            block_timestamp: None,
            first_log_index: first_log_index(block, index),
        };
        return Some(bor_receipt_json(&place, &bor.logs, &bor.bloom));
    }
    let tx = block.txs.get(index)?;
    let receipt = block.receipts.get(index)?;
    let view = ReceiptView {
        tx_hash: tx.hash,
        tx_index: index as u64,
        block_hash: block.hash,
        block_number: block.number(),
        block_timestamp: None,
        from: tx.sender,
        to: tx.to,
        contract_address: tx.contract_address,
        tx_type: receipt.tx_type,
        status: receipt.status,
        cumulative_gas_used: receipt.cumulative_gas_used,
        gas_used: receipt.gas_used,
        effective_gas_price: receipt.effective_gas_price,
        logs: &receipt.logs,
        bloom: &receipt.bloom,
        first_log_index: first_log_index(block, index),
    };
    Some(receipt_json(&view))
}

/// All of a block's receipts, the bor receipt last when it has one.
pub fn receipts(block: &DevBlock) -> Value {
    let count = block.txs.len() + usize::from(block.bor_receipt.is_some());
    Value::Array(
        (0..count)
            .filter_map(|index| receipt(block, index))
            .collect(),
    )
}

/// `newHeads` subscription payload: the header fields.
pub fn new_head(block: &DevBlock) -> Value {
    let mut out = header_json(&block.header, &block.hash);
    out.insert(
        "totalDifficulty".into(),
        quantity_u256(block.total_difficulty),
    );
    Value::Object(out)
}
