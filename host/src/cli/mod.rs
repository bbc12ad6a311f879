//! Command-line arguments and dispatch. Each subcommand lives in its own module.

mod bench_cmd;
mod bench_p2p;
mod bench_rpc;
mod bench_store;
mod checkpoint_cmd;
mod config_cmd;
mod devnet_cmd;
mod header_cmd;
mod import_cmd;
mod nodekey_cmd;
mod plugins_cmd;
mod run_cmd;
mod serve_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Hypasis Sync: serves verified Polygon PoS blocks to Bor nodes (devp2p)
/// and to people (JSON-RPC, REST), from blocks pulled from upstream RPCs
/// and checked against the checkpoints committed on Ethereum L1.
#[derive(Debug, Parser)]
#[command(name = "hypasis-sync", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the host with a configuration file until SIGINT or SIGTERM.
    Run {
        /// The YAML configuration (see config/config.example.yaml).
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
    /// List or inspect plugin libraries.
    #[command(subcommand)]
    Plugins(plugins_cmd::PluginsCommand),
    /// Create or show the node key behind the enode.
    #[command(subcommand)]
    Nodekey(nodekey_cmd::NodekeyCommand),
    /// Check a configuration file.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Run the embedded devnet: a Bor-format chain served over JSON-RPC, an
    /// L1 with RootChain checkpoints, and Heimdall REST.
    Devnet(Box<devnet_cmd::DevnetArgs>),
    /// Decode a block header.
    #[command(subcommand)]
    Header(header_cmd::HeaderCommand),
    /// Audit L1 checkpoints against a Polygon RPC.
    #[command(subcommand)]
    Checkpoint(checkpoint_cmd::CheckpointCommand),
    /// Import a go-ethereum-format chain (genesis.json + chain.rlp) into a data directory.
    Import(import_cmd::ImportArgs),
    /// Serve a data directory (filled by `import`) over devp2p and the APIs, without syncing.
    Serve(serve_cmd::ServeArgs),
    /// Benchmarks that need a running devnet and host.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Print the version and the plugin ABI version.
    Version,
}

/// Runs the parsed command.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run { config } => run_cmd::run(&config),
        Command::Plugins(command) => plugins_cmd::execute(command),
        Command::Nodekey(command) => nodekey_cmd::execute(command),
        Command::Config(command) => config_cmd::execute(command),
        Command::Devnet(args) => devnet_cmd::run(*args),
        Command::Header(command) => header_cmd::execute(command),
        Command::Checkpoint(command) => checkpoint_cmd::execute(command),
        Command::Bench(command) => bench_cmd::execute(command),
        Command::Import(args) => import_cmd::execute(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Version => {
            println!("hypasis-sync {}", hypasis_sync::VERSION);
            println!("plugin ABI {}", hypasis_plugin_api::ABI_VERSION);
            Ok(())
        }
    }
}
