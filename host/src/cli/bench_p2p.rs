//! `hypasis-sync bench p2p`: pulls a chain's headers and bodies over eth/68
//! from one or more nodes side by side (ours from `serve`, a geth that
//! imported the same chain.rlp), with 1 and 64 concurrent peers, the way
//! Bor's downloader asks (192 headers, then their bodies 128 at a time), and
//! prints blocks/s, MB/s and request latency; optionally holds N idle peers
//! on a node and reports that process's resident memory.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{B256, keccak256};
use anyhow::{Context, bail};
use clap::Args;
use hypasis_sync::{nodekey::NodeKey, p2p::client::EthClient};
use parking_lot::Mutex;

/// Headers per request (Bor's downloader).
const HEADERS_PER_REQUEST: u64 = 192;
/// Bodies per request (Bor's downloader).
const BODIES_PER_REQUEST: usize = 128;
/// Time allowed for one answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct P2pBenchArgs {
    /// A node to pull from, as `name=enode://…` (repeat for side-by-side runs).
    #[arg(long = "target", required = true, value_name = "NAME=ENODE")]
    targets: Vec<String>,
    /// Concurrent peers, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    peers: Vec<usize>,
    /// Seconds each run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Pull blocks 1..=N (the chain's head number; eth/68's Status names
    /// the head by hash only).
    #[arg(long)]
    blocks: u64,
    /// Also hold this many idle peers on the first target and report the
    /// resident memory of `--pid`.
    #[arg(long, default_value_t = 0)]
    idle_peers: usize,
    /// The first target's process id, for `--idle-peers`.
    #[arg(long)]
    pid: Option<u32>,
}

struct Target {
    name: String,
    enode: String,
}

#[derive(Default)]
struct Tally {
    blocks: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

struct Row {
    target: String,
    peers: usize,
    blocks_per_s: f64,
    mb_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

pub fn run(args: P2pBenchArgs) -> anyhow::Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|text| {
            let (name, enode) = text
                .split_once('=')
                .with_context(|| format!("--target `{text}`: expected NAME=ENODE"))?;
            Ok(Target {
                name: name.to_string(),
                enode: enode.trim().to_string(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.blocks == 0 {
        bail!("--blocks must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut rows = Vec::new();
        for &peers in &args.peers {
            for target in &targets {
                rows.push(pull(target, peers, args.blocks, args.seconds).await?);
            }
        }
        println!(
            "\n| node | peers | blocks/s | MB/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|"
        );
        for row in &rows {
            println!(
                "| {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {} |",
                row.target,
                row.peers,
                row.blocks_per_s,
                row.mb_per_s,
                row.p50_ms,
                row.p99_ms,
                row.errors
            );
        }
        if args.idle_peers > 0 {
            let target = targets.first().context("no target")?;
            idle(target, args.idle_peers, args.pid).await?;
        }
        anyhow::Ok(())
    })
}

/// `peers` clients pulling blocks 1..=`blocks` in a loop for `seconds`.
async fn pull(target: &Target, peers: usize, blocks: u64, seconds: u64) -> anyhow::Result<Row> {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..peers {
        let key = NodeKey::random();
        let client = EthClient::connect(&target.enode, key.secret(), REQUEST_TIMEOUT)
            .await
            .with_context(|| format!("connecting to {}", target.name))?;
        clients.push(client);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, client) in clients.into_iter().enumerate() {
        let tally = Arc::clone(&tally);
        let stop = Arc::clone(&stop);
        // Peers start at different places so they do not all read the same blocks.
        let start = 1 + (index as u64 * 997) % blocks;
        tasks.spawn(puller(client, start, blocks, tally, stop));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock());
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    Ok(Row {
        target: target.name.clone(),
        peers,
        blocks_per_s: tally.blocks.load(Ordering::Relaxed) as f64 / elapsed,
        mb_per_s: tally.bytes.load(Ordering::Relaxed) as f64 / elapsed / 1e6,
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
        errors: tally.errors.load(Ordering::Relaxed),
    })
}

async fn puller(
    mut client: EthClient,
    start: u64,
    blocks: u64,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let mut next = start;
    while !stop.load(Ordering::Relaxed) {
        let amount = HEADERS_PER_REQUEST.min(blocks - next + 1);
        let asked = Instant::now();
        let headers = match client.headers_from(next, amount).await {
            Ok(headers) => headers,
            Err(_) => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        tally
            .latencies_us
            .lock()
            .push(asked.elapsed().as_micros() as u64);
        let mut bytes: usize = headers.0.iter().map(|header| header.as_bytes().len()).sum();
        let hashes: Vec<B256> = headers.0.iter().map(keccak256).collect();
        let mut bodies = 0;
        for chunk in hashes.chunks(BODIES_PER_REQUEST) {
            let asked = Instant::now();
            match client.bodies(chunk.to_vec()).await {
                Ok(answer) => {
                    tally
                        .latencies_us
                        .lock()
                        .push(asked.elapsed().as_micros() as u64);
                    bytes += answer
                        .0
                        .iter()
                        .map(|body| body.as_bytes().len())
                        .sum::<usize>();
                    bodies += answer.0.len();
                }
                Err(_) => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        if bodies != hashes.len() {
            tally.errors.fetch_add(1, Ordering::Relaxed);
        }
        tally.blocks.fetch_add(bodies as u64, Ordering::Relaxed);
        tally.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        next += amount;
        if next > blocks {
            next = 1;
        }
    }
    client.disconnect().await;
}

/// Opens `count` sessions (50 handshakes at a time), holds them, and
/// prints the resident memory of `pid` before and after.
async fn idle(target: &Target, count: usize, pid: Option<u32>) -> anyhow::Result<()> {
    let before = pid.and_then(resident_kib);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let enode = target.enode.clone();
        let semaphore = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            EthClient::connect(&enode, NodeKey::random().secret(), REQUEST_TIMEOUT).await
        });
    }
    let mut held = Vec::new();
    let mut failed = 0;
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(Ok(client)) => held.push(client),
            _ => failed += 1,
        }
    }
    // Let the node settle (buffers, pings).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = pid.and_then(resident_kib);
    println!(
        "\nidle peers on {}: {} connected, {} failed; RSS before {} MiB, with them {} MiB",
        target.name,
        held.len(),
        failed,
        before.map_or("?".into(), |kib| format!("{:.0}", kib as f64 / 1024.0)),
        after.map_or("?".into(), |kib| format!("{:.0}", kib as f64 / 1024.0)),
    );
    for client in held {
        client.disconnect().await;
    }
    Ok(())
}

/// VmRSS of `pid` in KiB (Linux).
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
