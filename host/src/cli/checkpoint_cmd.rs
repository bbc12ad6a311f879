//! `hypasis-sync checkpoint verify|list`: an operator's audit of L1
//! checkpoints against any Polygon RPC.

use std::time::Duration;

use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::Encodable;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hypasis_polygon::{
    checkpoint::{checkpoint_root, header_leaf},
    rootchain::HEADER_BLOCK_SPACING,
    rpc_json::{header_from_json, parse_b256},
};
use hypasis_sync::{
    checkpoints::{L1Checkpoint, L1CheckpointSource},
    config::ChainName,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Fetch a checkpoint from L1 and its blocks from a Polygon RPC, and say whether they agree.
    Verify(VerifyArgs),
    /// List the newest checkpoints on L1.
    List(ListArgs),
}

#[derive(Debug, Args)]
struct L1Args {
    /// Ethereum L1 JSON-RPC URL.
    #[arg(long)]
    l1: String,
    /// Which chain (mainnet, amoy, devnet).
    #[arg(long, default_value = "mainnet")]
    chain: ChainName,
    /// RootChain address; the chain spec's by default.
    #[arg(long)]
    root_chain: Option<Address>,
    /// The devnet's Heimdall URL (for `--chain devnet`, which serves its spec).
    #[arg(long)]
    heimdall: Option<String>,
    /// The genesis file of a private chain (for `--chain custom`).
    #[arg(long)]
    genesis_file: Option<std::path::PathBuf>,
    /// L1 blocks a checkpoint must be buried under.
    #[arg(long, default_value_t = 0)]
    confirmations: u64,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    l1: L1Args,
    /// Polygon JSON-RPC URL to fetch the blocks from.
    #[arg(long)]
    polygon: String,
    /// The header-block id on L1 (a multiple of 10,000), or `latest`.
    #[arg(default_value = "latest")]
    checkpoint: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    l1: L1Args,
    /// How many checkpoints to list.
    #[arg(long, default_value_t = 10)]
    limit: u64,
}

async fn connect(args: &L1Args) -> anyhow::Result<L1CheckpointSource> {
    let spec = hypasis_sync::chain::resolve(
        args.chain,
        args.heimdall.as_deref(),
        args.genesis_file.as_deref(),
    )
    .await?;
    Ok(L1CheckpointSource::connect(&args.l1, &spec, args.root_chain, args.confirmations).await?)
}

/// Fetches headers `start..=end` (JSON-RPC batches of 100), checks each
/// hashes to its claimed hash and links to its parent, and returns the leaves.
async fn fetch_leaves(
    polygon: &str,
    start: u64,
    end: u64,
    progress: &ProgressBar,
) -> anyhow::Result<Vec<B256>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut leaves = Vec::with_capacity((end - start + 1) as usize);
    let mut previous: Option<B256> = None;
    let mut number = start;
    while number <= end {
        let last = (number + 99).min(end);
        let batch: Vec<Value> = (number..=last)
            .map(|n| json!({"jsonrpc": "2.0", "id": n, "method": "eth_getBlockByNumber", "params": [format!("{n:#x}"), false]}))
            .collect();
        let mut answers: Vec<Value> = client
            .post(polygon)
            .json(&batch)
            .send()
            .await
            .context("Polygon RPC")?
            .json()
            .await
            .context("Polygon RPC answer")?;
        answers.sort_by_key(|answer| answer["id"].as_u64().unwrap_or(0));
        if answers.len() != batch.len() {
            bail!(
                "Polygon RPC answered {} of {} calls for blocks {number}..={last}",
                answers.len(),
                batch.len()
            );
        }
        for answer in answers {
            let block = answer
                .get("result")
                .filter(|result| !result.is_null())
                .with_context(|| format!("Polygon RPC has no block {}: {answer}", answer["id"]))?;
            let header = header_from_json(block)?;
            let mut rlp = Vec::new();
            header.encode(&mut rlp);
            let hash = keccak256(&rlp);
            let claimed = parse_b256("hash", block["hash"].as_str().unwrap_or_default())?;
            if hash != claimed {
                bail!(
                    "block {}: the RPC claims hash {claimed:#x} but its fields hash to {hash:#x}",
                    header.number
                );
            }
            if let Some(parent) = previous
                && header.parent_hash != parent
            {
                bail!(
                    "block {} does not link to block {}: parentHash {:#x}, expected {parent:#x}",
                    header.number,
                    header.number - 1,
                    header.parent_hash
                );
            }
            previous = Some(hash);
            leaves.push(header_leaf(&header));
            progress.inc(1);
        }
        number = last + 1;
    }
    Ok(leaves)
}

fn describe(checkpoint: &L1Checkpoint) -> String {
    format!(
        "checkpoint {} (Heimdall #{}): blocks {}..={} ({} blocks), root {:#x}",
        checkpoint.header_block_id,
        checkpoint.header_block_id / HEADER_BLOCK_SPACING,
        checkpoint.start,
        checkpoint.end,
        checkpoint.end - checkpoint.start + 1,
        checkpoint.root
    )
}

async fn verify(args: VerifyArgs) -> anyhow::Result<bool> {
    let source = connect(&args.l1).await?;
    let checkpoint = if args.checkpoint == "latest" {
        source.latest().await?.context("L1 has no checkpoint yet")?
    } else {
        let id: u64 = args
            .checkpoint
            .parse()
            .context("the checkpoint is a header-block id (like 96930000) or `latest`")?;
        if id == 0 || !id.is_multiple_of(HEADER_BLOCK_SPACING) {
            bail!("{id} is not a header-block id (those are multiples of {HEADER_BLOCK_SPACING})");
        }
        source
            .get(id)
            .await?
            .with_context(|| format!("L1 has no checkpoint {id}"))?
    };
    println!("{}", describe(&checkpoint));
    let progress = ProgressBar::new(checkpoint.end - checkpoint.start + 1);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} blocks {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let leaves = fetch_leaves(&args.polygon, checkpoint.start, checkpoint.end, &progress).await?;
    progress.finish_and_clear();
    let root = checkpoint_root(&leaves).context("no blocks")?;
    if root == checkpoint.root {
        println!(
            "AGREE: the {} blocks from {} reproduce the L1 root {root:#x}",
            leaves.len(),
            args.polygon
        );
        Ok(true)
    } else {
        println!(
            "DISAGREE: the blocks from {} give root {root:#x}, L1 says {:#x}",
            args.polygon, checkpoint.root
        );
        Ok(false)
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let source = connect(&args.l1).await?;
    let Some(latest) = source.latest().await? else {
        println!("no checkpoints on L1 yet");
        return Ok(());
    };
    println!(
        "{:>12} {:>10} {:>12} {:>12} {:>12}  ROOT",
        "ID", "HEIMDALL#", "START", "END", "CREATED"
    );
    let mut id = latest.header_block_id;
    for _ in 0..args.limit {
        if id == 0 {
            break;
        }
        let Some(checkpoint) = source.get(id).await? else {
            break;
        };
        println!(
            "{:>12} {:>10} {:>12} {:>12} {:>12}  {:#x}",
            checkpoint.header_block_id,
            checkpoint.header_block_id / HEADER_BLOCK_SPACING,
            checkpoint.start,
            checkpoint.end,
            checkpoint.created_at,
            checkpoint.root
        );
        id = id.saturating_sub(HEADER_BLOCK_SPACING);
    }
    Ok(())
}

pub fn execute(command: CheckpointCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match command {
        CheckpointCommand::Verify(args) => {
            if runtime.block_on(verify(args))? {
                Ok(())
            } else {
                bail!("the checkpoint and the blocks disagree")
            }
        }
        CheckpointCommand::List(args) => runtime.block_on(list(args)),
    }
}
