//! `hypasis-sync nodekey generate|show`.

use std::{net::IpAddr, path::PathBuf};

use clap::Subcommand;
use hypasis_sync::nodekey::NodeKey;

#[derive(Debug, Subcommand)]
pub enum NodekeyCommand {
    /// Create a node key in the data directory (refuses to replace one).
    Generate {
        /// The data directory (storage.data_dir).
        #[arg(long, default_value = "./data")]
        datadir: PathBuf,
        /// Replace an existing key; the enode changes.
        #[arg(long)]
        force: bool,
    },
    /// Print the enode URL of the data directory's node key.
    Show {
        /// The data directory (storage.data_dir).
        #[arg(long, default_value = "./data")]
        datadir: PathBuf,
        /// The IP to put in the URL.
        #[arg(long, default_value = "127.0.0.1")]
        ip: IpAddr,
        /// The TCP (and UDP) port.
        #[arg(long, default_value_t = 30303)]
        port: u16,
    },
}

pub fn execute(command: NodekeyCommand) -> anyhow::Result<()> {
    match command {
        NodekeyCommand::Generate { datadir, force } => {
            let key = NodeKey::generate(&datadir, force)?;
            eprintln!("wrote {}", NodeKey::path(&datadir).display());
            println!("{}", hex::encode(key.node_id()));
            Ok(())
        }
        NodekeyCommand::Show { datadir, ip, port } => {
            let key = NodeKey::load(&datadir)?;
            println!("{}", key.enode_url(ip, port, port));
            Ok(())
        }
    }
}
