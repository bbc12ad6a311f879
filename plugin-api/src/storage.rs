//! The `Storage` interface: where verified blocks live and are served from.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RSlice, RStr, RString, RVec},
};
use async_ffi::FfiFuture;

use crate::{BlockPart, BlockRange, H256, PluginResult, RawBlock};

/// A block to store, with the index entries the host derived from it.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct StoredBlock {
    /// The block's raw parts; stored bytes are returned as they were given.
    pub block: RawBlock,
    /// Hashes of the block's transactions, in order, for the transaction index.
    pub tx_hashes: RVec<H256>,
}

/// Add or remove ranges in one named interval set (for example `verified`).
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct IntervalChange {
    /// The set's name.
    pub set: RString,
    /// Ranges to add (merged with neighbours).
    pub add: RVec<BlockRange>,
    /// Ranges to remove (applied before `add`).
    pub remove: RVec<BlockRange>,
}

/// Set (`Some`) or delete (`None`) one metadata key.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct MetaChange {
    /// The key, for example `sync/forward` or `checkpoint/96930000`.
    pub key: RString,
    /// The new value, or `None` to delete.
    pub value: ROption<RVec<u8>>,
}

/// Everything one atomic write does: all of it lands, or none of it.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct WriteBatch {
    /// Before anything else, forget the canonical chain above this number
    /// (a reorg); the blocks stay readable by hash until overwritten.
    pub unwind_above: ROption<u64>,
    /// Blocks to store; each becomes canonical at its number.
    pub blocks: RVec<StoredBlock>,
    /// Interval-set changes.
    pub intervals: RVec<IntervalChange>,
    /// Metadata changes.
    pub meta: RVec<MetaChange>,
}

/// Where a transaction sits.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct TxLocation {
    /// The block's number.
    pub number: u64,
    /// The block's hash.
    pub block_hash: H256,
    /// The transaction's index in the block body.
    pub index: u32,
}

/// Counters a storage backend reports for metrics and the status page.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, StableAbi)]
pub struct StorageStats {
    /// Canonical blocks stored.
    pub blocks: u64,
    /// Bytes used on disk (or in memory for memory backends).
    pub bytes: u64,
    /// Reads served from the backend's cache.
    pub cache_hits: u64,
    /// Reads that missed the cache.
    pub cache_misses: u64,
}

/// A block store. Reads are synchronous and must be quick (the serving hot
/// path calls them directly); writes are asynchronous and atomic per batch,
/// so a crash at any moment leaves either the whole batch or none of it.
#[sabi_trait]
pub trait Storage: Send + Sync {
    /// Applies a batch atomically and durably.
    fn write(&self, batch: WriteBatch) -> FfiFuture<PluginResult<()>>;

    /// Canonical hashes at the given numbers (`None` where not stored).
    fn canonical_hashes(&self, numbers: RSlice<'_, u64>) -> PluginResult<RVec<ROption<H256>>>;

    /// The number of the block with this hash, if stored.
    fn block_number(&self, hash: &H256) -> PluginResult<ROption<u64>>;

    /// One part of each block, by block hash, in the order asked (`None` where missing).
    fn parts(
        &self,
        part: BlockPart,
        hashes: RSlice<'_, H256>,
    ) -> PluginResult<RVec<ROption<RVec<u8>>>>;

    /// Where a transaction is, by its hash.
    fn transaction(&self, tx_hash: &H256) -> PluginResult<ROption<TxLocation>>;

    /// The ranges in a named interval set, ascending and merged.
    fn intervals(&self, set: RStr<'_>) -> PluginResult<RVec<BlockRange>>;

    /// A metadata value.
    fn meta(&self, key: RStr<'_>) -> PluginResult<ROption<RVec<u8>>>;

    /// Counters for metrics.
    fn stats(&self) -> PluginResult<StorageStats>;

    /// Flushes and closes; later calls fail with [`crate::ErrorKind::Shutdown`].
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> FfiFuture<PluginResult<()>>;
}

/// An owned storage plugin instance.
pub type StorageBox = Storage_TO<'static, RBox<()>>;
