//! `hypasis-sync serve`: serve a data directory without syncing — the chain
//! `import` put there — over devp2p and the APIs, until SIGINT or SIGTERM.
//! It is the host with no upstream endpoints, so everything `run` serves is
//! served the same way.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use hypasis_sync::config::{self, Config, ConfigEnv};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data directory to serve (filled by `import`).
    #[arg(long)]
    datadir: PathBuf,
    /// Take the other settings from this configuration.
    #[arg(long)]
    config: Option<PathBuf>,
    /// devp2p TCP address; discovery listens on the same UDP port (p2p.listen_addr).
    #[arg(long, value_name = "ADDR")]
    p2p_listen: Option<SocketAddr>,
    /// Do not answer discv4/discv5 (p2p.discovery: false).
    #[arg(long)]
    no_discovery: bool,
    /// Prometheus address (metrics.listen).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// JSON-RPC address (api.rpc.listen).
    #[arg(long, value_name = "ADDR")]
    rpc_listen: Option<SocketAddr>,
    /// REST and status-page address (api.rest.listen).
    #[arg(long, value_name = "ADDR")]
    rest_listen: Option<SocketAddr>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let env = ConfigEnv::from_process();
    let mut config = match &args.config {
        Some(file) => config::load(file, &env)?,
        None => {
            let mut config = Config::default();
            config.storage.plugin = "storage-embedded".into();
            config
        }
    };
    config.storage.data_dir = args.datadir.clone();
    // Serving only: no block source, so no sync.
    config.upstream.endpoints.clear();
    config.sync.forward.enabled = false;
    config.sync.backward.enabled = false;
    if let Some(listen) = args.p2p_listen {
        config.p2p.listen_addr = listen;
    }
    if args.no_discovery {
        config.p2p.discovery = false;
    }
    if let Some(listen) = args.metrics_listen {
        config.metrics.listen = listen;
    }
    if let Some(listen) = args.rpc_listen {
        config.api.rpc.listen = listen;
    }
    if let Some(listen) = args.rest_listen {
        config.api.rest.listen = listen;
    }
    let source = format!("serve {}", args.datadir.display());
    super::run_cmd::run_host(config, &env, &source)
}
