//! Storage backend `storage-memory`: every block in memory behind one lock.
//! Nothing survives a restart; for tests, benchmarks and short trial runs.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        RwLock,
        atomic::{AtomicBool, Ordering},
    },
};

use hypasis_plugin_sdk::{
    ErrorKind, PluginConfig, PluginError, StorageBackend,
    api::{
        BlockPart, BlockRange, H160, H256, IntervalSet, Namespace, PluginInstance, StorageStats,
        TxLocation, WriteBatch,
        reexports::abi_stable::std_types::{ROption, RVec},
    },
    storage_instance,
};

#[derive(Debug)]
struct Entry {
    number: u64,
    header: RVec<u8>,
    body: Option<RVec<u8>>,
    receipts: Option<RVec<u8>>,
    state_sync: Option<RVec<u8>>,
    tx_hashes: Vec<H256>,
    senders: Vec<H160>,
}

impl Entry {
    fn bytes(&self) -> u64 {
        let optional = |part: &Option<RVec<u8>>| part.as_ref().map_or(0, |bytes| bytes.len());
        (self.header.len()
            + optional(&self.body)
            + optional(&self.receipts)
            + optional(&self.state_sync)
            + self.tx_hashes.len() * 32
            + self.senders.len() * 20) as u64
    }
}

#[derive(Debug, Default)]
struct State {
    blocks: HashMap<H256, Entry>,
    canonical: BTreeMap<u64, H256>,
    transactions: HashMap<H256, TxLocation>,
    intervals: HashMap<(Namespace, String), IntervalSet>,
    meta: BTreeMap<(Namespace, String), RVec<u8>>,
    bytes: u64,
}

impl State {
    fn unwind_above(&mut self, number: u64) {
        let removed = self.canonical.split_off(&(number + 1));
        for hash in removed.values() {
            if let Some(entry) = self.blocks.get(hash) {
                for tx in &entry.tx_hashes {
                    self.transactions.remove(tx);
                }
            }
        }
    }

    /// Refuses, before anything changes, a batch that cannot be applied
    /// whole: senders for a block that is neither stored nor in the batch,
    /// or a sender list whose length is not the block's transaction count.
    fn check(&self, batch: &WriteBatch) -> Result<(), PluginError> {
        for list in &batch.senders {
            let transactions = batch
                .blocks
                .iter()
                .rev()
                .find(|block| block.hash == list.block.hash)
                .map(|block| block.tx_hashes.len())
                .or_else(|| {
                    self.blocks
                        .get(&list.block.hash)
                        .map(|entry| entry.tx_hashes.len())
                })
                .ok_or_else(|| {
                    PluginError::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "senders for block {}, which is not stored",
                            list.block.number
                        ),
                    )
                })?;
            if transactions != list.senders.len() {
                return Err(PluginError::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "block {}: {} senders for {transactions} transactions",
                        list.block.number,
                        list.senders.len()
                    ),
                ));
            }
        }
        for block in &batch.blocks {
            if !block.senders.is_empty() && block.senders.len() != block.tx_hashes.len() {
                return Err(PluginError::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "block {}: {} senders for {} transactions",
                        block.number,
                        block.senders.len(),
                        block.tx_hashes.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn apply(&mut self, batch: WriteBatch) {
        if let ROption::RSome(number) = batch.unwind_above {
            self.unwind_above(number);
        }
        for block in batch.blocks {
            let hash = block.hash;
            // A different block replacing the canonical one at this number
            // takes its transactions out of the index first.
            if let Some(previous) = self.canonical.insert(block.number, hash)
                && previous != hash
                && let Some(entry) = self.blocks.get(&previous)
            {
                for tx in &entry.tx_hashes {
                    self.transactions.remove(tx);
                }
            }
            // A block written again under its hash no longer lists the
            // transactions of its earlier version.
            if let Some(entry) = self.blocks.get(&hash) {
                for tx in &entry.tx_hashes {
                    self.transactions.remove(tx);
                }
            }
            for (index, tx) in block.tx_hashes.iter().enumerate() {
                self.transactions
                    .insert(*tx, TxLocation::new(block.number, hash, index as u32));
            }
            let entry = Entry {
                number: block.number,
                header: block.header,
                body: block.body.into(),
                receipts: block.receipts.into(),
                state_sync: block.state_sync.into(),
                tx_hashes: block.tx_hashes.into_vec(),
                senders: block.senders.into_vec(),
            };
            self.bytes += entry.bytes();
            if let Some(old) = self.blocks.insert(hash, entry) {
                self.bytes -= old.bytes();
            }
        }
        for list in batch.senders {
            if let Some(entry) = self.blocks.get_mut(&list.block.hash) {
                let added = list.senders.len() as u64;
                let removed = entry.senders.len() as u64;
                entry.senders = list.senders.into_vec();
                self.bytes = self.bytes + added * 20 - removed * 20;
            }
        }
        for change in batch.intervals {
            let set = self
                .intervals
                .entry((change.space, change.set.into_string()))
                .or_default();
            for range in change.remove {
                set.remove(range);
            }
            for range in change.add {
                set.insert(range);
            }
        }
        for change in batch.meta {
            match change.value {
                ROption::RSome(value) => {
                    self.meta
                        .insert((change.space, change.key.into_string()), value);
                }
                ROption::RNone => {
                    self.meta.remove(&(change.space, change.key.into_string()));
                }
            }
        }
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    closed: AtomicBool,
}

impl MemoryStore {
    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, PluginError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(PluginError::new(
                ErrorKind::Shutdown,
                "storage-memory is shut down",
            ));
        }
        self.state
            .read()
            .map_err(|_| PluginError::new(ErrorKind::Internal, "storage-memory lock poisoned"))
    }
}

impl StorageBackend for MemoryStore {
    fn write(&self, batch: WriteBatch) -> Result<(), PluginError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(PluginError::new(
                ErrorKind::Shutdown,
                "storage-memory is shut down",
            ));
        }
        let mut state = self
            .state
            .write()
            .map_err(|_| PluginError::new(ErrorKind::Internal, "storage-memory lock poisoned"))?;
        state.check(&batch)?;
        state.apply(batch);
        Ok(())
    }

    fn canonical_hashes(&self, numbers: &[u64]) -> Result<RVec<ROption<H256>>, PluginError> {
        let state = self.read()?;
        Ok(numbers
            .iter()
            .map(|number| state.canonical.get(number).copied().into())
            .collect())
    }

    fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginError> {
        Ok(self.read()?.blocks.get(hash).map(|entry| entry.number))
    }

    fn parts(
        &self,
        part: BlockPart,
        hashes: &[H256],
    ) -> Result<RVec<ROption<RVec<u8>>>, PluginError> {
        if !part.is_known() {
            return Err(PluginError::new(
                ErrorKind::Unsupported,
                format!("storage-memory does not store block part {part}"),
            ));
        }
        let state = self.read()?;
        let concat = |bytes: Vec<u8>| (!bytes.is_empty()).then(|| RVec::from(bytes));
        Ok(hashes
            .iter()
            .map(|hash| {
                let entry = state.blocks.get(hash)?;
                match part {
                    BlockPart::Header => Some(entry.header.clone()),
                    BlockPart::Body => entry.body.clone(),
                    BlockPart::Receipts => entry.receipts.clone(),
                    BlockPart::StateSync => entry.state_sync.clone(),
                    BlockPart::TxHashes => concat(entry.tx_hashes.concat()),
                    BlockPart::Senders => concat(entry.senders.concat()),
                    _ => None,
                }
            })
            .map(ROption::from)
            .collect())
    }

    fn transaction(&self, tx_hash: &H256) -> Result<Option<TxLocation>, PluginError> {
        Ok(self.read()?.transactions.get(tx_hash).cloned())
    }

    fn intervals(&self, space: Namespace, set: &str) -> Result<RVec<BlockRange>, PluginError> {
        Ok(self
            .read()?
            .intervals
            .get(&(space, set.to_string()))
            .map(|set| set.ranges().iter().copied().collect())
            .unwrap_or_default())
    }

    fn meta(&self, space: Namespace, key: &str) -> Result<Option<RVec<u8>>, PluginError> {
        Ok(self.read()?.meta.get(&(space, key.to_string())).cloned())
    }

    fn stats(&self) -> Result<StorageStats, PluginError> {
        let state = self.read()?;
        Ok(StorageStats {
            blocks: state.canonical.len() as u64,
            bytes: state.bytes,
            cache_hits: 0,
            cache_misses: 0,
            ext: Default::default(),
        })
    }

    fn shutdown(&self) -> Result<(), PluginError> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}

/// Creates an instance; the backend takes no options.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoOptions {}
    let _: NoOptions = config.options()?;
    hypasis_plugin_sdk::tracing::info!(instance = %config.instance, "in-memory store ready; nothing will survive a restart");
    Ok(storage_instance(MemoryStore::default()))
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "storage-memory",
    kind: Storage,
    description: "Keeps blocks in memory; nothing survives a restart. For tests and trial runs.",
    instantiate: new_instance,
}
