//! The eth/68 → eth/69 receipt conversion on stored bytes: a typed, a
//! legacy and a post-Madhugiri 0x7F receipt, Bor's appended state-sync
//! receipt, real pre-Byzantium receipts, and refusals of bad stored data.

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use hypasis_eth_wire::{
    EthMessage, EthVersion, RawRlp, Receipt69, ReceiptError, ReceiptPosition, Receipts,
    RequestPair, decode_block_receipts_69, encode_raw_response, receipts_68_to_69,
};

/// `[status, cumulativeGas, bloom, logs]`, the consensus receipt body.
#[derive(Debug, Clone, RlpEncodable, RlpDecodable)]
struct ConsensusReceipt {
    status: Bytes,
    cumulative_gas_used: u64,
    bloom: Bloom,
    logs: Vec<Log>,
}

fn log(byte: u8) -> Log {
    Log {
        address: Address::repeat_byte(byte),
        data: LogData::new_unchecked(vec![B256::repeat_byte(byte)], Bytes::from(vec![byte; 3])),
    }
}

fn receipt(status: u8, gas: u64, logs: Vec<Log>) -> ConsensusReceipt {
    ConsensusReceipt {
        status: if status == 1 {
            Bytes::from(vec![1])
        } else {
            Bytes::new()
        },
        cumulative_gas_used: gas,
        bloom: Bloom::repeat_byte(0x5a),
        logs,
    }
}

/// The consensus encoding as the store keeps it in a block's list: the
/// bare list for type 0, an RLP string `type ‖ rlp(receipt)` otherwise.
fn stored(tx_type: u8, receipt: &ConsensusReceipt) -> Vec<u8> {
    if tx_type == 0 {
        return alloy_rlp::encode(receipt);
    }
    envelope(tx_type, receipt)
}

/// The RLP string `type ‖ rlp(receipt)`, whatever the type byte.
fn envelope(tx_type: u8, receipt: &ConsensusReceipt) -> Vec<u8> {
    let inner = alloy_rlp::encode(receipt);
    let mut envelope = vec![tx_type];
    envelope.extend(inner);
    let mut out = Vec::new();
    envelope.as_slice().encode(&mut out);
    out
}

fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: usize = items.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: payload,
    }
    .encode(&mut out);
    for item in items {
        out.extend(item);
    }
    out
}

fn as_69(tx_type: u8, receipt: &ConsensusReceipt) -> Receipt69 {
    Receipt69 {
        tx_type,
        status: receipt.status.clone(),
        cumulative_gas_used: receipt.cumulative_gas_used,
        logs: receipt.logs.clone(),
    }
}

#[test]
fn typed_legacy_and_state_sync_receipts() {
    let typed = receipt(1, 21_000, vec![log(1), log(2)]);
    let legacy = receipt(0, 63_000, vec![]);
    let bor_tx = receipt(1, 90_000, vec![log(3)]);
    let block = list(&[stored(2, &typed), stored(0, &legacy), stored(0x7f, &bor_tx)]);

    let converted = receipts_68_to_69(&block, None).unwrap();
    let want = vec![as_69(2, &typed), as_69(0, &legacy), as_69(0x7f, &bor_tx)];
    assert_eq!(decode_block_receipts_69(&converted).unwrap(), want);
    assert_eq!(converted, alloy_rlp::encode(&want));

    // Bor's state-sync receipt: stored as [status, 0, bloom, logs], sent last as [0, 1, 0, logs].
    let state_sync = receipt(1, 0, vec![log(4)]);
    let state_sync_stored = stored(0, &state_sync);
    let converted = receipts_68_to_69(&block, Some(&state_sync_stored)).unwrap();
    let mut want_with = want.clone();
    want_with.push(as_69(0, &state_sync));
    assert_eq!(decode_block_receipts_69(&converted).unwrap(), want_with);
    let last = alloy_rlp::encode(&want_with[3]);
    assert!(converted.ends_with(&last));
    // [0x80 (type 0), 0x01 (status), 0x80 (gas 0), logs]
    assert_eq!(&last[2..5], &[0x80, 0x01, 0x80]);
}

#[test]
fn exact_bytes_of_small_receipts() {
    // Legacy, status 1, gas 0x5208, no logs: [1, 0x5208, bloom, []] → [0x80, 0x01, 0x825208, 0xc0].
    let legacy = stored(0, &receipt(1, 0x5208, vec![]));
    assert_eq!(
        receipts_68_to_69(&list(&[legacy]), None).unwrap(),
        [0xc7, 0xc6, 0x80, 0x01, 0x82, 0x52, 0x08, 0xc0]
    );
    // Type 2, failed (empty status): [0x02, 0x80, 0x825208, 0xc0].
    let typed = stored(2, &receipt(0, 0x5208, vec![]));
    assert_eq!(
        receipts_68_to_69(&list(&[typed]), None).unwrap(),
        [0xc7, 0xc6, 0x02, 0x80, 0x82, 0x52, 0x08, 0xc0]
    );
    // An empty block, with and without a state-sync receipt.
    assert_eq!(receipts_68_to_69(&[0xc0], None).unwrap(), [0xc0]);
    let state_sync = stored(0, &receipt(1, 0, vec![]));
    assert_eq!(
        receipts_68_to_69(&[0xc0], Some(&state_sync)).unwrap(),
        [0xc5, 0xc4, 0x80, 0x01, 0x80, 0xc0]
    );
}

#[test]
fn converted_block_travels_in_an_eth69_receipts_message() {
    let block = list(&[stored(2, &receipt(1, 21_000, vec![log(9)]))]);
    let converted = receipts_68_to_69(&block, None).unwrap();
    let payload = encode_raw_response(42, &[converted.as_slice(), &[0xc0]]);
    let message = EthMessage::decode(EthVersion::Eth69, 0x10, &payload).unwrap();
    let want = EthMessage::Receipts(RequestPair::new(
        42,
        Receipts(vec![
            RawRlp::new(converted).unwrap(),
            RawRlp::new(vec![0xc0]).unwrap(),
        ]),
    ));
    assert_eq!(message, want);
    assert_eq!(message.encoded(), payload);
}

#[test]
fn real_pre_byzantium_receipts_keep_their_post_state() {
    // debug_getRawReceipts of block 3 of the execution-apis test chain:
    // legacy receipts whose first field is a 32-byte post-state root.
    let path = format!(
        "{}/../../testdata/execution-apis/debug_getRawReceipts/get-block-n.io",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let response = text
        .lines()
        .find_map(|line| line.strip_prefix("<< "))
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(response).unwrap();
    let receipts: Vec<Vec<u8>> = json["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| hex::decode(item.as_str().unwrap().trim_start_matches("0x")).unwrap())
        .collect();
    assert!(!receipts.is_empty());
    let converted = receipts_68_to_69(&list(&receipts), None).unwrap();
    let decoded = decode_block_receipts_69(&converted).unwrap();
    assert_eq!(decoded.len(), receipts.len());
    let mut previous_gas = 0;
    for (receipt, raw) in decoded.iter().zip(&receipts) {
        let original: ConsensusReceipt = alloy_rlp::decode_exact(raw).unwrap();
        assert_eq!(receipt, &as_69(0, &original));
        assert_eq!(receipt.status.len(), 32);
        assert!(receipt.cumulative_gas_used > previous_gas);
        previous_gas = receipt.cumulative_gas_used;
    }
    assert!(decoded.iter().any(|receipt| !receipt.logs.is_empty()));
}

#[test]
fn bad_stored_receipts_are_refused() {
    let good = stored(0, &receipt(1, 1, vec![]));
    let cases: Vec<(Vec<u8>, Option<Vec<u8>>, ReceiptError)> = vec![
        (
            vec![0x80],
            None,
            ReceiptError::NotAList {
                source: alloy_rlp::Error::UnexpectedString,
            },
        ),
        (
            [list(std::slice::from_ref(&good)), vec![0x00]].concat(),
            None,
            ReceiptError::TrailingBytes { extra: 1 },
        ),
        // Type byte 0 and 0x80 are not EIP-2718 types; an envelope of one byte is too short.
        (
            list(&[envelope(0, &receipt(1, 1, vec![]))]),
            None,
            ReceiptError::BadEnvelope {
                position: ReceiptPosition::Index(0),
            },
        ),
        (
            list(&[good.clone(), envelope(0x80, &receipt(1, 1, vec![]))]),
            None,
            ReceiptError::BadEnvelope {
                position: ReceiptPosition::Index(1),
            },
        ),
        (
            list(&[vec![0x81, 0x80]]),
            None,
            ReceiptError::BadEnvelope {
                position: ReceiptPosition::Index(0),
            },
        ),
        // Three fields.
        (
            list(&[good.clone(), vec![0xc3, 0x01, 0x01, 0xc0]]),
            None,
            ReceiptError::FieldCount {
                position: ReceiptPosition::Index(1),
                count: 3,
            },
        ),
        // A 2-byte bloom.
        (
            list(&[vec![0xc6, 0x01, 0x01, 0x82, 0x00, 0x00, 0xc0]]),
            None,
            ReceiptError::BloomLength {
                position: ReceiptPosition::Index(0),
                length: 2,
            },
        ),
        // State-sync receipt that is typed, or has gas.
        (
            vec![0xc0],
            Some(stored(2, &receipt(1, 0, vec![]))),
            ReceiptError::StateSyncNotLegacy,
        ),
        (
            vec![0xc0],
            Some(stored(0, &receipt(1, 7, vec![]))),
            ReceiptError::StateSyncGas { gas: 7 },
        ),
    ];
    for (index, (block, state_sync, want)) in cases.into_iter().enumerate() {
        let got = receipts_68_to_69(&block, state_sync.as_deref());
        assert_eq!(got, Err(want), "case {index}");
    }
    // A state-sync receipt with a trailing byte.
    let trailing = [stored(0, &receipt(1, 0, vec![])), vec![0x01]].concat();
    assert!(matches!(
        receipts_68_to_69(&[0xc0], Some(&trailing)),
        Err(ReceiptError::Malformed {
            position: ReceiptPosition::StateSync,
            ..
        })
    ));
}
