//! A generated block with everything the servers need precomputed.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256};

/// One transaction of a generated block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevTx {
    /// EIP-2718 encoding (what the body and the trie hold).
    pub envelope: Bytes,
    /// keccak of the envelope.
    pub hash: B256,
    /// Who signed it (the zero address for a state-sync transaction).
    pub sender: Address,
    /// The recipient (`None` for a contract creation).
    pub to: Option<Address>,
    /// The address a contract creation made.
    pub contract_address: Option<Address>,
}

/// One receipt of a generated block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevReceipt {
    /// EIP-2718 encoding (what the receipt list and the trie hold).
    pub envelope: Bytes,
    /// Transaction type.
    pub tx_type: u8,
    /// Success.
    pub status: bool,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Effective gas price paid.
    pub effective_gas_price: u128,
    /// The logs.
    pub logs: Vec<Log>,
    /// Their bloom.
    pub bloom: Bloom,
}

/// Bor's separately stored state-sync receipt (blocks before Madhugiri).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorReceipt {
    /// The derived transaction hash.
    pub tx_hash: B256,
    /// The consensus encoding `[status 1, cumulative gas 0, bloom, logs]`.
    pub rlp: Bytes,
    /// The logs.
    pub logs: Vec<Log>,
    /// Their bloom.
    pub bloom: Bloom,
}

/// A sealed block of the devnet chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevBlock {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: B256,
    /// Its RLP.
    pub header_rlp: Bytes,
    /// RLP of `[transactions, uncles]`.
    pub body_rlp: Bytes,
    /// RLP list of the receipts' EIP-2718 encodings.
    pub receipts_rlp: Bytes,
    /// The transactions.
    pub txs: Vec<DevTx>,
    /// Their receipts.
    pub receipts: Vec<DevReceipt>,
    /// The bor receipt, on pre-Madhugiri sprint starts with state syncs.
    pub bor_receipt: Option<BorReceipt>,
    /// Sum of difficulties up to and including this block.
    pub total_difficulty: U256,
    /// The producer that sealed it (zero for genesis).
    pub signer: Address,
    /// Size of `rlp([header, transactions, uncles])`.
    pub size: u64,
}

impl DevBlock {
    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }
}
