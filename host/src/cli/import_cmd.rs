//! `hypasis-sync import`: load a chain (genesis.json in go-ethereum's or
//! Bor's format + chain.rlp), executing every block to derive and check its
//! receipts, into the store, with its chain spec, so `serve` can serve it.

use std::path::PathBuf;

use abi_stable::std_types::ROption;
use anyhow::Context;
use clap::Args;
use hypasis_plugin_api::{BlockRange, Namespace, RawBlock, WriteBatch};
use hypasis_polygon::spec::ForkIdRules;
use hypasis_sync::{
    chain_state::VERIFIED,
    config::{self, Config, ConfigEnv},
    plugins::PluginLoader,
    served_chain::{SERVED_CHAIN_KEY, ServedChain},
    store_records::{interval_change, meta_set},
    sync::SENDERS,
};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The chain's genesis.json (go-ethereum's format, or Bor's with
    /// block-numbered forks and a `bor` section).
    #[arg(long)]
    genesis: PathBuf,
    /// The chain's blocks, concatenated RLP (`geth export` format).
    #[arg(long)]
    chain: PathBuf,
    /// The data directory to import into.
    #[arg(long)]
    datadir: PathBuf,
    /// Take storage and plugin settings from this configuration.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Whose fork-id rules the chain's peers follow: `bor` (block forks
    /// only, as a Bor node computes it from any genesis) or `ethereum`
    /// (go-ethereum's: block and timestamp forks). Default: `bor` for a
    /// Bor-format genesis, `ethereum` for a go-ethereum one.
    #[arg(long, value_name = "RULES", value_parser = parse_fork_id_rules)]
    fork_id_rules: Option<ForkIdRules>,
}

fn parse_fork_id_rules(text: &str) -> Result<ForkIdRules, String> {
    match text {
        "bor" => Ok(ForkIdRules::Bor),
        "ethereum" => Ok(ForkIdRules::Ethereum),
        other => Err(format!("{other:?}: expected `bor` or `ethereum`")),
    }
}

pub fn execute(args: ImportArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(file) => config::load(file, &ConfigEnv::from_process())?,
        None => {
            let mut config = Config::default();
            config.storage.plugin = "storage-embedded".into();
            config
        }
    };
    config.storage.data_dir = args.datadir.clone();
    eprintln!("executing {} ...", args.chain.display());
    let mut imported = hypasis_import::import_files(&args.genesis, &args.chain)?;
    if let Some(rules) = args.fork_id_rules {
        imported.spec.fork_id_rules = rules;
    }
    let head = imported.head().context("the chain has no blocks")?;
    let served = ServedChain {
        spec: imported.spec.clone(),
        head_number: head.number,
        head_hash: head.hash,
        head_total_difficulty: head.total_difficulty,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Before the store opens: a refused data dir stays byte for byte.
    hypasis_sync::chain_identity::check_before_open(&config.storage.data_dir, &served.spec)?;
    runtime.block_on(async move {
        let storage = PluginLoader::from_config(&config).storage(&config)?;
        // Refuse a data dir of another chain before writing anything.
        hypasis_sync::chain_identity::bind(&storage, &config.storage.data_dir, &served.spec)
            .await?;
        for chunk in imported.blocks.chunks(256) {
            // Execution recovered every sender: they are stored with the blocks.
            let blocks: Vec<RawBlock> = chunk
                .iter()
                .map(|block| RawBlock {
                    number: block.number,
                    hash: block.hash.0,
                    header: block.header.to_vec().into(),
                    body: ROption::RSome(block.body.to_vec().into()),
                    receipts: ROption::RSome(block.receipts.to_vec().into()),
                    state_sync: ROption::RNone,
                    tx_hashes: block.tx_hashes.iter().map(|hash| hash.0).collect(),
                    senders: block.senders.iter().map(|sender| sender.0.0).collect(),
                    ext: Default::default(),
                })
                .collect();
            let range = BlockRange::new(chunk[0].number, chunk[chunk.len() - 1].number);
            storage
                .write(WriteBatch {
                    blocks: blocks.into(),
                    intervals: vec![
                        interval_change(VERIFIED, vec![range], Vec::new()),
                        interval_change(SENDERS, vec![range], Vec::new()),
                    ]
                    .into(),
                    ..Default::default()
                })
                .await?;
        }
        storage
            .write(WriteBatch {
                meta: vec![meta_set(
                    Namespace::Chain,
                    SERVED_CHAIN_KEY,
                    serde_json::to_vec(&served)?,
                )]
                .into(),
                ..Default::default()
            })
            .await?;
        storage.shutdown().await?;
        println!(
            "imported {} blocks (head {} {:#x}, chain id {}, {:?} fork-id rules) into {}",
            served.head_number + 1,
            served.head_number,
            served.head_hash,
            served.spec.chain_id,
            served.spec.fork_id_rules,
            args.datadir.display()
        );
        anyhow::Ok(())
    })
}
