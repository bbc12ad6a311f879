//! JSON round trips: what `rpc_json` renders, `rpc_parse` rebuilds to the
//! same consensus bytes.

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::Bytes;
use alloy_primitives::{Address, B256, Bloom};
use hypasis_polygon::rpc_json::*;
use hypasis_polygon::state_sync::{StateSyncData, encode_state_sync_tx};
use serde_json::{Value, json};

fn view<'a>(tx_type: u8, logs: &'a [alloy_primitives::Log], bloom: &'a Bloom) -> ReceiptView<'a> {
    ReceiptView {
        tx_hash: B256::repeat_byte(1),
        tx_index: 0,
        block_hash: B256::repeat_byte(2),
        block_number: 7,
        block_timestamp: None,
        from: Address::ZERO,
        to: None,
        contract_address: None,
        tx_type,
        status: true,
        cumulative_gas_used: 63_000,
        gas_used: 21_000,
        effective_gas_price: 1,
        logs,
        bloom,
        first_log_index: 0,
    }
}

#[test]
fn receipts_round_trip_to_consensus_bytes() {
    let logs = vec![alloy_primitives::Log::new_unchecked(
        Address::repeat_byte(3),
        vec![B256::repeat_byte(4), B256::repeat_byte(5)],
        Bytes::from_static(b"log data"),
    )];
    let receipt = alloy_consensus::ReceiptWithBloom::from(alloy_consensus::Receipt {
        status: true.into(),
        cumulative_gas_used: 63_000,
        logs: logs.clone(),
    });
    let bloom = receipt.logs_bloom;
    for (tx_type, expected) in [
        (
            0u8,
            alloy_consensus::ReceiptEnvelope::Legacy(receipt.clone()).encoded_2718(),
        ),
        (
            2,
            alloy_consensus::ReceiptEnvelope::Eip1559(receipt.clone()).encoded_2718(),
        ),
    ] {
        let json = receipt_json(&view(tx_type, &logs, &bloom));
        let (parsed_type, parsed) = receipt_from_json(&json).unwrap();
        assert_eq!(parsed_type, tx_type);
        assert_eq!(encode_receipt(parsed_type, &parsed), expected);
    }
    // Bor's 0x7F receipt: the type byte before the same list.
    let json = receipt_json(&view(0x7f, &logs, &bloom));
    let (parsed_type, parsed) = receipt_from_json(&json).unwrap();
    let mut expected = vec![0x7f];
    alloy_rlp::Encodable::encode(&receipt, &mut expected);
    assert_eq!(encode_receipt(parsed_type, &parsed), expected);

    let mut broken = json.clone();
    broken["status"] = json!("0x2");
    assert!(receipt_from_json(&broken).is_err());
    broken["status"] = Value::Null;
    assert_eq!(
        receipt_from_json(&broken).unwrap_err(),
        JsonShapeError::Missing("status")
    );
}

#[test]
fn state_sync_tx_round_trips() {
    let events = vec![StateSyncData {
        id: 9,
        contract: Address::repeat_byte(0x10),
        data: Bytes::from_static(b"event"),
        tx_hash: B256::repeat_byte(0x11),
    }];
    let envelope = encode_state_sync_tx(&events);
    let context = TxContext {
        block_hash: B256::ZERO,
        block_number: 1,
        block_timestamp: None,
        index: 0,
        base_fee: None,
    };
    let hash = alloy_primitives::keccak256(&envelope);
    let json = transaction_json(&envelope, &hash, &Address::ZERO, &context).unwrap();
    assert_eq!(state_sync_tx_from_json(&json).unwrap(), envelope);
    let mut broken = json.clone();
    broken["stateSyncData"][0]["txHash"] = json!("0x12");
    assert!(state_sync_tx_from_json(&broken).is_err());
}
