//! `hypasis-sync bench sync`: end-to-end ingest rate from a local devnet,
//! forward and backward, with where the time went.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::{Args, Subcommand};
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_sync::{app::Host, config::ValidationLevelName, plugins::default_plugin_dir};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Sync a prefilled devnet chain into a fresh store, forward then
    /// backward, and print blocks/s with the time spent fetching,
    /// validating and writing.
    Sync(SyncBenchArgs),
    /// Pull a chain's headers and bodies over eth/68 from nodes side by side
    /// (1 and 64 peers), and optionally hold idle peers to measure memory.
    P2p(super::bench_p2p::P2pBenchArgs),
    /// `eth_getBlockByNumber` on random blocks (hashes, then full) against
    /// JSON-RPC servers side by side, at several concurrencies.
    Rpc(super::bench_rpc::RpcBenchArgs),
    /// Write a devnet chain straight into the storage plugin and print the
    /// write rate by tenth of the chain, random-read latency, restart time
    /// and bytes per block.
    Store(super::bench_store::StoreBenchArgs),
}

#[derive(Debug, Args)]
pub struct SyncBenchArgs {
    /// Blocks in the chain.
    #[arg(long, default_value_t = 10_000)]
    blocks: u64,
    /// Average transactions per block (mainnet-like is ~100).
    #[arg(long, default_value_t = 100)]
    txs_per_block: u32,
    /// Validation level for both directions.
    #[arg(long, default_value = "light")]
    level: ValidationLevelName,
    /// Storage plugin.
    #[arg(long, default_value = "storage-embedded")]
    storage: String,
    /// Where the plugins are (default: next to the executable).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Keep the stores here (`forward/` and `backward/`, each a data dir)
    /// instead of in a temporary directory, to inspect them afterwards
    /// (e.g. with storage-embedded's `table_sizes` example).
    #[arg(long)]
    keep_stores: Option<PathBuf>,
}

struct Row {
    direction: &'static str,
    blocks: u64,
    elapsed: Duration,
    fetch_ms: u64,
    validate_ms: u64,
    write_ms: u64,
    /// CPU time the whole process (host and devnet) used during the run.
    cpu: Option<f64>,
    /// The store's size on disk at the end, as the storage plugin reports it.
    store_bytes: Option<u64>,
    /// The largest write-ahead journal seen on disk during the run
    /// (storage-embedded's `*.jnl` files, sampled every 50 ms).
    journal_peak: Option<u64>,
}

/// Bytes of fjall journal files (`*.jnl`) under `dir`, `None` when there are none.
pub(super) fn journal_bytes(dir: &std::path::Path) -> Option<u64> {
    files_bytes(dir, |path| path.extension().is_some_and(|ext| ext == "jnl"))
}

/// Bytes of the files under `dir` (at any depth) that `chosen` accepts,
/// `None` when there are none.
pub(super) fn files_bytes(
    dir: &std::path::Path,
    chosen: impl Fn(&std::path::Path) -> bool,
) -> Option<u64> {
    let mut total = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if chosen(&path) {
                *total.get_or_insert(0) += entry.metadata().map_or(0, |meta| meta.len());
            }
        }
    }
    total
}

/// Samples [`journal_bytes`] of `dir` until `stop`, returning the largest.
fn sample_journal(dir: PathBuf, stop: CancellationToken) -> tokio::task::JoinHandle<Option<u64>> {
    tokio::task::spawn_blocking(move || {
        let mut peak: Option<u64> = None;
        while !stop.is_cancelled() {
            if let Some(bytes) = journal_bytes(&dir) {
                peak = Some(peak.map_or(bytes, |peak| peak.max(bytes)));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

/// CPU seconds (user + system) this process has used so far, from
/// `/proc/self/stat` (Linux; `None` elsewhere). The wall time of a run on
/// a shared VM varies a lot; the CPU it took varies much less.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is the
    // first, utime the 12th, stime the 13th, in clock ticks (100 per s).
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// How long a benchmarked sync may go without advancing before the run fails.
const STALL_LIMIT: Duration = Duration::from_secs(60);

async fn run_direction(
    devnet: &Devnet,
    args: &SyncBenchArgs,
    forward: bool,
) -> anyhow::Result<Row> {
    let data = tempfile::tempdir().context("temporary data dir")?;
    let data_dir = match &args.keep_stores {
        Some(dir) => {
            let dir = dir.join(if forward { "forward" } else { "backward" });
            std::fs::create_dir_all(&dir).context("the kept store's dir")?;
            dir
        }
        None => data.path().to_path_buf(),
    };
    let mut config = hypasis_sync::devnet_host::config_for(devnet, &data_dir);
    config.plugins.dir = Some(args.plugins.clone().unwrap_or_else(default_plugin_dir));
    config.storage.plugin = args.storage.clone();
    config.sync.forward.validation_level = args.level;
    config.sync.backward.validation_level = args.level;
    config.sync.forward.batch_size = 512;
    if forward {
        // Anchor at genesis: forward does the whole chain.
        let genesis = devnet
            .chain()
            .read()
            .by_number(0)
            .map(|block| block.hash)
            .context("genesis")?;
        config.sync.anchor.number = Some(0);
        config.sync.anchor.hash = Some(format!("{genesis:#x}"));
        config.sync.backward.enabled = false;
    } else {
        config.sync.forward.enabled = false;
    }
    let shutdown = CancellationToken::new();
    let sampling = CancellationToken::new();
    let journal = sample_journal(data_dir.clone(), sampling.clone());
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let host = Host::start(config, shutdown.clone()).await?;
    let status = Arc::clone(
        host.sync_status
            .as_ref()
            .context("the host is not syncing")?,
    );
    let target = args.blocks;
    // A sync that stops advancing fails the run with its last error instead
    // of leaving the benchmark waiting forever.
    let mut progress = (None, None);
    let mut advanced = Instant::now();
    loop {
        let (done, now) = {
            let status = status.read();
            let done = if forward {
                status.forward == Some(target)
            } else {
                status.backward_done
            };
            (done, (status.forward, status.backward))
        };
        if done {
            break;
        }
        if now != progress {
            progress = now;
            advanced = Instant::now();
        } else if advanced.elapsed() > STALL_LIMIT {
            let last_error = status.read().last_error.clone();
            host.stop().await?;
            anyhow::bail!(
                "sync made no progress for {}s: {}",
                STALL_LIMIT.as_secs(),
                last_error.as_deref().unwrap_or("no error reported")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let status = status.read().clone();
    let store_bytes = host.plugins.storage.stats().ok().map(|stats| stats.bytes);
    host.stop().await?;
    sampling.cancel();
    let journal_peak = journal.await.ok().flatten();
    Ok(Row {
        direction: if forward { "forward" } else { "backward" },
        blocks: target + 1,
        elapsed,
        fetch_ms: status.fetch_ms,
        validate_ms: status.validate_ms,
        write_ms: status.write_ms,
        cpu,
        store_bytes,
        journal_peak,
    })
}

pub fn execute(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Sync(args) => sync(args),
        BenchCommand::P2p(args) => super::bench_p2p::run(args),
        BenchCommand::Rpc(args) => super::bench_rpc::run(args),
        BenchCommand::Store(args) => super::bench_store::run(args),
    }
}

fn sync(args: SyncBenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        eprintln!(
            "generating a {}-block devnet chain with ~{} transactions per block...",
            args.blocks, args.txs_per_block
        );
        let generated = Instant::now();
        let devnet = Devnet::start(DevnetOptions {
            chain: ChainConfig {
                txs_per_block: args.txs_per_block,
                ..ChainConfig::default()
            },
            checkpoints: CheckpointConfig {
                interval: 256,
                max_length: 1024,
                ..CheckpointConfig::default()
            },
            block_time: Duration::from_secs(3600),
            prefill: args.blocks,
            upstreams: 2,
            port: 0,
            ..DevnetOptions::default()
        })
        .await?;
        devnet.set_growing(false);
        eprintln!("generated in {:.1?}", generated.elapsed());
        // A provider's JSON rendering runs on its machines, not ours: render
        // every answer once before the clock starts.
        let rendering = Instant::now();
        devnet.prerender(0..=args.blocks);
        eprintln!("rendered the upstream JSON in {:.1?}", rendering.elapsed());
        let mut rows = Vec::new();
        for forward in [true, false] {
            rows.push(run_direction(&devnet, &args, forward).await?);
        }
        println!(
            "| direction | blocks | time | blocks/s | fetch (ms) | validate (ms) | write (ms) | CPU (s) | CPU ms/block | store KB/block | journal peak (MB) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for row in rows {
            println!(
                "| {} | {} | {:.2} s | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
                row.direction,
                row.blocks,
                row.elapsed.as_secs_f64(),
                row.blocks as f64 / row.elapsed.as_secs_f64(),
                row.fetch_ms,
                row.validate_ms,
                row.write_ms,
                row.cpu.map_or("—".into(), |cpu| format!("{cpu:.1}")),
                row.cpu
                    .map_or("—".into(), |cpu| format!("{:.2}", cpu * 1000.0 / row.blocks as f64)),
                row.store_bytes.map_or("—".into(), |bytes| format!(
                    "{:.1}",
                    bytes as f64 / 1000.0 / row.blocks as f64
                )),
                row.journal_peak
                    .map_or("—".into(), |bytes| format!("{:.0}", bytes as f64 / 1e6)),
            );
        }
        devnet.stop().await;
        anyhow::Ok(())
    })
}
