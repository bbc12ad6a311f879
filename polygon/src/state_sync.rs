//! Bor's state-sync data, in both of its forms.
//!
//! Before Madhugiri the state syncs of a sprint-start block produce a
//! separate "bor receipt" (status 1, cumulative gas 0, the StateReceiver's
//! logs) that is in neither root; its transaction hash is derived from the
//! block. From Madhugiri on they are a type-0x7F transaction, the last in
//! the body, with a typed receipt — both inside the roots.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// The EIP-2718 type byte of Bor's state-sync transaction.
pub const STATE_SYNC_TX_TYPE: u8 = 0x7f;

/// Where Bor keeps a block's bor receipt: `"matic-bor-receipt-" ‖ number (8 bytes BE) ‖ hash`.
pub fn bor_receipt_key(number: u64, block_hash: &B256) -> Vec<u8> {
    let mut key = b"matic-bor-receipt-".to_vec();
    key.extend_from_slice(&number.to_be_bytes());
    key.extend_from_slice(block_hash.as_slice());
    key
}

/// The transaction hash Bor derives for a block's bor receipt.
pub fn bor_receipt_tx_hash(number: u64, block_hash: &B256) -> B256 {
    keccak256(bor_receipt_key(number, block_hash))
}

/// One state-sync event as the 0x7F transaction carries it.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StateSyncData {
    /// The state id.
    pub id: u64,
    /// The receiving contract on the child chain.
    pub contract: Address,
    /// The payload.
    pub data: Bytes,
    /// The L1 transaction that emitted the event.
    pub tx_hash: B256,
}

/// Encodes a state-sync transaction: `0x7f ‖ rlp([[id, contract, data, txHash], ...])`.
pub fn encode_state_sync_tx(events: &[StateSyncData]) -> Vec<u8> {
    let mut out = vec![STATE_SYNC_TX_TYPE];
    events.to_vec().encode(&mut out);
    out
}

/// Decodes a state-sync transaction's events from its EIP-2718 bytes.
pub fn decode_state_sync_tx(envelope: &[u8]) -> Result<Vec<StateSyncData>, alloy_rlp::Error> {
    match envelope.split_first() {
        Some((&STATE_SYNC_TX_TYPE, mut payload)) => {
            let events = Vec::<StateSyncData>::decode(&mut payload)?;
            if !payload.is_empty() {
                return Err(alloy_rlp::Error::Custom(
                    "trailing bytes after state-sync transaction",
                ));
            }
            Ok(events)
        }
        _ => Err(alloy_rlp::Error::Custom("not a state-sync transaction")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn derived_hash_uses_binary_number_and_hash() {
        let hash = B256::repeat_byte(0xab);
        let key = bor_receipt_key(0x0102, &hash);
        assert_eq!(key.len(), 18 + 8 + 32);
        assert_eq!(&key[18..26], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(bor_receipt_tx_hash(0x0102, &hash), keccak256(&key));
    }

    #[test]
    fn state_sync_tx_round_trip() {
        let events = vec![StateSyncData {
            id: 7,
            contract: address!("0000000000000000000000000000000000001001"),
            data: Bytes::from_static(b"payload"),
            tx_hash: B256::repeat_byte(9),
        }];
        let bytes = encode_state_sync_tx(&events);
        assert_eq!(bytes[0], 0x7f);
        assert_eq!(decode_state_sync_tx(&bytes).unwrap(), events);
        assert!(decode_state_sync_tx(&bytes[1..]).is_err());
    }
}
