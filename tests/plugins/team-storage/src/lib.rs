//! `team-storage`: an out-of-tree storage backend. It keeps blocks in a
//! `BTreeMap` by number and writes a one-line journal entry per batch into
//! `<data_dir>/team-storage.journal`, to show a plugin using the host's data
//! directory and options. Option `panic_on_meta` names a metadata key whose
//! read panics, so tests can watch the SDK turn a panic into an error.

use std::{
    collections::{BTreeMap, HashMap},
    fs::OpenOptions,
    io::Write,
    path::PathBuf,
    sync::Mutex,
};

use hypasis_plugin_sdk::{
    ErrorKind, PluginConfig, PluginError, StorageBackend,
    api::{
        ABI_VERSION, BlockPart, BlockRange, Extension, H256, IntervalSet, Namespace,
        PluginInstance, RawBlock, StorageStats, StorageStatsExt, StorageStatsExt_TO, TxLocation,
        WriteBatch,
        reexports::abi_stable::{
            sabi_trait::TD_Opaque,
            std_types::{RArc, ROption, RVec},
        },
    },
    plugin_err, storage_instance,
};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    panic_on_meta: Option<String>,
}

#[derive(Default)]
struct Tables {
    by_number: BTreeMap<u64, RawBlock>,
    number_of: HashMap<H256, u64>,
    transactions: HashMap<H256, TxLocation>,
    intervals: HashMap<(Namespace, String), IntervalSet>,
    meta: HashMap<(Namespace, String), RVec<u8>>,
    batches: u64,
}

struct TeamStore {
    tables: Mutex<Tables>,
    journal: Option<PathBuf>,
    panic_on_meta: Option<String>,
}

impl TeamStore {
    fn tables(&self) -> Result<std::sync::MutexGuard<'_, Tables>, PluginError> {
        self.tables
            .lock()
            .map_err(|_| plugin_err!(Internal, "team-storage: lock poisoned"))
    }
}

impl StorageBackend for TeamStore {
    fn write(&self, batch: WriteBatch) -> Result<(), PluginError> {
        let mut tables = self.tables()?;
        if let ROption::RSome(above) = batch.unwind_above {
            let removed = tables.by_number.split_off(&(above + 1));
            for block in removed.values() {
                tables.number_of.remove(&block.hash);
            }
        }
        let count = batch.blocks.len();
        for block in batch.blocks {
            for (index, tx) in block.tx_hashes.iter().enumerate() {
                let location = TxLocation::new(block.number, block.hash, index as u32);
                tables.transactions.insert(*tx, location);
            }
            tables.number_of.insert(block.hash, block.number);
            tables.by_number.insert(block.number, block);
        }
        for change in batch.intervals {
            let set = tables.intervals.entry((change.space, change.set.into_string())).or_default();
            change.remove.iter().for_each(|range| set.remove(*range));
            change.add.iter().for_each(|range| set.insert(*range));
        }
        for change in batch.meta {
            match change.value {
                ROption::RSome(value) => tables.meta.insert((change.space, change.key.into_string()), value),
                ROption::RNone => tables.meta.remove(&(change.space, change.key.into_string())),
            };
        }
        tables.batches += 1;
        if let Some(journal) = &self.journal {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(journal)
                .map_err(|error| plugin_err!(Unavailable, "{}: {error}", journal.display()))?;
            writeln!(file, "batch {} blocks {count}", tables.batches)
                .map_err(|error| plugin_err!(Unavailable, "{}: {error}", journal.display()))?;
        }
        Ok(())
    }

    fn canonical_hashes(&self, numbers: &[u64]) -> Result<RVec<ROption<H256>>, PluginError> {
        let tables = self.tables()?;
        Ok(numbers
            .iter()
            .map(|number| tables.by_number.get(number).map(|block| block.hash).into())
            .collect())
    }

    fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginError> {
        Ok(self.tables()?.number_of.get(hash).copied())
    }

    fn parts(&self, part: BlockPart, hashes: &[H256]) -> Result<RVec<ROption<RVec<u8>>>, PluginError> {
        let tables = self.tables()?;
        Ok(hashes
            .iter()
            .map(|hash| {
                let block = tables.by_number.get(tables.number_of.get(hash)?)?;
                match part {
                    BlockPart::Header => Some(block.header.clone()),
                    BlockPart::Body => block.body.clone().into_option(),
                    BlockPart::Receipts => block.receipts.clone().into_option(),
                    BlockPart::StateSync => block.state_sync.clone().into_option(),
                    // Transaction hashes and senders are kept as given; other parts are not stored.
                    BlockPart::TxHashes if !block.tx_hashes.is_empty() => Some(block.tx_hashes.concat().into()),
                    BlockPart::Senders if !block.senders.is_empty() => Some(block.senders.concat().into()),
                    _ => None,
                }
            })
            .map(ROption::from)
            .collect())
    }

    fn transaction(&self, tx_hash: &H256) -> Result<Option<TxLocation>, PluginError> {
        Ok(self.tables()?.transactions.get(tx_hash).cloned())
    }

    fn intervals(&self, space: Namespace, set: &str) -> Result<RVec<BlockRange>, PluginError> {
        let tables = self.tables()?;
        Ok(tables.intervals.get(&(space, set.to_string())).map(|set| set.ranges().iter().copied().collect()).unwrap_or_default())
    }

    fn meta(&self, space: Namespace, key: &str) -> Result<Option<RVec<u8>>, PluginError> {
        if self.panic_on_meta.as_deref() == Some(key) {
            panic!("team-storage: asked to panic on meta key `{key}`");
        }
        Ok(self.tables()?.meta.get(&(space, key.to_string())).cloned())
    }

    fn stats(&self) -> Result<StorageStats, PluginError> {
        let tables = self.tables()?;
        // The counters come with an extension object, as a plugin that has
        // nothing to add yet still may: a newer host reads the fields it
        // added later as their defaults.
        let ext = StorageStatsExt_TO::from_ptr(RArc::new(TeamStats), TD_Opaque);
        Ok(StorageStats {
            blocks: tables.by_number.len() as u64,
            ext: Extension::some(ext),
            ..Default::default()
        })
    }

    fn shutdown(&self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// The extension of this backend's counters: nothing beyond what its ABI has.
#[derive(Clone)]
struct TeamStats;

impl StorageStatsExt for TeamStats {
    fn minor(&self) -> u32 {
        ABI_VERSION.minor
    }
}

fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    let options: Options = config.options()?;
    let journal = config.data_dir.as_ref().map(|dir| dir.join("team-storage.journal"));
    if let Some(dir) = &config.data_dir {
        std::fs::create_dir_all(dir)
            .map_err(|error| PluginError::new(ErrorKind::Config, format!("{}: {error}", dir.display())))?;
    }
    Ok(storage_instance(TeamStore {
        tables: Mutex::new(Tables::default()),
        journal,
        panic_on_meta: options.panic_on_meta,
    }))
}

hypasis_plugin_sdk::export_plugin! {
    name: "team-storage",
    kind: Storage,
    description: "An out-of-tree storage backend: blocks by number in memory, a journal line per batch.",
    instantiate: new_instance,
}
