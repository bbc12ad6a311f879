//! Transaction and receipt roots straight from raw RLP, without decoding
//! the transactions: each list item is already the EIP-2718 encoding that
//! the trie stores (a legacy item is its RLP list, a typed item is a string
//! holding `type ‖ payload`). This also covers Bor's 0x7F state-sync type.

use alloy_primitives::{B256, keccak256};
use alloy_rlp::Header as RlpHeader;

use crate::block::BlockDecodeError;

fn malformed(part: &'static str, reason: impl Into<String>) -> BlockDecodeError {
    BlockDecodeError::Rlp {
        part,
        reason: reason.into(),
    }
}

/// Splits an RLP list into the EIP-2718 encodings of its items.
pub fn envelope_items<'a>(
    part: &'static str,
    list: &'a [u8],
) -> Result<Vec<&'a [u8]>, BlockDecodeError> {
    let mut cursor = list;
    let header =
        RlpHeader::decode(&mut cursor).map_err(|error| malformed(part, error.to_string()))?;
    if !header.list {
        return Err(malformed(part, "expected a list"));
    }
    if cursor.len() != header.payload_length {
        return Err(BlockDecodeError::Trailing {
            part,
            extra: cursor.len().saturating_sub(header.payload_length),
        });
    }
    let mut items = Vec::new();
    while !cursor.is_empty() {
        let start = cursor;
        let item =
            RlpHeader::decode(&mut cursor).map_err(|error| malformed(part, error.to_string()))?;
        if cursor.len() < item.payload_length {
            return Err(malformed(part, "item runs past the end of the list"));
        }
        let header_len = start.len() - cursor.len();
        if item.list {
            items.push(&start[..header_len + item.payload_length]);
        } else {
            if item.payload_length == 0 {
                return Err(malformed(part, "empty typed envelope"));
            }
            items.push(&cursor[..item.payload_length]);
        }
        cursor = &cursor[item.payload_length..];
    }
    Ok(items)
}

/// The transactions of a body `[transactions, uncles, ...]`, as EIP-2718 bytes.
pub fn body_transactions(body: &[u8]) -> Result<Vec<&[u8]>, BlockDecodeError> {
    let mut cursor = body;
    let header =
        RlpHeader::decode(&mut cursor).map_err(|error| malformed("body", error.to_string()))?;
    if !header.list {
        return Err(malformed("body", "expected a list"));
    }
    let start = cursor;
    let first =
        RlpHeader::decode(&mut cursor).map_err(|error| malformed("body", error.to_string()))?;
    if !first.list {
        return Err(malformed("body", "transactions are not a list"));
    }
    let length = start.len() - cursor.len() + first.payload_length;
    if length > start.len() {
        return Err(malformed("body", "transaction list runs past the end"));
    }
    envelope_items("body", &start[..length])
}

/// The uncle list of a body, as raw RLP (`0xc0` when empty).
pub fn body_uncles(body: &[u8]) -> Result<&[u8], BlockDecodeError> {
    let mut cursor = body;
    RlpHeader::decode(&mut cursor).map_err(|error| malformed("body", error.to_string()))?;
    let transactions =
        RlpHeader::decode(&mut cursor).map_err(|error| malformed("body", error.to_string()))?;
    cursor = cursor
        .get(transactions.payload_length..)
        .ok_or_else(|| malformed("body", "truncated"))?;
    let start = cursor;
    let uncles =
        RlpHeader::decode(&mut cursor).map_err(|error| malformed("body", error.to_string()))?;
    let length = start.len() - cursor.len() + uncles.payload_length;
    start
        .get(..length)
        .ok_or_else(|| malformed("body", "truncated uncle list"))
}

/// Encodes EIP-2718 items as the RLP list a body or receipt list holds:
/// legacy items (RLP lists) as they are, typed items as RLP strings.
pub fn encode_envelopes<T: AsRef<[u8]>>(items: &[T]) -> Vec<u8> {
    let payload_length: usize = items
        .iter()
        .map(|item| envelope_item_length(item.as_ref()))
        .sum();
    let mut out = Vec::with_capacity(payload_length + 5);
    RlpHeader {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for item in items {
        let item = item.as_ref();
        if item.first().is_some_and(|first| *first >= 0xc0) {
            out.extend_from_slice(item);
        } else {
            RlpHeader {
                list: false,
                payload_length: item.len(),
            }
            .encode(&mut out);
            out.extend_from_slice(item);
        }
    }
    out
}

fn envelope_item_length(item: &[u8]) -> usize {
    if item.first().is_some_and(|first| *first >= 0xc0) {
        item.len()
    } else {
        alloy_rlp::length_of_length(item.len()) + item.len()
    }
}

/// Encodes a body `[transactions, uncles]` from EIP-2718 transactions and
/// the raw RLP uncle list.
pub fn encode_body<T: AsRef<[u8]>>(transactions: &[T], uncles: &[u8]) -> Vec<u8> {
    encode_body_with_withdrawals(transactions, uncles, None)
}

/// [`encode_body`] with the withdrawals list (RLP) as the third element,
/// when the block has one (after Shanghai).
pub fn encode_body_with_withdrawals<T: AsRef<[u8]>>(
    transactions: &[T],
    uncles: &[u8],
    withdrawals: Option<&[u8]>,
) -> Vec<u8> {
    let list = encode_envelopes(transactions);
    let withdrawals = withdrawals.unwrap_or_default();
    let mut out = Vec::with_capacity(list.len() + uncles.len() + withdrawals.len() + 5);
    RlpHeader {
        list: true,
        payload_length: list.len() + uncles.len() + withdrawals.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&list);
    out.extend_from_slice(uncles);
    out.extend_from_slice(withdrawals);
    out
}

/// The trie root of EIP-2718 encoded items (transactions or receipts).
pub fn ordered_root(items: &[&[u8]]) -> B256 {
    alloy_trie::root::ordered_trie_root_encoded(items)
}

/// The hash of an EIP-2718 encoded transaction.
pub fn transaction_hash(envelope: &[u8]) -> B256 {
    keccak256(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{
        Receipt, ReceiptEnvelope, ReceiptWithBloom, Signed, TxEip1559, TxEnvelope, TxLegacy,
        proofs::{calculate_receipt_root, calculate_transaction_root},
    };
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{Signature, TxKind, U256};

    fn transactions() -> Vec<TxEnvelope> {
        let signature = Signature::new(U256::from(1), U256::from(2), false);
        let legacy = TxLegacy {
            nonce: 1,
            gas_limit: 21_000,
            to: TxKind::Call([1; 20].into()),
            ..Default::default()
        };
        let dynamic = TxEip1559 {
            nonce: 2,
            gas_limit: 50_000,
            chain_id: 137,
            ..Default::default()
        };
        vec![
            TxEnvelope::Legacy(Signed::new_unchecked(legacy, signature, B256::ZERO)),
            TxEnvelope::Eip1559(Signed::new_unchecked(dynamic, signature, B256::ZERO)),
        ]
    }

    #[test]
    fn roots_from_raw_bytes_match_alloy() {
        let txs = transactions();
        // A body is [[tx...], []]; typed transactions sit in it as strings.
        let mut tx_list = Vec::new();
        alloy_rlp::encode_list::<_, TxEnvelope>(&txs, &mut tx_list);
        let mut body = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: tx_list.len() + 1,
        }
        .encode(&mut body);
        body.extend_from_slice(&tx_list);
        body.push(0xc0);
        let items = body_transactions(&body).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(encode_body(&items, &[0xc0]), body);
        assert_eq!(items[1][0], 0x02);
        assert_eq!(ordered_root(&items), calculate_transaction_root(&txs));
        assert_eq!(transaction_hash(items[1]), keccak256(txs[1].encoded_2718()));
        assert_eq!(body_uncles(&body).unwrap(), &[0xc0]);

        let receipts: Vec<ReceiptEnvelope> = vec![
            ReceiptEnvelope::Legacy(ReceiptWithBloom::from(Receipt {
                status: true.into(),
                cumulative_gas_used: 21_000,
                logs: vec![],
            })),
            ReceiptEnvelope::Eip1559(ReceiptWithBloom::from(Receipt {
                status: true.into(),
                cumulative_gas_used: 71_000,
                logs: vec![],
            })),
        ];
        let mut list = Vec::new();
        alloy_rlp::encode_list::<_, ReceiptEnvelope>(&receipts, &mut list);
        let items = envelope_items("receipts", &list).unwrap();
        assert_eq!(ordered_root(&items), calculate_receipt_root(&receipts));
        assert_eq!(encode_envelopes(&items), list);
    }
}
