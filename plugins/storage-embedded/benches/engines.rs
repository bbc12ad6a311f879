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
        BlockPart, BlockRange, IntervalChange, MetaChange, Namespace, RawBlock, WriteBatch,
        reexports::abi_stable::std_types::{ROption, RString, RVec},
    },
    intervals::IntervalSet,
};
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions, schema, schema::Table};
use redb::{ReadableDatabase, ReadableTable};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

#[path = "support/workload.rs"]
mod workload;

use workload::{
    BATCH, BODY, CACHE, HEADER, RECEIPTS, Rng, STATE_SYNC, TXS, cpu_seconds, dir_size, env_u64,
    make_batch,
};

/// One engine under test.
trait Engine: Sync {
    /// Writes one batch durably, the plugin's way.
    fn write(&mut self, blocks: Vec<RawBlock>, stored: &mut IntervalSet) -> Result<()>;
    /// Canonical hash, then header and body by hash; returns bytes read.
    fn lookup(&self, number: u64) -> Result<usize>;
    /// The serving hot path's batch calls (the plugin only): canonical
    /// hashes of 192 consecutive numbers from `start`, then headers and
    /// bodies of the first 128 of them; returns the time of each call.
    fn hot_path(&self, _start: u64) -> Result<Option<[Duration; 3]>> {
        Ok(None)
    }
}

type Put<'a> = dyn FnMut(Table, &[u8], &[u8]) -> Result<()> + 'a;
type Get<'a> = dyn Fn(Table, &[u8]) -> Result<Option<Vec<u8>>> + 'a;

/// What the plugin writes for a new block, engine-neutral.
fn block_puts(block: &RawBlock, put: &mut Put<'_>) -> Result<()> {
    let key = schema::block_key(block.number, &block.hash);
    let number = schema::number_key(block.number);
    put(Table::Canonical, &number, &block.hash)?;
    put(Table::Numbers, &block.hash, &number)?;
    put(Table::Headers, &key, &block.header)?;
    for (table, part) in [
        (Table::Bodies, &block.body),
        (Table::Receipts, &block.receipts),
        (Table::StateSyncs, &block.state_sync),
    ] {
        if let ROption::RSome(bytes) = part {
            put(table, &key, bytes)?;
        }
    }
    // As the plugin does since schema 3: no hash list where the body gives
    // it back, and `number ++ index` locations.
    for (index, tx) in block.tx_hashes.iter().enumerate() {
        put(
            Table::Transactions,
            tx,
            &schema::encode_tx_location(block.number, index as u32),
        )?;
    }
    Ok(())
}

/// What the plugin writes once per batch: the interval set, a progress key
/// and the canonical count.
fn batch_puts(blocks: &[RawBlock], stored: &mut IntervalSet, put: &mut Put<'_>) -> Result<()> {
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return Ok(());
    };
    let last = last.number;
    stored.insert(BlockRange::new(first.number, last));
    let ranges = schema::encode_ranges(stored.ranges());
    put(
        Table::Intervals,
        &schema::name_key(schema::CHAIN_PREFIX, "stored"),
        &ranges,
    )?;
    put(
        Table::Meta,
        &schema::name_key(schema::HOST_PREFIX, "progress"),
        &last.to_be_bytes(),
    )?;
    put(
        Table::State,
        schema::STATE_CANONICAL_COUNT,
        &(last + 1).to_be_bytes(),
    )
}

/// The plugin's lookups for one random block, engine-neutral.
fn lookup_via(number: u64, get: &Get<'_>) -> Result<usize> {
    let canonical = get(Table::Canonical, &schema::number_key(number))?;
    let hash: [u8; 32] = canonical
        .ok_or("no canonical hash")?
        .as_slice()
        .try_into()?;
    let mut bytes = 0;
    for table in [Table::Headers, Table::Bodies] {
        let stored = get(Table::Numbers, &hash)?.ok_or("no number")?;
        let number = u64::from_be_bytes(stored.as_slice().try_into()?);
        let value = get(table, &schema::block_key(number, &hash))?;
        bytes += value.ok_or("no part")?.len();
    }
    Ok(bytes)
}

/// fjall, configured as the plugin configures it (`src/store.rs`).
struct Fjall {
    db: fjall::Database,
    tables: Vec<fjall::Keyspace>,
}

impl Fjall {
    fn open(path: &Path) -> Result<Self> {
        let db = fjall::Database::builder(path)
            .cache_size(CACHE)
            .max_journaling_size(hypasis_storage_embedded::MAX_JOURNAL)
            .open()?;
        let tables = Table::ALL
            .iter()
            .map(|table| {
                db.keyspace(table.name(), || {
                    fjall::KeyspaceCreateOptions::default()
                        .max_memtable_size(hypasis_storage_embedded::memtable_size(*table))
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Fjall { db, tables })
    }
}

impl Engine for Fjall {
    fn write(&mut self, blocks: Vec<RawBlock>, stored: &mut IntervalSet) -> Result<()> {
        let tables = &self.tables;
        let mut batch = self
            .db
            .batch()
            .durability(Some(fjall::PersistMode::SyncAll));
        let mut put = |table: Table, key: &[u8], value: &[u8]| -> Result<()> {
            batch.insert(&tables[table as usize], key, value);
            Ok(())
        };
        for block in &blocks {
            // The plugin's replacement checks.
            tables[Table::Numbers as usize].get(block.hash)?;
            tables[Table::Canonical as usize].get(schema::number_key(block.number))?;
            block_puts(block, &mut put)?;
        }
        batch_puts(&blocks, stored, &mut put)?;
        batch.commit()?;
        Ok(())
    }

    fn lookup(&self, number: u64) -> Result<usize> {
        lookup_via(number, &|table, key| {
            let value = self.tables[table as usize].get(key)?;
            Ok(value.map(|value| value.to_vec()))
        })
    }
}

type RedbTable = redb::TableDefinition<'static, &'static [u8], &'static [u8]>;

/// redb: one write transaction per batch, `Durability::Immediate`.
struct Redb {
    db: redb::Database,
    /// Saves the allocator state with each commit, so that reopening after
    /// a crash does not walk the whole file (the setting a crash-safe
    /// server needs); off is redb's default.
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
    fn write(&mut self, blocks: Vec<RawBlock>, stored: &mut IntervalSet) -> Result<()> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(redb::Durability::Immediate)?;
        txn.set_quick_repair(self.quick_repair);
        {
            let mut tables = Table::ALL
                .iter()
                .map(|table| txn.open_table(RedbTable::new(table.name())))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for block in &blocks {
                let number = schema::number_key(block.number);
                tables[Table::Numbers as usize].get(block.hash.as_slice())?;
                tables[Table::Canonical as usize].get(number.as_slice())?;
                block_puts(block, &mut |table, key, value| {
                    tables[table as usize].insert(key, value)?;
                    Ok(())
                })?;
            }
            batch_puts(&blocks, stored, &mut |table, key, value| {
                tables[table as usize].insert(key, value)?;
                Ok(())
            })?;
        }
        txn.commit()?;
        Ok(())
    }

    fn lookup(&self, number: u64) -> Result<usize> {
        let txn = self.db.begin_read()?;
        let tables = [
            Table::Canonical,
            Table::Numbers,
            Table::Headers,
            Table::Bodies,
        ]
        .map(|table| txn.open_table(RedbTable::new(table.name())));
        lookup_via(number, &|table, key| {
            let index = match table {
                Table::Canonical => 0,
                Table::Numbers => 1,
                Table::Headers => 2,
                _ => 3,
            };
            let table = tables[index].as_ref().map_err(|error| error.to_string())?;
            Ok(table.get(key)?.map(|value| value.value().to_vec()))
        })
    }
}

/// The plugin itself, through its `StorageBackend` implementation.
struct Plugin(EmbeddedStore);

impl Plugin {
    fn open(path: &Path) -> Result<Self> {
        let options = StoreOptions {
            path: path.to_path_buf(),
            cache_size: CACHE,
        };
        Ok(Plugin(EmbeddedStore::open(&options)?))
    }
}

impl Engine for Plugin {
    fn write(&mut self, blocks: Vec<RawBlock>, stored: &mut IntervalSet) -> Result<()> {
        let (first, last) = match (blocks.first(), blocks.last()) {
            (Some(first), Some(last)) => (first.number, last.number),
            _ => return Ok(()),
        };
        stored.insert(BlockRange::new(first, last));
        self.0.write(WriteBatch {
            unwind_above: ROption::RNone,
            blocks: RVec::from(blocks),
            intervals: RVec::from(vec![IntervalChange {
                space: Namespace::Chain,
                set: RString::from("stored"),
                add: RVec::from(vec![BlockRange::new(first, last)]),
                remove: RVec::new(),
                ext: Default::default(),
            }]),
            meta: RVec::from(vec![MetaChange {
                space: Namespace::Host,
                key: RString::from("progress"),
                value: ROption::RSome(RVec::from(last.to_be_bytes().to_vec())),
                ext: Default::default(),
            }]),
            ..Default::default()
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

    fn hot_path(&self, start: u64) -> Result<Option<[Duration; 3]>> {
        let numbers: Vec<u64> = (start..start + 192).collect();
        let started = Instant::now();
        let hashes = self.0.canonical_hashes(&numbers)?;
        let canonical = started.elapsed();
        let hashes: Vec<[u8; 32]> = hashes
            .into_iter()
            .take(128)
            .map(|hash| hash.into_option().ok_or("no canonical hash"))
            .collect::<std::result::Result<_, _>>()?;
        let started = Instant::now();
        let headers = self.0.parts(BlockPart::Header, &hashes)?;
        let header_time = started.elapsed();
        let started = Instant::now();
        let bodies = self.0.parts(BlockPart::Body, &hashes)?;
        let body_time = started.elapsed();
        if headers
            .iter()
            .chain(bodies.iter())
            .any(|part| part.is_none())
        {
            return Err("a part is missing".into());
        }
        Ok(Some([canonical, header_time, body_time]))
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
    /// Process CPU seconds (all threads, background work included) per
    /// 100,000 blocks ingested: steadier than wall time on a shared machine.
    cpu_per_100k: f64,
    /// Median time of the hot-path calls, when the engine has them.
    hot: Option<[Duration; 3]>,
}

/// Medians of 500 hot-path rounds at random places.
fn hot_paths(engine: &dyn Engine, blocks: u64) -> Result<Option<[Duration; 3]>> {
    let mut rng = Rng(0xbeef);
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..500 {
        let Some(times) = engine.hot_path(rng.next() % (blocks - 192))? else {
            return Ok(None);
        };
        for (sample, time) in samples.iter_mut().zip(times) {
            sample.push(time);
        }
    }
    Ok(Some(samples.map(|mut sample| {
        sample.sort();
        sample[sample.len() / 2]
    })))
}

fn open(engine: &str, path: &Path) -> Result<Box<dyn Engine>> {
    Ok(match engine {
        "fjall" => Box::new(Fjall::open(path)?),
        "redb" => Box::new(Redb::open(path, true)?),
        "redb-norepair" => Box::new(Redb::open(path, false)?),
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
    let (cpu_start, mut generating) = (cpu_seconds("self"), 0.0);
    for index in 0..batches {
        let generation = cpu_seconds("thread-self");
        let batch = make_batch(&mut rng, index * BATCH);
        generating += cpu_seconds("thread-self") - generation;
        let started = Instant::now();
        store.write(batch, &mut stored)?;
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
    let cpu = cpu_seconds("self") - cpu_start - generating;
    let disk = dir_size(&path);
    let started = Instant::now();
    let store = open(engine, &path)?;
    let reopen = started.elapsed();
    // Warm up the engine's own cache a little, then measure.
    reads(store.as_ref(), blocks, read_count / 10, 1)?;
    let reads_1 = reads(store.as_ref(), blocks, read_count, 1)?;
    let reads_2 = reads(store.as_ref(), blocks, read_count, 2)?;
    let hot = hot_paths(store.as_ref(), blocks)?;
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
        cpu_per_100k: cpu * 100_000.0 / blocks as f64,
        hot,
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
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average at start: {}", load.trim());
    eprintln!(
        "{blocks} blocks of ~{per_block} B in batches of {BATCH}, {read_count} random lookups, in {}",
        temp.path().display()
    );
    let mut rows = Vec::new();
    for engine in only
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let row = run(engine, temp.path(), blocks, read_count)?;
        eprintln!(
            "{}: {:.0} blocks/s ingest, {:.0} lookups/s",
            row.engine, row.ingest, row.reads_1
        );
        rows.push(row);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average at the end: {}", load.trim());
    println!();
    println!(
        "| engine | ingest, blocks/s (all) | ingest, last 10% | ingest CPU s / 100k blocks | on disk | reopen | lookups/s, 1 thread | lookups/s, 2 threads |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.2} GiB | {:.0} ms | {:.0} | {:.0} |",
            row.engine,
            row.ingest,
            row.ingest_last,
            row.cpu_per_100k,
            row.disk as f64 / (1u64 << 30) as f64,
            row.reopen.as_secs_f64() * 1000.0,
            row.reads_1,
            row.reads_2
        );
    }
    for row in &rows {
        if let Some([canonical, headers, bodies]) = row.hot {
            println!();
            println!(
                "| {} hot path (median of 500) | time per call |",
                row.engine
            );
            println!("|---|---|");
            println!("| `canonical_hashes`, 192 consecutive numbers | {canonical:.1?} |");
            println!("| `parts(Header)`, 128 consecutive blocks | {headers:.1?} |");
            println!("| `parts(Body)`, 128 consecutive blocks | {bodies:.1?} |");
        }
    }
    Ok(())
}
