//! Receipts: building them from execution results, their consensus
//! encodings and root, the block's bloom, and decoding a stored list.

use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{B256, Bloom, Log};
use hypasis_polygon::{
    roots::{encode_envelopes, envelope_items, ordered_root},
    rpc_json::encode_receipt,
};

/// A block's receipts as execution produced them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReceiptList {
    /// The EIP-2718 encoding of each receipt.
    pub encoded: Vec<Vec<u8>>,
    /// The union of the receipts' blooms.
    pub bloom: Bloom,
    /// Every log of the block, in order.
    pub logs: Vec<Log>,
}

impl ReceiptList {
    /// Adds the receipt of a transaction of type `tx_type`: its status (or,
    /// before Byzantium, the state root after it), the block's gas used so
    /// far, and its logs.
    pub(crate) fn push(
        &mut self,
        tx_type: u8,
        status: Eip658Value,
        cumulative_gas_used: u64,
        logs: Vec<Log>,
    ) {
        let receipt = ReceiptWithBloom::from(Receipt {
            status,
            cumulative_gas_used,
            logs,
        });
        self.bloom.accrue_bloom(&receipt.logs_bloom);
        self.encoded.push(encode_receipt(tx_type, &receipt));
        self.logs.extend(receipt.receipt.logs);
    }

    /// The receipts trie root.
    pub(crate) fn root(&self) -> B256 {
        let items: Vec<&[u8]> = self.encoded.iter().map(Vec::as_slice).collect();
        ordered_root(&items)
    }

    /// The RLP list of the encodings, as eth/68 `Receipts` and
    /// `debug_getRawReceipts` carry them.
    pub(crate) fn list(&self) -> Vec<u8> {
        encode_envelopes(&self.encoded)
    }
}

/// Decodes a stored receipt list (an [`ImportedBlock::receipts`](crate::ImportedBlock::receipts)).
pub fn decode_receipts(list: &[u8]) -> Result<Vec<ReceiptEnvelope>, String> {
    envelope_items("receipts", list)
        .map_err(|error| error.to_string())?
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            ReceiptEnvelope::decode_2718_exact(item)
                .map_err(|error| format!("receipt {index}: {error}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::TxReceipt;
    use alloy_primitives::{Address, Bytes};

    #[test]
    fn list_round_trips_and_blooms_accrue() {
        let log = Log::new_unchecked(
            Address::repeat_byte(1),
            vec![B256::repeat_byte(2)],
            Bytes::new(),
        );
        let mut list = ReceiptList::default();
        list.push(
            0,
            Eip658Value::PostState(B256::repeat_byte(9)),
            21_000,
            vec![],
        );
        list.push(2, Eip658Value::Eip658(true), 50_000, vec![log.clone()]);
        let decoded = decode_receipts(&list.list()).unwrap();
        assert_eq!(decoded.len(), 2);
        assert!(matches!(decoded[0], ReceiptEnvelope::Legacy(_)));
        assert_eq!(decoded[1].logs(), [log]);
        assert_eq!(list.bloom, decoded[1].bloom());
        assert!(decode_receipts(&[0xc1, 0x05]).is_err());
    }
}
