//! The store: opening, the synchronous reads, stats and shutdown. The write
//! path is in `write.rs`.

use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex, RwLock, RwLockReadGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use fjall::{Database, KeyspaceCreateOptions, KvSeparationOptions, PersistMode};
use hypasis_plugin_sdk::{
    ErrorKind, PluginError, StorageBackend,
    api::{
        BlockPart, BlockRange, H256, Namespace, StorageStats, TxLocation, WriteBatch,
        reexports::abi_stable::std_types::{ROption, RVec},
    },
};

use crate::{
    engine::Inner,
    error::StoreError,
    journal_bound::{JournalBound, MAX_JOURNAL},
    part_reads::{MIN_SCAN_RUN, NumberCache, read_parts},
    schema::{self, MAX_NAME_LEN, SCHEMA_VERSION, Table},
};

/// Where the store lives and how much it may cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// The store's directory (created if missing).
    pub path: PathBuf,
    /// Bound on the engine's block cache, in bytes (at least 1 MiB is used).
    pub cache_size: u64,
}

/// Largest memtable (the unit flushed to disk) of `table`: 16 MiB for block
/// data and the transaction index, 4 MiB for the small tables. Memtables
/// (one active per table, plus those being flushed) come on top of the
/// block cache.
pub fn memtable_size(table: Table) -> u64 {
    if table.holds_block_data() || table == Table::Transactions {
        16 << 20
    } else {
        4 << 20
    }
}

/// fjall background threads (flushes and compactions); see [`EmbeddedStore::open`].
const BACKGROUND_WORKERS: usize = 1;

/// Whether `table` keeps its values in blob files apart from its keys
/// (fjall's key-value separation): bodies and receipts are tens of KiB
/// each, written once and never updated, so compactions should move only
/// their keys instead of rewriting the values level after level. Fixed when
/// a store is created (fjall persists it per keyspace).
pub const fn separates_values(table: Table) -> bool {
    matches!(table, Table::Bodies | Table::Receipts)
}

/// The `storage-embedded` store: fjall keyspaces under one directory, one
/// writer at a time, lock-free readers.
pub struct EmbeddedStore {
    /// `None` once shut down. Every call holds the read side; `shutdown`
    /// takes the write side, so it waits for calls in flight.
    inner: RwLock<Option<Inner>>,
    /// Serialises batches: the write path reads the state it changes. It
    /// also holds the journal's bound, which each batch checks.
    writer: Mutex<JournalBound>,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open_error(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

impl EmbeddedStore {
    /// Opens the store at `options.path`, creating it if it does not exist.
    /// Refuses a store written by a newer schema version.
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let path = options.path.clone();
        std::fs::create_dir_all(&path).map_err(|error| open_error(&path, error))?;
        let db = Database::builder(&path)
            .cache_size(options.cache_size.max(1 << 20))
            .max_journaling_size(MAX_JOURNAL)
            // Journal entries are short-lived (they are dropped once their
            // memtable is flushed, where tables compress their blocks), so
            // compressing large values on the write path only costs CPU.
            .journal_compression(fjall::CompressionType::None)
            // One background worker for flushes and compactions. With two,
            // fjall's worker 0 hands every compaction message back to the
            // queue and takes it again while worker 1 is busy: it spun on
            // the channel for whole compactions (~5% of sync CPU here).
            .worker_threads(BACKGROUND_WORKERS)
            .open()
            .map_err(|error| match error {
                fjall::Error::Locked => open_error(
                    &path,
                    "it is locked: is another hypasis-sync (or another store) using this directory?",
                ),
                error if crate::error::is_corruption(&error) => StoreError::Commit {
                    action: "recovering the store",
                    source: error,
                },
                error => open_error(&path, error),
            })?;
        let mut tables = Vec::with_capacity(Table::ALL.len());
        for table in Table::ALL {
            let memtable = memtable_size(table);
            let keyspace = db
                .keyspace(table.name(), || {
                    let options = KeyspaceCreateOptions::default().max_memtable_size(memtable);
                    if separates_values(table) {
                        // Bodies and receipts (mostly sparse blooms) shrink
                        // by about a third under LZ4 at no ingest cost
                        // (docs/BENCHMARKS.md). Each blob file records its
                        // own compression, so files written before stay
                        // readable as they are.
                        options.with_kv_separation(Some(
                            KvSeparationOptions::default().compression(fjall::CompressionType::Lz4),
                        ))
                    } else {
                        options
                    }
                })
                .map_err(|error| open_error(&path, error))?;
            tables.push(keyspace);
        }
        let inner = Inner {
            db,
            tables,
            canonical_count: AtomicU64::new(0),
            numbers: NumberCache::new(),
        };
        check_schema(&inner, &path)?;
        let count = match inner.get(Table::State, schema::STATE_CANONICAL_COUNT)? {
            Some(bytes) => {
                schema::decode_number(schema::STATE, schema::STATE_CANONICAL_COUNT, &bytes)?
            }
            None => 0,
        };
        inner.canonical_count.store(count, Ordering::Release);
        Ok(EmbeddedStore {
            inner: RwLock::new(Some(inner)),
            writer: Mutex::new(JournalBound::default()),
            path,
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Each table's name, bytes on disk (tables and blob files, not the
    /// shared journal) and approximate entry count, for size reports.
    pub fn table_sizes(&self) -> Result<Vec<(&'static str, u64, u64)>, PluginError> {
        self.with(|inner| {
            Ok(Table::ALL
                .iter()
                .map(|table| {
                    let keyspace = inner.table(*table);
                    (
                        table.name(),
                        keyspace.disk_space(),
                        keyspace.approximate_len() as u64,
                    )
                })
                .collect())
        })
    }

    /// Flushes every table's memtable to disk tables and compacts each
    /// table into its last level, waiting for both: the state of a store
    /// long after ingest, for benchmarks and tools (not used by the plugin
    /// itself, whose flushes and compactions run in the background).
    pub fn flush_and_compact(&self) -> Result<(), PluginError> {
        self.with(|inner| {
            for table in Table::ALL {
                let keyspace = inner.table(table);
                keyspace
                    .rotate_memtable_and_wait()
                    .and_then(|()| keyspace.major_compact())
                    .map_err(|error| StoreError::engine("flushing", table, b"", error))?;
            }
            Ok(())
        })
    }

    /// Runs `read` on the open engine, or fails with `Shutdown`.
    pub(crate) fn with<T>(
        &self,
        read: impl FnOnce(&Inner) -> Result<T, StoreError>,
    ) -> Result<T, PluginError> {
        let guard: RwLockReadGuard<'_, Option<Inner>> = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = guard.as_ref().ok_or(StoreError::Shutdown)?;
        read(inner).map_err(PluginError::from)
    }
}

/// Checks the schema version of an opened store, writing it into a new one.
fn check_schema(inner: &Inner, path: &Path) -> Result<(), StoreError> {
    let key = schema::STATE_SCHEMA_VERSION;
    match inner.get(Table::State, key)? {
        Some(bytes) => {
            let found = <[u8; 4]>::try_from(bytes.as_ref())
                .map(u32::from_be_bytes)
                .map_err(|_| schema::Malformed {
                    table: schema::STATE,
                    key: schema::printable(key),
                    problem: format!("{} bytes, expected 4", bytes.len()),
                })?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::NewerSchema {
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if found < SCHEMA_VERSION {
                crate::migrate::run(inner, found)?;
                let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
                batch.insert(inner.table(Table::State), key, SCHEMA_VERSION.to_be_bytes());
                batch.commit().map_err(|source| StoreError::Commit {
                    action: "upgrading the schema version",
                    source,
                })?;
                hypasis_plugin_sdk::tracing::info!(
                    from = found,
                    to = SCHEMA_VERSION,
                    "store schema upgraded"
                );
            }
            Ok(())
        }
        None => {
            // A new store, unless a table already holds data.
            for table in Table::ALL {
                let first = inner.table(table).first_key_value();
                if let Some(guard) = first {
                    let key = guard
                        .key()
                        .map_err(|error| StoreError::engine("scanning", table, b"", error))?;
                    return Err(schema::Malformed {
                        table: table.name(),
                        key: schema::printable(&key),
                        problem: "the store holds data but no schema version".into(),
                    }
                    .into());
                }
            }
            let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
            batch.insert(inner.table(Table::State), key, SCHEMA_VERSION.to_be_bytes());
            batch.commit().map_err(|source| StoreError::Commit {
                action: "writing the schema version",
                source,
            })
        }
    }
}

impl StorageBackend for EmbeddedStore {
    fn write(&self, batch: WriteBatch) -> Result<(), PluginError> {
        let mut bound = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.with(|inner| {
            crate::write::apply(inner, batch)?;
            // The batch is committed: a failure to keep the journal
            // bounded is reported, not turned into a failed write.
            if let Err(error) = bound.after_batch(inner) {
                hypasis_plugin_sdk::tracing::warn!(%error, "keeping the journal bounded failed");
            }
            Ok(())
        })
    }

    fn canonical_hashes(&self, numbers: &[u64]) -> Result<RVec<ROption<H256>>, PluginError> {
        self.with(|inner| {
            let snapshot = inner.db.snapshot();
            let mut hashes = RVec::with_capacity(numbers.len());
            let mut rest = numbers;
            while let Some(&first) = rest.first() {
                // A run of consecutive numbers (the usual request) is one
                // range scan; scattered numbers are point reads.
                let run = rest
                    .windows(2)
                    .take_while(|pair| pair[0].checked_add(1) == Some(pair[1]))
                    .count()
                    + 1;
                if run >= MIN_SCAN_RUN {
                    inner.canonical_run(&snapshot, first, run, &mut hashes)?;
                } else {
                    for number in &rest[..run] {
                        let key = schema::number_key(*number);
                        let hash = inner
                            .get_in(&snapshot, Table::Canonical, &key)?
                            .map(|bytes| schema::decode_hash(schema::CANONICAL, &key, &bytes))
                            .transpose()?;
                        hashes.push(ROption::from(hash));
                    }
                }
                rest = &rest[run..];
            }
            Ok(hashes)
        })
    }

    fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginError> {
        self.with(|inner| inner.number_in(&inner.db.snapshot(), hash))
    }

    fn parts(
        &self,
        part: BlockPart,
        hashes: &[H256],
    ) -> Result<RVec<ROption<RVec<u8>>>, PluginError> {
        let table = match part {
            BlockPart::Header => Table::Headers,
            BlockPart::Body => Table::Bodies,
            BlockPart::Receipts => Table::Receipts,
            BlockPart::StateSync => Table::StateSyncs,
            BlockPart::TxHashes => Table::BlockTxs,
            BlockPart::Senders => Table::BlockSenders,
            unknown => {
                return Err(PluginError::new(
                    ErrorKind::Unsupported,
                    format!("storage-embedded does not store block part {unknown}"),
                ));
            }
        };
        self.with(|inner| {
            let snapshot = inner.db.snapshot();
            read_parts(inner, &snapshot, table, hashes)?
                .into_iter()
                .map(|read| {
                    let Some((key, value)) = read else {
                        return Ok(ROption::RNone);
                    };
                    Ok(match (value, table) {
                        (Some(bytes), Table::Receipts) => ROption::RSome(
                            schema::decode_receipts(&key, &bytes)
                                .map_err(StoreError::from)?
                                .into(),
                        ),
                        // Most blocks keep no hash list: their body gives it.
                        (None, Table::BlockTxs) => inner
                            .get_in(&snapshot, Table::Bodies, &key)?
                            .map(|body| schema::body_tx_hashes(&key, &body))
                            .transpose()?
                            .filter(|hashes| !hashes.is_empty())
                            .map(|hashes| RVec::from(hashes.concat()))
                            .into(),
                        (Some(bytes), Table::BlockTxs) if bytes.is_empty() => ROption::RNone,
                        (value, _) => value.map(|bytes| RVec::from(bytes.as_ref())).into(),
                    })
                })
                .collect()
        })
    }

    fn transaction(&self, tx_hash: &H256) -> Result<Option<TxLocation>, PluginError> {
        self.with(|inner| {
            let snapshot = inner.db.snapshot();
            let Some(bytes) = inner.get_in(&snapshot, Table::Transactions, tx_hash)? else {
                return Ok(None);
            };
            let (number, index) = schema::decode_tx_location(tx_hash, &bytes)?;
            // Entries leave with their block, so the canonical block at the
            // number is the one that holds the transaction.
            let key = schema::number_key(number);
            let Some(hash) = inner.get_in(&snapshot, Table::Canonical, &key)? else {
                return Err(schema::Malformed {
                    table: schema::TRANSACTIONS,
                    key: schema::printable(tx_hash),
                    problem: format!("points at block {number}, which is not canonical"),
                }
                .into());
            };
            let hash = schema::decode_hash(schema::CANONICAL, &key, &hash)?;
            Ok(Some(TxLocation::new(number, hash, index)))
        })
    }

    fn intervals(&self, space: Namespace, set: &str) -> Result<RVec<BlockRange>, PluginError> {
        let Some(prefix) = schema::namespace_prefix(space).filter(|_| set.len() <= MAX_NAME_LEN)
        else {
            return Ok(RVec::new());
        };
        self.with(|inner| {
            let key = schema::name_key(prefix, set);
            match inner.get(Table::Intervals, &key)? {
                Some(bytes) => Ok(schema::decode_ranges(&key, &bytes)?.into()),
                None => Ok(RVec::new()),
            }
        })
    }

    fn meta(&self, space: Namespace, key: &str) -> Result<Option<RVec<u8>>, PluginError> {
        let Some(prefix) = schema::namespace_prefix(space).filter(|_| key.len() <= MAX_NAME_LEN)
        else {
            return Ok(None);
        };
        self.with(|inner| {
            Ok(inner
                .get(Table::Meta, &schema::name_key(prefix, key))?
                .map(|bytes| RVec::from(bytes.as_ref())))
        })
    }

    fn stats(&self) -> Result<StorageStats, PluginError> {
        self.with(|inner| {
            let bytes = inner.db.disk_space().map_err(|source| StoreError::Commit {
                action: "measuring disk space",
                source,
            })?;
            let (mut hits, mut misses) = (0u64, 0u64);
            for keyspace in &inner.tables {
                let metrics = keyspace.metrics();
                hits += metrics.block_load_cached_count() as u64;
                misses += metrics.block_load_io_count() as u64;
            }
            Ok(StorageStats {
                blocks: inner.canonical_count.load(Ordering::Acquire),
                bytes,
                cache_hits: hits,
                cache_misses: misses,
                ext: Default::default(),
            })
        })
    }

    fn shutdown(&self) -> Result<(), PluginError> {
        // Wait for a batch in flight, then for readers, then close.
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut guard = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(inner) = guard.take() else {
            return Ok(());
        };
        let persisted =
            inner
                .db
                .persist(PersistMode::SyncAll)
                .map_err(|source| StoreError::Commit {
                    action: "persisting the journal at shutdown",
                    source,
                });
        drop(inner);
        persisted.map_err(PluginError::from)
    }
}
