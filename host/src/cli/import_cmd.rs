//! `hypasis-sync import`: load a go-ethereum-format chain (genesis.json +
//! chain.rlp), executing every block to derive and check its receipts, into
//! the store, with its chain spec, so `serve` can serve it.

use std::path::PathBuf;

use abi_stable::std_types::ROption;
use anyhow::Context;
use clap::Args;
use hypasis_plugin_api::{BlockRange, Namespace, RawBlock, WriteBatch};
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
    /// The chain's genesis.json (go-ethereum format).
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
    let imported = hypasis_import::import_files(&args.genesis, &args.chain)?;
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
    runtime.block_on(async move {
        let storage = PluginLoader::from_config(&config).storage(&config)?;
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
            "imported {} blocks (head {} {:#x}, chain id {}) into {}",
            served.head_number + 1,
            served.head_number,
            served.head_hash,
            served.spec.chain_id,
            args.datadir.display()
        );
        anyhow::Ok(())
    })
}
