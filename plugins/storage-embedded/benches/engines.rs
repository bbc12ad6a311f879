//! Engine comparison for `storage-embedded`: redb against fjall, on the
//! plugin's own key schema (`src/schema.rs`) and write path, plus the plugin
//! itself. Prints a Markdown table.
//!
//! ```text
//! cargo bench -p hypasis-storage-embedded --bench engines
//! ```
//!
//! Environment (all optional):
//! - `ENGINES_BLOCKS` — blocks to ingest (default 1,000,000);
//! - `ENGINES_READS` — random lookups to time per thread count (default 200,000);
//! - `ENGINES_ONLY` — comma list of `fjall`, `redb`, `redb-norepair`, `plugin`
//!   (default `fjall,redb,plugin`);
//! - `ENGINES_DIR` — where the stores are made (default: a temporary directory
//!   under the system's; each store is deleted after its run).
//!
//! Each batch is 256 blocks: header 600 B, body 3,000 B, receipts 2,000 B, 12
//! transaction hashes (so 12 transaction-index entries), one state-sync
//! receipt of 300 B every 64th block; plus an interval-set update and a
//! progress meta key; committed durably (fsync) before the next batch. Values
//! are 32-byte words, half random, a quarter zero-padded addresses and a
//! quarter small zero-padded numbers, so they compress about like RLP.
//! The write path does what the plugin does per block: look the hash and the
//! height up (is it a replacement?), then write canonical, hash→number, the
//! parts, the block's transaction list and the transaction index.
//! A random lookup is what serving a header and a body by number costs
//! through the plugin's API: canonical hash at the number, then hash→number
//! and the header, then hash→number and the body.

use std::{
    error::Error,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use hypasis_plugin_sdk::{
    StorageBackend,
    api::{
        BlockPart, BlockRange, RawBlock, StoredBlock, WriteBatch,
        reexports::abi_stable::std_types::{ROption, RString, RVec},
    },
    intervals::IntervalSet,
};
use hypasis_storage_embedded::schema;
use redb::{ReadableDatabase, ReadableTable};
#[cfg(any())]
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

const BATCH: u64 = 256;
const HEADER: usize = 600;
const BODY: usize = 3_000;
const RECEIPTS: usize = 2_000;
const STATE_SYNC: usize = 300;
const TXS: usize = 12;
const CACHE: u64 = 512 << 20;

/// xorshift64*: deterministic filler, fast enough not to matter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn hash(&mut self) -> [u8; 32] {
        let mut hash = [0u8; 32];
        for chunk in hash.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        hash
    }

    /// RLP-like filler: random words, zero-padded addresses, small numbers.
    fn filler(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let kind = self.next() & 3;
            let word = self.hash();
            match kind {
                0 | 1 => out.extend_from_slice(&word),
                2 => {
                    out.extend_from_slice(&[0; 12]);
                    out.extend_from_slice(&word[..20]);
                }
                _ => {
                    out.extend_from_slice(&[0; 28]);
                    out.extend_from_slice(&word[..4]);
                }
            }
        }
        out.truncate(len);
        out
    }
}

/// The hash of block `number` in the benchmark's chain.
fn block_hash(number: u64) -> [u8; 32] {
    Rng(number.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).hash()
}

fn make_batch(rng: &mut Rng, first: u64) -> Vec<StoredBlock> {
    (first..first + BATCH)
        .map(|number| StoredBlock {
            block: RawBlock {
                number,
                hash: block_hash(number),
                header: rng.filler(HEADER).into(),
                body: ROption::RSome(rng.filler(BODY).into()),
                receipts: ROption::RSome(rng.filler(RECEIPTS).into()),
                state_sync: if number % 64 == 0 {
                    ROption::RSome(rng.filler(STATE_SYNC).into())
                } else {
                    ROption::RNone
                },
            },
            tx_hashes: (0..TXS).map(|_| rng.hash()).collect(),
        })
        .collect()
}

/// One engine under test.
trait Engine: Sync {
    /// Writes one batch durably, the plugin's way.
    fn write(&mut self, blocks: &[StoredBlock], stored: &mut IntervalSet) -> Result<()>;
    /// Canonical hash, then header and body by hash; returns bytes read.
    fn lookup(&self, number: u64) -> Result<usize>;
}

fn u64_of(bytes: &[u8]) -> Result<u64> {
    Ok(u64::from_be_bytes(bytes.try_into()?))
}

// --------------------------------------------------------------------------
// fjall
// --------------------------------------------------------------------------

struct Fjall {
    db: fjall::Database,
    tables: Vec<fjall::Keyspace>,
}

fn table_index(name: &str) -> usize {
    schema::TABLES
        .iter()
        .position(|table| *table == name)
        .unwrap_or(0)
}

impl Fjall {
    fn open(path: &Path) -> Result<Self> {
        let mut builder = fjall::Database::builder(path).cache_size(CACHE);
        if let Some(j) = std::env::var("X_JOURNAL").ok().and_then(|v| v.parse::<u64>().ok()) { builder = builder.max_journaling_size(j << 20); }
        let db = builder.open()?;
        let mem = std::env::var("X_MEMTABLE").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(64);
        let tables = schema::TABLES
            .iter()
            .map(|name| db.keyspace(name, || fjall::KeyspaceCreateOptions::default().max_memtable_size(mem << 20)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Fjall { db, tables })
    }

    fn table(&self, name: &str) -> &fjall::Keyspace {
        &self.tables[table_index(name)]
    }
}

impl Engine for Fjall {
    fn write(&mut self, blocks: &[StoredBlock], stored: &mut IntervalSet) -> Result<()> {
        let mut batch = self
            .db
            .batch()
            .durability(if std::env::var_os("X_NOSYNC").is_some() { None } else { Some(fjall::PersistMode::SyncAll) });
        for stored in blocks {
            let block = &stored.block;
            let key = schema::block_key(block.number, &block.hash);
            // The plugin's replacement checks.
            if std::env::var_os("X_NOREAD").is_none() {
            let _known = self.table(schema::NUMBERS).get(block.hash)?;
            let _previous = self
                .table(schema::CANONICAL)
                .get(schema::number_key(block.number))?;
            }
            batch.insert(
                self.table(schema::CANONICAL),
                schema::number_key(block.number),
                block.hash,
            );
            batch.insert(
                self.table(schema::NUMBERS),
                block.hash,
                schema::number_key(block.number),
            );
            batch.insert(self.table(schema::HEADERS), key, block.header.as_slice());
            for (table, part) in [
                (schema::BODIES, &block.body),
                (schema::RECEIPTS, &block.receipts),
                (schema::STATE_SYNCS, &block.state_sync),
            ] {
                if let ROption::RSome(bytes) = part {
                    batch.insert(self.table(table), key, bytes.as_slice());
                }
            }
            batch.insert(
                self.table(schema::BLOCK_TXS),
                key,
                schema::encode_tx_hashes(&stored.tx_hashes),
            );
            for (index, tx) in stored.tx_hashes.iter().enumerate() {
                let location = hypasis_plugin_sdk::api::TxLocation {
                    number: block.number,
                    block_hash: block.hash,
                    index: index as u32,
                };
                batch.insert(
                    self.table(schema::TRANSACTIONS),
                    *tx,
                    schema::encode_tx_location(&location),
                );
            }
        }
        update_intervals(blocks, stored);
        batch.insert(
            self.table(schema::INTERVALS),
            "stored",
            schema::encode_ranges(stored.ranges()),
        );
        let last = blocks.last().map_or(0, |stored| stored.block.number);
        batch.insert(self.table(schema::META), "progress", last.to_be_bytes());
        batch.insert(
            self.table(schema::STATE),
            schema::STATE_CANONICAL_COUNT,
            (last + 1).to_be_bytes(),
        );
        batch.commit()?;
        Ok(())
    }

    fn lookup(&self, number: u64) -> Result<usize> {
        let hash = self
            .table(schema::CANONICAL)
            .get(schema::number_key(number))?
            .ok_or("no canonical hash")?;
        let mut bytes = 0;
        for table in [schema::HEADERS, schema::BODIES] {
            let number = u64_of(&self.table(schema::NUMBERS).get(&hash)?.ok_or("no number")?)?;
            let hash: [u8; 32] = hash.as_ref().try_into()?;
            let value = self
                .table(table)
                .get(schema::block_key(number, &hash))?
                .ok_or("no part")?;
            bytes += value.len();
        }
        Ok(bytes)
    }
}

// --------------------------------------------------------------------------
// redb
// --------------------------------------------------------------------------

type Table = redb::TableDefinition<'static, &'static [u8], &'static [u8]>;

fn redb_table(name: &'static str) -> Table {
    redb::TableDefinition::new(name)
}

struct Redb {
    db: redb::Database,
    quick_repair: bool,
}

impl Redb {
    fn open(path: &Path, quick_repair: bool) -> Result<Self> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE as usize)
            .create(path.join("blocks.redb"))?;
        Ok(Redb { db, quick_repair })
    }
}

impl Engine for Redb {
    fn write(&mut self, blocks: &[StoredBlock], stored: &mut IntervalSet) -> Result<()> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(redb::Durability::Immediate)?;
        txn.set_quick_repair(self.quick_repair);
        {
            let mut canonical = txn.open_table(redb_table(schema::CANONICAL))?;
            let mut numbers = txn.open_table(redb_table(schema::NUMBERS))?;
            let mut headers = txn.open_table(redb_table(schema::HEADERS))?;
            let mut bodies = txn.open_table(redb_table(schema::BODIES))?;
            let mut receipts = txn.open_table(redb_table(schema::RECEIPTS))?;
            let mut state_syncs = txn.open_table(redb_table(schema::STATE_SYNCS))?;
            let mut block_txs = txn.open_table(redb_table(schema::BLOCK_TXS))?;
            let mut transactions = txn.open_table(redb_table(schema::TRANSACTIONS))?;
            for stored in blocks {
                let block = &stored.block;
                let key = schema::block_key(block.number, &block.hash);
                let number = schema::number_key(block.number);
                let _known = numbers.get(block.hash.as_slice())?.is_some();
                let _previous = canonical.get(number.as_slice())?.is_some();
                canonical.insert(number.as_slice(), block.hash.as_slice())?;
                numbers.insert(block.hash.as_slice(), number.as_slice())?;
                headers.insert(key.as_slice(), block.header.as_slice())?;
                if let ROption::RSome(bytes) = &block.body {
                    bodies.insert(key.as_slice(), bytes.as_slice())?;
                }
                if let ROption::RSome(bytes) = &block.receipts {
                    receipts.insert(key.as_slice(), bytes.as_slice())?;
                }
                if let ROption::RSome(bytes) = &block.state_sync {
                    state_syncs.insert(key.as_slice(), bytes.as_slice())?;
                }
                block_txs.insert(
                    key.as_slice(),
                    schema::encode_tx_hashes(&stored.tx_hashes).as_slice(),
                )?;
                for (index, tx) in stored.tx_hashes.iter().enumerate() {
                    let location = hypasis_plugin_sdk::api::TxLocation {
                        number: block.number,
                        block_hash: block.hash,
                        index: index as u32,
                    };
                    transactions.insert(
                        tx.as_slice(),
                        schema::encode_tx_location(&location).as_slice(),
                    )?;
                }
            }
            update_intervals(blocks, stored);
            let mut intervals = txn.open_table(redb_table(schema::INTERVALS))?;
            intervals.insert(
                b"stored".as_slice(),
                schema::encode_ranges(stored.ranges()).as_slice(),
            )?;
            let last = blocks.last().map_or(0, |stored| stored.block.number);
            let mut meta = txn.open_table(redb_table(schema::META))?;
            meta.insert(b"progress".as_slice(), last.to_be_bytes().as_slice())?;
            let mut state = txn.open_table(redb_table(schema::STATE))?;
            state.insert(
                schema::STATE_CANONICAL_COUNT,
                (last + 1).to_be_bytes().as_slice(),
            )?;
        }
        txn.commit()?;
        Ok(())
    }

    fn lookup(&self, number: u64) -> Result<usize> {
        let txn = self.db.begin_read()?;
        let canonical = txn.open_table(redb_table(schema::CANONICAL))?;
        let numbers = txn.open_table(redb_table(schema::NUMBERS))?;
        let hash: [u8; 32] = canonical
            .get(schema::number_key(number).as_slice())?
            .ok_or("no canonical hash")?
            .value()
            .try_into()?;
        let mut bytes = 0;
        for table in [schema::HEADERS, schema::BODIES] {
            let number = u64_of(numbers.get(hash.as_slice())?.ok_or("no number")?.value())?;
            let table = txn.open_table(redb_table(table))?;
            let value = table
                .get(schema::block_key(number, &hash).as_slice())?
                .ok_or("no part")?;
            bytes += value.value().len();
        }
        Ok(bytes)
    }
}

// --------------------------------------------------------------------------
// The plugin itself, through its `StorageBackend` implementation.
// --------------------------------------------------------------------------

#[cfg(any())]
struct Plugin(EmbeddedStore);

#[cfg(any())]
impl Plugin {
    fn open(path: &Path) -> Result<Self> {
        let options = StoreOptions {
            path: path.to_path_buf(),
            cache_size: CACHE,
        };
        Ok(Plugin(EmbeddedStore::open(&options)?))
    }
}

#[cfg(any())]
impl Engine for Plugin {
    fn write(&mut self, blocks: &[StoredBlock], stored: &mut IntervalSet) -> Result<()> {
        let (first, last) = match (blocks.first(), blocks.last()) {
            (Some(first), Some(last)) => (first.block.number, last.block.number),
            _ => return Ok(()),
        };
        stored.insert(BlockRange::new(first, last));
        self.0.write(WriteBatch {
            unwind_above: ROption::RNone,
            blocks: RVec::from(blocks.to_vec()),
            intervals: RVec::from(vec![hypasis_plugin_sdk::api::IntervalChange {
                set: RString::from("stored"),
                add: RVec::from(vec![BlockRange::new(first, last)]),
                remove: RVec::new(),
            }]),
            meta: RVec::from(vec![hypasis_plugin_sdk::api::MetaChange {
                key: RString::from("progress"),
                value: ROption::RSome(RVec::from(last.to_be_bytes().to_vec())),
            }]),
        })?;
        Ok(())
    }

    fn lookup(&self, number: u64) -> Result<usize> {
        let hash = self.0.canonical_hashes(&[number])?[0]
            .into_option()
            .ok_or("no canonical hash")?;
        let mut bytes = 0;
        for part in [BlockPart::Header, BlockPart::Body] {
            let value = self.0.parts(part, &[hash])?;
            bytes += value[0].as_ref().map_or(0, |bytes| bytes.len());
        }
        Ok(bytes)
    }
}

fn update_intervals(blocks: &[StoredBlock], stored: &mut IntervalSet) {
    if let (Some(first), Some(last)) = (blocks.first(), blocks.last()) {
        stored.insert(BlockRange::new(first.block.number, last.block.number));
    }
}

// --------------------------------------------------------------------------
// The run.
// --------------------------------------------------------------------------

struct Row {
    engine: String,
    ingest: f64,
    ingest_last: f64,
    disk: u64,
    reopen: Duration,
    reads_1: f64,
    reads_2: f64,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn open(engine: &str, path: &Path) -> Result<Box<dyn Engine>> {
    Ok(match engine {
        "fjall" => Box::new(Fjall::open(path)?),
        "redb" => Box::new(Redb::open(path, true)?),
        "redb-norepair" => Box::new(Redb::open(path, false)?),
        #[cfg(any())]
        "plugin" => Box::new(Plugin::open(path)?),
        other => return Err(format!("unknown engine `{other}`").into()),
    })
}

fn reads(engine: &dyn Engine, blocks: u64, count: u64, threads: u64) -> Result<f64> {
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || -> Result<usize> {
                    let mut rng = Rng(0x5eed + thread);
                    let mut bytes = 0;
                    for _ in 0..count / threads {
                        bytes += engine.lookup(rng.next() % blocks)?;
                    }
                    Ok(bytes)
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| "reader panicked")??;
        }
        Ok(())
    })?;
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

fn run(engine: &str, base: &Path, blocks: u64, read_count: u64) -> Result<Row> {
    let path = base.join(engine);
    std::fs::create_dir_all(&path)?;
    let mut store = open(engine, &path)?;
    let mut rng = Rng(0x1234_5678);
    let mut stored = IntervalSet::new();
    let mut writing = Duration::ZERO;
    let mut last_tenth = Duration::ZERO;
    let batches = blocks.div_ceil(BATCH);
    for index in 0..batches {
        let batch = make_batch(&mut rng, index * BATCH);
        let started = Instant::now();
        store.write(&batch, &mut stored)?;
        let took = started.elapsed();
        writing += took;
        if index >= batches - batches / 10 {
            last_tenth += took;
        }
        if index % 400 == 399 {
            eprintln!(
                "{engine}: {} blocks, {:.0} blocks/s so far",
                (index + 1) * BATCH,
                ((index + 1) * BATCH) as f64 / writing.as_secs_f64()
            );
        }
    }
    let blocks = batches * BATCH;
    drop(store);
    let disk = dir_size(&path);
    let started = Instant::now();
    let store = open(engine, &path)?;
    let reopen = started.elapsed();
    // Warm up the engine's own cache a little, then measure.
    reads(store.as_ref(), blocks, read_count / 10, 1)?;
    let reads_1 = reads(store.as_ref(), blocks, read_count, 1)?;
    let reads_2 = reads(store.as_ref(), blocks, read_count, 2)?;
    drop(store);
    std::fs::remove_dir_all(&path)?;
    Ok(Row {
        engine: engine.to_string(),
        ingest: blocks as f64 / writing.as_secs_f64(),
        ingest_last: (batches / 10 * BATCH) as f64 / last_tenth.as_secs_f64().max(1e-9),
        disk,
        reopen,
        reads_1,
        reads_2,
    })
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let blocks = env_u64("ENGINES_BLOCKS", 1_000_000);
    let read_count = env_u64("ENGINES_READS", 200_000);
    let only = std::env::var("ENGINES_ONLY").unwrap_or_else(|_| "fjall,redb,plugin".into());
    let temp = match std::env::var_os("ENGINES_DIR") {
        Some(dir) => tempfile::tempdir_in(PathBuf::from(dir))?,
        None => tempfile::tempdir()?,
    };
    let per_block = HEADER + BODY + RECEIPTS + TXS * 32 + STATE_SYNC / 64;
    eprintln!(
        "{blocks} blocks of ~{per_block} B in batches of {BATCH}, {read_count} random lookups, in {}",
        temp.path().display()
    );
    let mut rows = Vec::new();
    for engine in only.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let row = run(engine, temp.path(), blocks, read_count)?;
        eprintln!(
            "{}: {:.0} blocks/s ingest, {:.0} lookups/s",
            row.engine, row.ingest, row.reads_1
        );
        rows.push(row);
    }
    println!();
    println!(
        "| engine | ingest, blocks/s (all) | ingest, last 10% | on disk | reopen | lookups/s, 1 thread | lookups/s, 2 threads |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} GiB | {:.0} ms | {:.0} | {:.0} |",
            row.engine,
            row.ingest,
            row.ingest_last,
            row.disk as f64 / (1u64 << 30) as f64,
            row.reopen.as_secs_f64() * 1000.0,
            row.reads_1,
            row.reads_2
        );
    }
    Ok(())
}
