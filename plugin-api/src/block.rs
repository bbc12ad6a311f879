//! Blocks as they cross the boundary: numbers, hashes and raw RLP.

use abi_stable::{
    StableAbi,
    std_types::{ROption, RVec},
};

/// A 32-byte hash (keccak-256), big-endian bytes.
pub type H256 = [u8; 32];

/// A 20-byte address.
pub type H160 = [u8; 20];

/// A block identified by number and hash. A value type: it is complete and
/// frozen (a new kind of block reference would be a new type).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, StableAbi)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: H256,
}

/// An inclusive range of block numbers, `start <= end`. A value type: frozen.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, StableAbi)]
pub struct BlockRange {
    /// First block in the range.
    pub start: u64,
    /// Last block in the range (inclusive).
    pub end: u64,
}

impl BlockRange {
    /// The range `[start, end]`.
    pub const fn new(start: u64, end: u64) -> Self {
        BlockRange { start, end }
    }

    /// How many blocks the range holds.
    pub const fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never true: a range holds at least one block. Present for clippy's sake.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Whether `number` lies in the range.
    pub const fn contains(&self, number: u64) -> bool {
        self.start <= number && number <= self.end
    }
}

crate::open_enum! {
    /// One part of a stored block, for batch reads.
    pub enum BlockPart: u8 {
        /// The RLP header.
        Header = 1 => "header",
        /// The RLP body: `[transactions, uncles]` (plus withdrawals where the chain has them).
        Body = 2 => "body",
        /// The RLP list of consensus receipts (with blooms, as eth/68 sends them).
        Receipts = 3 => "receipts",
        /// Bor's state-sync receipt, stored apart from the block's receipts before Madhugiri.
        StateSync = 4 => "state_sync",
        /// The keccak-256 of each transaction in the body, in order,
        /// concatenated (32 bytes each), as given at ingest.
        TxHashes = 5 => "tx_hashes",
        /// The sender of each transaction in the body, in order,
        /// concatenated (20 bytes each), once the host has recovered them
        /// (absent until then).
        Senders = 6 => "senders",
    }
}

crate::extension_trait! {
    /// Fields [`RawBlock`] gains after 3.0.
    RawBlockExt, RawBlockExt_TO, RawBlockExtension
}

/// A block as fetched from an upstream, handed to validation and storage.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct RawBlock {
    /// Block number.
    pub number: u64,
    /// The hash the source claims for this block; validation recomputes it.
    pub hash: H256,
    /// RLP of the header.
    pub header: RVec<u8>,
    /// RLP of the body, when fetched.
    pub body: ROption<RVec<u8>>,
    /// RLP list of the block's receipts, when fetched.
    pub receipts: ROption<RVec<u8>>,
    /// RLP of Bor's separately stored state-sync receipt (pre-Madhugiri blocks that have one).
    pub state_sync: ROption<RVec<u8>>,
    /// Keccak-256 of each transaction in `body`, in order, when the source
    /// already computed them (an upstream that checked each transaction's
    /// claimed hash has); empty otherwise. The host fills it before a block
    /// is written, so storage always gets the full list.
    pub tx_hashes: RVec<H256>,
    /// The sender of each transaction in `body`, in order, when the host
    /// has recovered them from the signatures; empty otherwise. Never taken
    /// from an upstream's word.
    pub senders: RVec<H160>,
    /// Fields added after 3.0.
    pub ext: RawBlockExtension,
}
