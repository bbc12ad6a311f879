//! `hypasis-sync bench store`: the storage plugin alone at scale. Devnet
//! blocks (~100 signed transactions each by default) are generated in one
//! thread and written in batches through the plugin's ABI, as the sync
//! writes them; then random reads over the whole range, and a restart.
//! It prints the write rate by tenth of the chain (flat is the goal),
//! random-read latency, restart-to-first-answer and bytes per block.
//!
//! Only the time inside `write` counts toward the write rate: generating
//! a block (signing 100 transactions) takes ten times longer than storing
//! it, and runs on the other core.

use std::{
    path::PathBuf,
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use hypasis_devnet::{ChainConfig, block::DevBlock, generator::ChainGenerator};
use hypasis_plugin_api::{
    BlockPart, RawBlock, WriteBatch,
    reexports::abi_stable::std_types::{ROption, RVec},
};
use hypasis_sync::{
    config::Config,
    plugins::{PluginLoader, StoragePlugin, default_plugin_dir},
};

#[derive(Debug, Args)]
pub struct StoreBenchArgs {
    /// Blocks to store (after genesis).
    #[arg(long, default_value_t = 10_000)]
    blocks: u64,
    /// Average transactions per block (mainnet-like is ~100).
    #[arg(long, default_value_t = 100)]
    txs_per_block: u32,
    /// Blocks per write batch.
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Random reads after ingest.
    #[arg(long, default_value_t = 20_000)]
    reads: usize,
    /// Storage plugin.
    #[arg(long, default_value = "storage-embedded")]
    storage: String,
    /// Where the plugins are (default: next to the executable).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Keep the store here (a data dir) instead of a temporary directory.
    #[arg(long)]
    keep_store: Option<PathBuf>,
}

/// A devnet block as the sync hands it to storage (senders included: the
/// host recovers them in the background and stores them too).
fn raw(block: &DevBlock) -> RawBlock {
    RawBlock {
        number: block.number(),
        hash: block.hash.0,
        header: block.header_rlp.to_vec().into(),
        body: ROption::RSome(block.body_rlp.to_vec().into()),
        receipts: ROption::RSome(block.receipts_rlp.to_vec().into()),
        state_sync: block
            .bor_receipt
            .as_ref()
            .map(|bor| RVec::from(bor.rlp.to_vec()))
            .into(),
        tx_hashes: block.txs.iter().map(|tx| tx.hash.0).collect(),
        senders: block.txs.iter().map(|tx| tx.sender.0.0).collect(),
        ext: Default::default(),
    }
}

fn open(loader: &PluginLoader, config: &Config) -> anyhow::Result<StoragePlugin> {
    loader.storage(config).context("loading the storage plugin")
}

/// xorshift64, for reproducible random block numbers.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Reads block `number` as a server does: hash, header, body, receipts.
fn read_block(store: &StoragePlugin, number: u64) -> anyhow::Result<()> {
    let hash = store
        .canonical_hashes(&[number])?
        .first()
        .copied()
        .flatten()
        .with_context(|| format!("block {number} is not stored"))?;
    for part in [BlockPart::Header, BlockPart::Body, BlockPart::Receipts] {
        store
            .parts(part, &[hash])?
            .into_iter()
            .next()
            .and_then(ROption::into_option)
            .with_context(|| format!("block {number}: no {part}"))?;
    }
    Ok(())
}

pub fn run(args: StoreBenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: StoreBenchArgs) -> anyhow::Result<()> {
    let temporary = tempfile::tempdir().context("temporary data dir")?;
    let data_dir = args
        .keep_store
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&data_dir).context("the store's data dir")?;
    let mut config = Config::default();
    config.storage.plugin = args.storage.clone();
    config.storage.data_dir = data_dir.clone();
    let loader = PluginLoader::new(
        args.plugins.clone().unwrap_or_else(default_plugin_dir),
        data_dir.clone(),
        1,
    );
    let store = open(&loader, &config)?;

    // Generation on its own thread, a few batches ahead.
    let (sender, blocks) = mpsc::sync_channel::<Vec<RawBlock>>(4);
    let generator_config = ChainConfig {
        txs_per_block: args.txs_per_block,
        ..ChainConfig::default()
    };
    let total = args.blocks;
    let batch_len = args.batch.max(1);
    let generating = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut generator = ChainGenerator::new(generator_config)?;
        let mut batch = vec![raw(generator.head())];
        for _ in 0..total {
            batch.push(raw(&generator.next_block()));
            if batch.len() >= batch_len && sender.send(std::mem::take(&mut batch)).is_err() {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(batch);
        }
        Ok(())
    });

    eprintln!(
        "storing {} devnet blocks (~{} transactions each) in batches of {batch_len}...",
        total + 1,
        args.txs_per_block
    );
    let started = Instant::now();
    let tenth = (total + 1).div_ceil(10).max(1);
    let mut tenths: Vec<(u64, Duration)> = vec![(0, Duration::ZERO); 10];
    let mut raw_bytes = 0u64;
    let mut stored = 0u64;
    let mut write_time = Duration::ZERO;
    while let Ok(batch) = blocks.recv() {
        let first = batch.first().map_or(0, |block| block.number);
        let count = batch.len() as u64;
        raw_bytes += batch
            .iter()
            .map(|block| {
                (block.header.len()
                    + block.body.as_ref().map_or(0, |body| body.len())
                    + block.receipts.as_ref().map_or(0, |list| list.len())) as u64
            })
            .sum::<u64>();
        let write = Instant::now();
        store
            .write(WriteBatch {
                blocks: batch.into(),
                ..WriteBatch::default()
            })
            .await
            .with_context(|| format!("writing the batch from block {first}"))?;
        let took = write.elapsed();
        write_time += took;
        let slot = usize::try_from(first / tenth).unwrap_or(9).min(9);
        tenths[slot].0 += count;
        tenths[slot].1 += took;
        stored += count;
        if stored % (tenth.max(batch_len as u64)) < count {
            eprintln!(
                "  {stored} blocks in {:.0?} ({:.0} blocks/s written)",
                started.elapsed(),
                stored as f64 / write_time.as_secs_f64()
            );
        }
    }
    generating
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))??;
    let ingest = started.elapsed();
    let head = stored.saturating_sub(1);
    let stats = store.stats()?;

    println!("\n| tenth of the chain | blocks | write time | blocks/s written |");
    println!("|---|---|---|---|");
    for (index, (count, took)) in tenths.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        println!(
            "| {} | {count} | {:.2} s | {:.0} |",
            index + 1,
            took.as_secs_f64(),
            *count as f64 / took.as_secs_f64()
        );
    }
    // The journal is replayed on a restart and dropped once flushed; the
    // tables are what the chain costs for good.
    let journal = super::bench_cmd::journal_bytes(&data_dir).unwrap_or(0);
    let tables = stats.bytes.saturating_sub(journal);
    let per_block = |bytes: u64| bytes as f64 / 1000.0 / stored as f64;
    println!(
        "\n{stored} blocks stored in {:.1} s wall ({:.1} s inside write: {:.0} blocks/s)",
        ingest.as_secs_f64(),
        write_time.as_secs_f64(),
        stored as f64 / write_time.as_secs_f64(),
    );
    println!(
        "raw RLP {:.1} KB/block; at the end of ingest the store's tables hold {:.1} KB/block ({:.2}x the RLP), with {:.0} MB of journal not yet flushed into them",
        per_block(raw_bytes),
        per_block(tables),
        tables as f64 / raw_bytes as f64,
        journal as f64 / 1e6,
    );

    // Random reads over the whole range.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut latencies = Vec::with_capacity(args.reads);
    for _ in 0..args.reads {
        let number = next_random(&mut state) % (head + 1);
        let read = Instant::now();
        read_block(&store, number)?;
        latencies.push(read.elapsed());
    }
    latencies.sort();
    let quantile = |q: f64| -> f64 {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1e6)
    };
    println!(
        "random block reads (hash, header, body, receipts) over 0..={head}: {} reads, p50 {:.0} µs, p99 {:.0} µs",
        latencies.len(),
        quantile(0.50),
        quantile(0.99)
    );

    // Restart: close, reopen, first answer.
    store.shutdown().await?;
    drop(store);
    let restart = Instant::now();
    let store = open(&loader, &config)?;
    read_block(&store, head)?;
    let first_answer = restart.elapsed();
    let reopened = store.stats()?;
    println!(
        "restart to first answer (open the store, read block {head}): {:.0} ms; {} blocks after reopening",
        first_answer.as_secs_f64() * 1000.0,
        reopened.blocks
    );
    store.shutdown().await?;
    drop(store);
    let on_disk = super::bench_cmd::files_bytes(&data_dir, |_| true).unwrap_or(0);
    let journal = super::bench_cmd::journal_bytes(&data_dir).unwrap_or(0);
    println!(
        "on disk after the restart and a clean stop: {:.1} KB/block ({:.2}x the RLP; {:.0} MB of it journal)",
        on_disk as f64 / 1000.0 / stored as f64,
        on_disk as f64 / raw_bytes as f64,
        journal as f64 / 1e6
    );
    Ok(())
}
