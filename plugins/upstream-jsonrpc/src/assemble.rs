//! Raw block parts rebuilt from an endpoint's JSON, byte for byte:
//! - the header from its fields, its keccak checked against the claimed `hash`;
//! - the body `[transactions, uncles]` from full transactions, each rebuilt
//!   as EIP-2718 bytes (Bor's 0x7F state-sync type from `stateSyncData`)
//!   and its keccak checked against its `hash`; Bor's appended "bor
//!   transaction" (hash derived from number and block hash) is not part of
//!   the body and is dropped;
//! - the receipts as consensus encodings, with the bor receipt taken out of
//!   the list into the state-sync part (type 0, cumulative gas 0).
//!
//! Roots are not checked here: that is the validation level's job.

use crate::error::UpstreamError;
use alloy_primitives::{B256, keccak256};
use alloy_rlp::Encodable;
use hypasis_plugin_sdk::api::{
    RawBlock,
    reexports::abi_stable::std_types::{ROption, RVec},
};
use hypasis_polygon::{
    roots::{encode_body_with_withdrawals, encode_envelopes},
    rpc_decode::{BlockJson, ReceiptJson, TransactionJson, TxHash, from_text},
    rpc_json::{encode_receipt, parse_b256},
    state_sync::bor_receipt_tx_hash,
};

/// RLP of an empty list: the uncles of every Bor block.
const EMPTY_LIST: [u8; 1] = [0xc0];

/// A header whose hash was recomputed and matched, with what the body and
/// receipts need from the block's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedHeader {
    /// The block number.
    pub number: u64,
    /// The hash, claimed and recomputed.
    pub hash: B256,
    /// The header's RLP.
    pub rlp: Vec<u8>,
    /// The hash Bor derives for this block's bor transaction and receipt.
    pub bor_tx_hash: B256,
    /// Hashes of the block's transactions, the bor transaction left out.
    pub tx_hashes: Vec<B256>,
    /// Whether the JSON lists the bor transaction.
    pub lists_bor_tx: bool,
}

fn bad(endpoint: &str, block: u64, reason: impl Into<String>) -> UpstreamError {
    UpstreamError::BadData {
        endpoint: endpoint.into(),
        block,
        reason: reason.into(),
    }
}

fn unsupported(endpoint: &str, block: u64, reason: impl Into<String>) -> UpstreamError {
    UpstreamError::Unsupported {
        endpoint: endpoint.into(),
        block,
        reason: reason.into(),
    }
}

/// A transaction entry of a block's JSON, a bare hash or a full object:
/// what the header check needs from it.
trait ClaimedHash {
    /// The hash the endpoint claims for the transaction.
    fn claimed_hash(&self) -> Option<&str>;
}

impl ClaimedHash for TxHash<'_> {
    fn claimed_hash(&self) -> Option<&str> {
        self.0
    }
}

impl ClaimedHash for TransactionJson<'_> {
    fn claimed_hash(&self) -> Option<&str> {
        self.hash
    }
}

/// A block whose header hash was checked, with its body when one was
/// asked for (every transaction's hash checked too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBlock {
    /// The checked header.
    pub header: CheckedHeader,
    /// The body's RLP, when fetched with full transactions.
    pub body: Option<Vec<u8>>,
}

/// Rebuilds block `expected`'s header from `block` (an
/// `eth_getBlockByNumber` result's text) and checks its hash; with `bodies`,
/// `block` holds full transactions and the body is rebuilt from the same
/// parse. The JSON is read once either way.
pub fn check_block(
    endpoint: &str,
    expected: u64,
    block: &str,
    bodies: bool,
) -> Result<CheckedBlock, UpstreamError> {
    if !bodies {
        let parsed: BlockJson<'_, TxHash<'_>> = from_text("block", block)
            .map_err(|error| bad(endpoint, expected, format!("header: {error}")))?;
        return check_hashes(endpoint, expected, &parsed);
    }
    let parsed: BlockJson<'_, TransactionJson<'_>> =
        from_text("block", block).map_err(|error| {
            bad(
                endpoint,
                expected,
                format!("the block is not a block with full transaction objects: {error}"),
            )
        })?;
    check_full(endpoint, expected, &parsed)
}

/// [`check_block`] of a block already parsed with transaction hashes only.
pub fn check_hashes(
    endpoint: &str,
    expected: u64,
    parsed: &BlockJson<'_, TxHash<'_>>,
) -> Result<CheckedBlock, UpstreamError> {
    let header = check_header(endpoint, expected, parsed)?;
    Ok(CheckedBlock { header, body: None })
}

/// [`check_block`] of a block already parsed with full transactions: the
/// header checked and the body rebuilt.
pub fn check_full(
    endpoint: &str,
    expected: u64,
    parsed: &BlockJson<'_, TransactionJson<'_>>,
) -> Result<CheckedBlock, UpstreamError> {
    let header = check_header(endpoint, expected, parsed)?;
    let body = body(endpoint, &header, parsed)?;
    Ok(CheckedBlock {
        header,
        body: Some(body),
    })
}

/// Rebuilds the header from a parsed block and checks its hash.
fn check_header<T: ClaimedHash>(
    endpoint: &str,
    expected: u64,
    parsed: &BlockJson<'_, T>,
) -> Result<CheckedHeader, UpstreamError> {
    let header = parsed
        .to_header()
        .map_err(|error| bad(endpoint, expected, format!("header: {error}")))?;
    if header.number != expected {
        return Err(bad(
            endpoint,
            expected,
            format!("asked for block {expected}, got block {}", header.number),
        ));
    }
    let claimed = parsed
        .hash
        .and_then(|text| parse_b256("hash", text).ok())
        .ok_or_else(|| bad(endpoint, expected, "field `hash` is missing or not a hash"))?;
    let mut rlp = Vec::with_capacity(header.length());
    header.encode(&mut rlp);
    let computed = keccak256(&rlp);
    if computed != claimed {
        return Err(bad(
            endpoint,
            expected,
            format!("claimed hash {claimed} but the header fields hash to {computed}"),
        ));
    }
    if parsed
        .uncles
        .as_ref()
        .is_some_and(|uncles| !uncles.is_empty())
    {
        return Err(unsupported(endpoint, expected, "blocks with uncles"));
    }
    let bor_tx_hash = bor_receipt_tx_hash(expected, &claimed);
    let transactions = parsed
        .transactions
        .as_ref()
        .ok_or_else(|| bad(endpoint, expected, "field `transactions` is missing"))?;
    let mut tx_hashes = Vec::with_capacity(transactions.len());
    let mut lists_bor_tx = false;
    for (index, tx) in transactions.iter().enumerate() {
        let hash = tx
            .claimed_hash()
            .and_then(|text| parse_b256("transactions", text).ok())
            .ok_or_else(|| {
                bad(
                    endpoint,
                    expected,
                    format!("transaction {index} has no hash"),
                )
            })?;
        if hash == bor_tx_hash {
            lists_bor_tx = true;
        } else {
            tx_hashes.push(hash);
        }
    }
    Ok(CheckedHeader {
        number: expected,
        hash: claimed,
        rlp,
        bor_tx_hash,
        tx_hashes,
        lists_bor_tx,
    })
}

/// The EIP-2718 bytes of one transaction's JSON.
fn transaction_bytes(
    endpoint: &str,
    block: u64,
    index: usize,
    tx: &TransactionJson<'_>,
) -> Result<Vec<u8>, UpstreamError> {
    match tx.envelope() {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(unknown)) => Err(unsupported(
            endpoint,
            block,
            format!("transaction {index}: {unknown}"),
        )),
        Err(error) => Err(bad(
            endpoint,
            block,
            format!("transaction {index}: {error}"),
        )),
    }
}

/// The body `[transactions, uncles]` from a block's full transactions,
/// each one's bytes hashed and checked against the hash the header check
/// took from the same entry.
fn body(
    endpoint: &str,
    header: &CheckedHeader,
    parsed: &BlockJson<'_, TransactionJson<'_>>,
) -> Result<Vec<u8>, UpstreamError> {
    let number = header.number;
    let transactions = parsed
        .transactions
        .as_ref()
        .ok_or_else(|| bad(endpoint, number, "field `transactions` is missing"))?;
    let mut envelopes = Vec::with_capacity(header.tx_hashes.len());
    for (index, tx) in transactions.iter().enumerate() {
        // The header check parsed every entry's hash already.
        let claimed = tx
            .hash
            .and_then(|text| parse_b256("hash", text).ok())
            .ok_or_else(|| bad(endpoint, number, format!("transaction {index} has no hash")))?;
        if claimed == header.bor_tx_hash {
            // Bor's derived transaction for the bor receipt: not in the body.
            continue;
        }
        let bytes = transaction_bytes(endpoint, number, index, tx)?;
        let computed = keccak256(&bytes);
        if computed != claimed {
            return Err(bad(
                endpoint,
                number,
                format!(
                    "transaction {index}: claimed hash {claimed} but its fields hash to {computed}"
                ),
            ));
        }
        envelopes.push(bytes);
    }
    let withdrawals = parsed
        .withdrawals_rlp()
        .map_err(|error| bad(endpoint, number, format!("withdrawals: {error}")))?;
    Ok(encode_body_with_withdrawals(
        &envelopes,
        &EMPTY_LIST,
        withdrawals.as_deref(),
    ))
}

/// The receipt list's RLP and, when the block has one, Bor's state-sync
/// receipt, from an `eth_getBlockReceipts` result.
pub fn receipts(
    endpoint: &str,
    header: &CheckedHeader,
    receipts: &str,
) -> Result<(Vec<u8>, Option<Vec<u8>>), UpstreamError> {
    let list: Vec<ReceiptJson<'_>> = from_text("receipts", receipts).map_err(|error| {
        bad(
            endpoint,
            header.number,
            format!("receipts are not a list of receipts: {error}"),
        )
    })?;
    receipts_of(endpoint, header, &list)
}

/// [`receipts`] of a list already parsed.
pub fn receipts_of(
    endpoint: &str,
    header: &CheckedHeader,
    list: &[ReceiptJson<'_>],
) -> Result<(Vec<u8>, Option<Vec<u8>>), UpstreamError> {
    let number = header.number;
    let mut envelopes = Vec::with_capacity(list.len());
    let mut state_sync = None;
    for (index, receipt) in list.iter().enumerate() {
        let tx_hash = receipt
            .transaction_hash
            .and_then(|text| parse_b256("transactionHash", text).ok())
            .ok_or_else(|| {
                bad(
                    endpoint,
                    number,
                    format!("receipt {index} has no transactionHash"),
                )
            })?;
        if let Some(block_hash) = receipt
            .block_hash
            .and_then(|text| parse_b256("blockHash", text).ok())
            && block_hash != header.hash
        {
            return Err(bad(
                endpoint,
                number,
                format!("receipt {index} is of block {block_hash}"),
            ));
        }
        let (tx_type, mut parsed) = receipt
            .to_receipt()
            .map_err(|error| bad(endpoint, number, format!("receipt {index}: {error}")))?;
        if tx_hash == header.bor_tx_hash {
            parsed.receipt.cumulative_gas_used = 0;
            state_sync = Some(encode_receipt(0, &parsed));
            continue;
        }
        let position = envelopes.len();
        match header.tx_hashes.get(position) {
            Some(expected) if *expected == tx_hash => {}
            _ => {
                return Err(bad(
                    endpoint,
                    number,
                    format!(
                        "receipt {index} is for transaction {tx_hash}, not the block's transaction {position}"
                    ),
                ));
            }
        }
        envelopes.push(encode_receipt(tx_type, &parsed));
    }
    if envelopes.len() != header.tx_hashes.len() {
        return Err(bad(
            endpoint,
            number,
            format!(
                "{} receipts for {} transactions",
                envelopes.len(),
                header.tx_hashes.len()
            ),
        ));
    }
    if header.lists_bor_tx && state_sync.is_none() {
        return Err(bad(
            endpoint,
            number,
            "the block lists a bor transaction but no bor receipt",
        ));
    }
    Ok((encode_envelopes(&envelopes), state_sync))
}

/// A whole [`RawBlock`] from a checked block and, when given, its receipts.
pub fn assemble(
    endpoint: &str,
    checked: CheckedBlock,
    receipts_json: Option<&str>,
) -> Result<RawBlock, UpstreamError> {
    let CheckedBlock { header, body } = checked;
    let receipts = match receipts_json {
        Some(json) => Some(receipts(endpoint, &header, json)?),
        None => None,
    };
    Ok(raw_block(header, body, receipts))
}

/// A whole [`RawBlock`] from its checked parts: the header, the body when
/// fetched, and the receipt list with the state-sync receipt when fetched.
pub fn raw_block(
    header: CheckedHeader,
    body: Option<Vec<u8>>,
    receipts: Option<(Vec<u8>, Option<Vec<u8>>)>,
) -> RawBlock {
    let (receipts, state_sync) = match receipts {
        Some((list, state_sync)) => (Some(list), state_sync),
        None => (None, None),
    };
    // Every transaction of the body was hashed and checked: hand the
    // hashes on so that the host need not hash them again.
    let tx_hashes = if body.is_some() {
        header.tx_hashes.iter().map(|hash| hash.0).collect()
    } else {
        RVec::new()
    };
    RawBlock {
        number: header.number,
        hash: header.hash.0,
        header: RVec::from(header.rlp),
        body: ROption::from(body.map(RVec::from)),
        receipts: ROption::from(receipts.map(RVec::from)),
        state_sync: ROption::from(state_sync.map(RVec::from)),
        tx_hashes,
        senders: RVec::new(),
        ext: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::Header;
    use alloy_eips::eip2718::Encodable2718;
    use hypasis_polygon::{
        roots::{body_transactions, encode_body},
        rpc_json::{data, header_json},
    };
    use serde_json::{Value, json, value::RawValue};

    fn block_json(header: &Header) -> Value {
        let mut json = Value::Object(header_json(header, &header.hash_slow()));
        json["transactions"] = json!([]);
        json["uncles"] = json!([]);
        json
    }

    fn raw(json: &Value) -> Box<RawValue> {
        RawValue::from_string(json.to_string()).unwrap()
    }

    fn assemble_json(
        expected: u64,
        json: &Value,
        receipts: Option<&Value>,
        bodies: bool,
    ) -> Result<RawBlock, UpstreamError> {
        let block = raw(json);
        let receipts = receipts.map(raw);
        let checked = check_block("e", expected, block.get(), bodies)?;
        assemble("e", checked, receipts.as_ref().map(|raw| raw.get()))
    }

    #[test]
    fn header_hash_is_checked_and_empty_block_assembles() {
        let header = Header {
            number: 5,
            ..Default::default()
        };
        let json = block_json(&header);
        let block = assemble_json(5, &json, Some(&json!([])), true).unwrap();
        assert_eq!(block.hash, header.hash_slow().0);
        assert_eq!(block.body.unwrap().as_slice(), &[0xc2, 0xc0, 0xc0]);
        assert_eq!(block.receipts.unwrap().as_slice(), &[0xc0]);
        assert!(block.state_sync.is_none());

        let mut lie = json.clone();
        lie["gasUsed"] = json!("0x1");
        let error = assemble_json(5, &lie, None, false).unwrap_err();
        assert!(
            matches!(error, UpstreamError::BadData { block: 5, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("e: block 5: bad data: claimed hash")
        );

        assert!(matches!(
            assemble_json(6, &json, None, false).unwrap_err(),
            UpstreamError::BadData { block: 6, .. }
        ));
        let mut uncles = json.clone();
        uncles["uncles"] = json!(["0x00"]);
        assert!(matches!(
            assemble_json(5, &uncles, None, false).unwrap_err(),
            UpstreamError::Unsupported { .. }
        ));
        // Receipts for transactions the block does not have.
        let receipt = json!([{"transactionHash": format!("0x{}", "11".repeat(32)), "status": "0x1",
            "cumulativeGasUsed": "0x0", "logsBloom": format!("0x{}", "00".repeat(256)), "logs": []}]);
        assert!(matches!(
            assemble_json(5, &json, Some(&receipt), false).unwrap_err(),
            UpstreamError::BadData { .. }
        ));
    }

    #[test]
    fn withdrawals_become_the_bodys_third_list() {
        use alloy_eips::eip4895::Withdrawal;
        let withdrawal = Withdrawal {
            index: 7,
            validator_index: 9,
            address: alloy_primitives::Address::repeat_byte(0x42),
            amount: 1_000,
        };
        for list in [vec![], vec![withdrawal]] {
            let header = Header {
                number: 5,
                // Any root: checking it is validation's work, not assembly's.
                withdrawals_root: Some(alloy_primitives::B256::repeat_byte(1)),
                ..Default::default()
            };
            let mut json = block_json(&header);
            json["withdrawals"] = json!(
                list.iter()
                    .map(|w| json!({
                        "index": format!("{:#x}", w.index),
                        "validatorIndex": format!("{:#x}", w.validator_index),
                        "address": format!("{:#x}", w.address),
                        "amount": format!("{:#x}", w.amount),
                    }))
                    .collect::<Vec<_>>()
            );
            let block = assemble_json(5, &json, Some(&json!([])), true).unwrap();
            let encoded = alloy_rlp::encode(&list);
            let mut expected = vec![0xc0 + 2 + encoded.len() as u8, 0xc0, 0xc0];
            expected.extend_from_slice(&encoded);
            assert_eq!(block.body.unwrap(), expected);

            // A root with no list to match it is bad data, not an empty list.
            let mut missing = json.clone();
            missing.as_object_mut().unwrap().remove("withdrawals");
            assert!(matches!(
                assemble_json(5, &missing, Some(&json!([])), true).unwrap_err(),
                UpstreamError::BadData { block: 5, .. }
            ));
        }
    }

    #[test]
    fn transactions_are_rebuilt_and_their_hashes_checked() {
        use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
        use alloy_primitives::{Address, Signature, TxKind, U256};
        use hypasis_polygon::rpc_json::{TxContext, transaction_json};

        let tx = TxEip1559 {
            chain_id: 137,
            nonce: 3,
            gas_limit: 21_000,
            max_fee_per_gas: 50,
            max_priority_fee_per_gas: 2,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(1_000),
            ..Default::default()
        };
        let signed = tx.into_signed(Signature::new(U256::from(1), U256::from(2), false));
        let envelope = TxEnvelope::from(signed).encoded_2718();
        let header = Header {
            number: 9,
            base_fee_per_gas: Some(10),
            ..Default::default()
        };
        let hash = header.hash_slow();
        let context = TxContext {
            block_hash: hash,
            block_number: 9,
            block_timestamp: None,
            index: 0,
            base_fee: Some(10),
        };
        let tx_json = transaction_json(
            &envelope,
            &alloy_primitives::keccak256(&envelope),
            &Address::repeat_byte(1),
            &context,
        )
        .unwrap();
        let mut json = block_json(&header);
        json["transactions"] = json!([tx_json.clone()]);
        let block = assemble_json(9, &json, None, true).unwrap();
        assert_eq!(
            block.body.unwrap().as_slice(),
            encode_body(&[envelope.as_slice()], &EMPTY_LIST)
        );
        // The checked hashes travel with the body; without a body, none.
        assert_eq!(block.tx_hashes.as_slice(), &[keccak256(&envelope).0]);
        let mut hashes_only = json.clone();
        hashes_only["transactions"] = json!([data(keccak256(&envelope).as_slice())]);
        assert!(
            assemble_json(9, &hashes_only, None, false)
                .unwrap()
                .tx_hashes
                .is_empty()
        );
        // Bor's derived transaction is left out of the body.
        let bor = json!({"hash": data(bor_receipt_tx_hash(9, &hash).as_slice()), "type": "0x0"});
        json["transactions"] = json!([tx_json.clone(), bor]);
        let block = assemble_json(9, &json, None, true).unwrap();
        assert_eq!(body_transactions(&block.body.unwrap()).unwrap().len(), 1);
        // A field changed without its hash: bad data naming the transaction.
        let mut lie = tx_json;
        lie["value"] = json!("0x3e9");
        json["transactions"] = json!([lie]);
        let error = assemble_json(9, &json, None, true).unwrap_err();
        assert!(
            error.to_string().contains("transaction 0: claimed hash"),
            "{error}"
        );
        // Hashes only where full transactions are needed.
        json["transactions"] = json!([data(&[0x11; 32])]);
        assert!(assemble_json(9, &json, None, true).is_err());
    }
}
