//! The `Storage` interface: where verified blocks live and are served from.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RSlice, RStr, RString, RVec},
};
use async_ffi::FfiFuture;

use crate::{BlockPart, BlockRange, BlockRef, H160, H256, PluginResult, RawBlock};

crate::open_enum! {
    /// Whose state a metadata key or interval set is. A backend keeps the
    /// namespaces apart; a backend shared by several hosts keeps one
    /// `Host` namespace per host (the host's instance id is in the plugin
    /// configuration envelope) and one `Chain` namespace for all.
    pub enum Namespace: u8 {
        /// Facts about the stored chain that hold for every reader of the
        /// store: which blocks are verified, cached L1 checkpoints, the
        /// chain an import put there.
        Chain = 1 => "chain",
        /// One host's own bookkeeping: sync cursors, operator limits.
        Host = 2 => "host",
    }
}

crate::extension_trait! {
    /// Fields [`IntervalChange`] gains after 3.0.
    IntervalChangeExt, IntervalChangeExt_TO, IntervalChangeExtension
}

/// Add or remove ranges in one named interval set (for example `verified`).
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct IntervalChange {
    /// The set's namespace.
    pub space: Namespace,
    /// The set's name.
    pub set: RString,
    /// Ranges to add (merged with neighbours).
    pub add: RVec<BlockRange>,
    /// Ranges to remove (applied before `add`).
    pub remove: RVec<BlockRange>,
    /// Fields added after 3.0.
    pub ext: IntervalChangeExtension,
}

crate::extension_trait! {
    /// Fields [`MetaChange`] gains after 3.0.
    MetaChangeExt, MetaChangeExt_TO, MetaChangeExtension
}

/// Set (`Some`) or delete (`None`) one metadata key.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct MetaChange {
    /// The key's namespace.
    pub space: Namespace,
    /// The key, for example `sync/forward` or `checkpoint/96930000`.
    pub key: RString,
    /// The new value, or `None` to delete.
    pub value: ROption<RVec<u8>>,
    /// Fields added after 3.0.
    pub ext: MetaChangeExtension,
}

crate::extension_trait! {
    /// Fields [`SenderList`] gains after 3.0.
    SenderListExt, SenderListExt_TO, SenderListExtension
}

/// The recovered senders of a block already stored (they are recovered
/// after the block is written; see [`BlockPart::Senders`]).
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct SenderList {
    /// The block.
    pub block: BlockRef,
    /// One sender per transaction of its body, in order.
    pub senders: RVec<H160>,
    /// Fields added after 3.0.
    pub ext: SenderListExtension,
}

#[cfg(not(feature = "next-minor"))]
crate::extension_trait! {
    /// Fields [`WriteBatch`] gains after 3.0.
    WriteBatchExt, WriteBatchExt_TO, WriteBatchExtension
}

#[cfg(feature = "next-minor")]
crate::extension_trait! {
    /// Fields [`WriteBatch`] gains after 3.0.
    WriteBatchExt, WriteBatchExt_TO, WriteBatchExtension;

    /// Test-only field of the `next-minor` build (ABI 3.1): a hint that
    /// the batch need not be synced to disk before `write` returns.
    fn lazy(&self) -> bool {
        false
    }
}

/// Everything one atomic write does: all of it lands, or none of it.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct WriteBatch {
    /// Before anything else, forget the canonical chain above this number
    /// (a reorg); the blocks stay readable by hash until overwritten.
    pub unwind_above: ROption<u64>,
    /// Blocks to store, with their `tx_hashes` filled; each becomes
    /// canonical at its number.
    pub blocks: RVec<RawBlock>,
    /// Senders for blocks already stored (or in this batch).
    pub senders: RVec<SenderList>,
    /// Interval-set changes.
    pub intervals: RVec<IntervalChange>,
    /// Metadata changes.
    pub meta: RVec<MetaChange>,
    /// Fields added after 3.0.
    pub ext: WriteBatchExtension,
}

crate::extension_trait! {
    /// Fields [`TxLocation`] gains after 3.0.
    TxLocationExt, TxLocationExt_TO, TxLocationExtension
}

/// Where a transaction sits.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct TxLocation {
    /// The block's number.
    pub number: u64,
    /// The block's hash.
    pub block_hash: H256,
    /// The transaction's index in the block body.
    pub index: u32,
    /// Fields added after 3.0.
    pub ext: TxLocationExtension,
}

impl TxLocation {
    /// Transaction `index` of block `number` (`block_hash`).
    pub fn new(number: u64, block_hash: H256, index: u32) -> Self {
        TxLocation {
            number,
            block_hash,
            index,
            ext: Default::default(),
        }
    }
}

#[cfg(not(feature = "next-minor"))]
crate::extension_trait! {
    /// Fields [`StorageStats`] gains after 3.0.
    StorageStatsExt, StorageStatsExt_TO, StorageStatsExtension
}

#[cfg(feature = "next-minor")]
crate::extension_trait! {
    /// Fields [`StorageStats`] gains after 3.0.
    StorageStatsExt, StorageStatsExt_TO, StorageStatsExtension;

    /// Test-only field of the `next-minor` build (ABI 3.1): compactions run.
    fn compactions(&self) -> u64 {
        0
    }
}

/// Counters a storage backend reports for metrics and the status page.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct StorageStats {
    /// Canonical blocks stored.
    pub blocks: u64,
    /// Bytes used on disk (or in memory for memory backends).
    pub bytes: u64,
    /// Reads served from the backend's cache.
    pub cache_hits: u64,
    /// Reads that missed the cache.
    pub cache_misses: u64,
    /// Fields added after 3.0.
    pub ext: StorageStatsExtension,
}

/// Declares [`Storage`], with the methods a minor version adds.
macro_rules! storage_trait {
    ($($methods:tt)*) => {
/// A block store. Reads are synchronous and must be quick (the serving hot
/// path calls them directly); writes are asynchronous and atomic per batch,
/// so a crash at any moment leaves either the whole batch or none of it.
/// A minor version may add methods after `shutdown`, each with a default body.
#[sabi_trait]
pub trait Storage: Send + Sync {
    /// Applies a batch atomically and durably.
    fn write(&self, batch: WriteBatch) -> FfiFuture<PluginResult<()>>;

    /// Canonical hashes at the given numbers (`None` where not stored).
    fn canonical_hashes(&self, numbers: RSlice<'_, u64>) -> PluginResult<RVec<ROption<H256>>>;

    /// The number of the block with this hash, if stored.
    fn block_number(&self, hash: &H256) -> PluginResult<ROption<u64>>;

    /// One part of each block, by block hash, in the order asked (`None`
    /// where missing). A part this backend does not know is an
    /// `Unsupported` error.
    fn parts(
        &self,
        part: BlockPart,
        hashes: RSlice<'_, H256>,
    ) -> PluginResult<RVec<ROption<RVec<u8>>>>;

    /// Where a transaction is, by its hash: in a canonical block only. A
    /// block leaving the canonical chain (unwound or replaced at its
    /// number) or written again under its hash takes the transactions it
    /// listed out of the index, whichever block they point at by then.
    fn transaction(&self, tx_hash: &H256) -> PluginResult<ROption<TxLocation>>;

    /// The ranges in a named interval set, ascending and merged.
    fn intervals(&self, space: Namespace, set: RStr<'_>) -> PluginResult<RVec<BlockRange>>;

    /// A metadata value.
    fn meta(&self, space: Namespace, key: RStr<'_>) -> PluginResult<ROption<RVec<u8>>>;

    /// Counters for metrics.
    fn stats(&self) -> PluginResult<StorageStats>;

    /// Flushes and closes; later calls fail with [`crate::ErrorKind::Shutdown`].
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> FfiFuture<PluginResult<()>>;

    $($methods)*
}

    };
}

#[cfg(not(feature = "next-minor"))]
storage_trait! {}

#[cfg(feature = "next-minor")]
storage_trait! {
    /// Test-only method of the `next-minor` build (ABI 3.1): runs a
    /// compaction now. A backend built against 3.0 lacks it, and the
    /// default body answers `Unsupported`.
    fn compact(&self) -> PluginResult<()> {
        abi_stable::std_types::RResult::RErr(crate::PluginError::new(
            crate::ErrorKind::Unsupported,
            "compact: not in this plugin's ABI",
        ))
    }
}

/// An owned storage plugin instance.
pub type StorageBox = Storage_TO<'static, RBox<()>>;
