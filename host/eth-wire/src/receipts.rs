//! Receipt messages. On both versions a response is a list of per-block
//! receipt lists; only the receipts inside differ:
//! - eth/68: each receipt is its consensus encoding — a legacy receipt is
//!   the list `[status, cumulativeGas, bloom, logs]`, a typed one the string
//!   `type ‖ rlp([status, cumulativeGas, bloom, logs])`. That is what we
//!   store, so serving eth/68 is a copy.
//! - eth/69: each receipt is `[txType, status, cumulativeGas, logs]`, no
//!   bloom and no envelope; see [`receipts_68_to_69`](crate::receipts_68_to_69).

use alloy_primitives::{B256, Bytes, Log};
use alloy_rlp::{RlpDecodable, RlpDecodableWrapper, RlpEncodable, RlpEncodableWrapper};

use crate::raw::RawRlp;

/// `GetReceipts` (0x0f) body: hashes of the blocks whose receipts are wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct GetReceipts(pub Vec<B256>);

/// `Receipts` (0x10) body: one RLP list per block, in the eth/68 or eth/69
/// form of the connection, each copied as stored (eth/68) or as converted
/// (eth/69).
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct Receipts(pub Vec<RawRlp>);

/// One receipt in the eth/69 form (`B[eth69]:eth/protocols/eth/receipt.go`,
/// `encodeForNetwork69`). Used to read an eth/69 block list field by field.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Receipt69 {
    /// The EIP-2718 transaction type (0 for legacy and for Bor's
    /// pre-Madhugiri state-sync receipt, 0x7f for its post-Madhugiri one).
    pub tx_type: u8,
    /// The status (`0x01` success, empty failure) or a pre-Byzantium
    /// 32-byte post-state root.
    pub status: Bytes,
    /// Gas used in the block up to and including this transaction (0 marks
    /// Bor's state-sync receipt).
    pub cumulative_gas_used: u64,
    /// The logs.
    pub logs: Vec<Log>,
}

/// Reads an eth/69 per-block receipt list.
pub fn decode_block_receipts_69(block: &[u8]) -> alloy_rlp::Result<Vec<Receipt69>> {
    alloy_rlp::decode_exact(block)
}
