//! `hypasis-sync devnet`: the embedded devnet.

use std::{net::IpAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Args;
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions, script::FaultScript};
use hypasis_sync::{
    config::{Config, LogConfig, ValidationLevelName},
    logging,
};
use tokio_util::sync::CancellationToken;

/// Flags of `hypasis-sync devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Wall-clock time between new blocks (e.g. `2s`, `50ms`).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    block_time: Duration,
    /// Checkpoint lengths are multiples of this many blocks (Heimdall's average length).
    #[arg(long, default_value_t = 256)]
    checkpoint_interval: u64,
    /// Longest checkpoint, in blocks.
    #[arg(long, default_value_t = 1024)]
    checkpoint_max: u64,
    /// How long a finished range waits before its checkpoint goes to L1.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    checkpoint_delay: Duration,
    /// Start with this many blocks already made and checkpointed.
    #[arg(long, default_value_t = 0)]
    prefill: u64,
    /// Seed of every key and value: the same seed makes the same chain.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Validators in the set.
    #[arg(long, default_value_t = 5)]
    validators: usize,
    /// Average transactions per block (mainnet-like is ~100).
    #[arg(long, default_value_t = 8)]
    txs_per_block: u32,
    /// Upstream JSON-RPC endpoints to serve, each with its own faults.
    #[arg(long, default_value_t = 2)]
    upstreams: usize,
    /// A fault script (YAML; see docs/DEVNET.md).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// First port: upstreams, then L1, then Heimdall REST. 0 picks free ports.
    #[arg(long, default_value_t = 8547)]
    port: u16,
    /// Run the devnet alone, without the host syncing from it.
    #[arg(long)]
    no_host: bool,
    /// The host's data directory.
    #[arg(long, default_value = "./data/devnet")]
    datadir: PathBuf,
    /// The host's storage plugin.
    #[arg(long, default_value = "storage-embedded")]
    storage: String,
    /// Forward validation level of the host.
    #[arg(long, default_value = "light")]
    forward_level: ValidationLevelName,
    /// Backward validation level of the host.
    #[arg(long, default_value = "header")]
    backward_level: ValidationLevelName,
    /// Where the host serves Prometheus metrics.
    #[arg(long, default_value = "127.0.0.1:9090")]
    metrics: std::net::SocketAddr,
    /// Where the host serves devp2p (TCP, and discovery on the same UDP port).
    #[arg(long, default_value = "127.0.0.1:30303")]
    p2p_listen: std::net::SocketAddr,
    /// Where the host serves JSON-RPC (HTTP and WebSocket).
    #[arg(long, default_value = "127.0.0.1:8545")]
    rpc_listen: std::net::SocketAddr,
    /// Where the host serves REST and the status page.
    #[arg(long, default_value = "127.0.0.1:8080")]
    rest_listen: std::net::SocketAddr,
    /// HS256 secret for admin tokens; a random one when not given (an admin
    /// token signed with it is printed either way).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
}

/// The host configuration for syncing from `devnet`.
fn host_config(args: &DevnetArgs, devnet: &Devnet) -> Config {
    let mut config = hypasis_sync::devnet_host::config_for(devnet, &args.datadir);
    config.storage.plugin = args.storage.clone();
    config.sync.forward.validation_level = args.forward_level;
    config.sync.backward.validation_level = args.backward_level;
    config.sync.head_poll_interval = args
        .block_time
        .clamp(Duration::from_millis(50), Duration::from_secs(2));
    config.metrics.enabled = true;
    config.metrics.listen = args.metrics;
    config.p2p.enabled = true;
    config.p2p.listen_addr = args.p2p_listen;
    config.api.rpc.enabled = true;
    config.api.rpc.listen = args.rpc_listen;
    config.api.rest.enabled = true;
    config.api.rest.listen = args.rest_listen;
    config.ratelimit.enabled = true;
    config.ratelimit.plugin = "ratelimit-premium".into();
    config
}

/// A random 32-byte secret in hex, for a devnet run without `--jwt-secret`.
fn random_secret() -> String {
    // A fresh secp256k1 secret key is 32 uniformly random bytes.
    let (secret, _) = secp256k1::generate_keypair(&mut secp256k1::rand::rng());
    hex::encode(secret.secret_bytes())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

pub fn run(args: DevnetArgs) -> anyhow::Result<()> {
    logging::init(
        &LogConfig::default(),
        std::env::var("HYPASIS_LOG").ok().as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let script = args.faults.as_deref().map(FaultScript::load).transpose()?;
    let options = DevnetOptions {
        chain: ChainConfig {
            seed: args.seed,
            validators: args.validators,
            txs_per_block: args.txs_per_block,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: args.checkpoint_interval,
            max_length: args.checkpoint_max,
            delay: args.checkpoint_delay,
            ..CheckpointConfig::default()
        },
        block_time: args.block_time,
        prefill: args.prefill,
        upstreams: args.upstreams,
        host: args.host,
        port: args.port,
        script,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let devnet = Devnet::start(options).await?;
        let spec = devnet.spec();
        println!(
            "Hypasis devnet (chain id {}, seed {})",
            spec.chain_id, args.seed
        );
        for (index, url) in devnet.upstream_urls().iter().enumerate() {
            println!(
                "  upstream {index} JSON-RPC   {url}   (WebSocket {})",
                devnet.upstream_ws_urls()[index]
            );
        }
        println!(
            "  L1 JSON-RPC           {}   (chain id {})",
            devnet.l1_url(),
            spec.l1.chain_id
        );
        println!("  RootChain contract    {:#x}", devnet.root_chain());
        println!("  Heimdall REST         {}", devnet.heimdall_url());
        println!(
            "  chain spec            {}/hypasis/chain-spec",
            devnet.heimdall_url()
        );
        if let Some(genesis) = spec.genesis_hash {
            println!("  genesis               {genesis:#x}");
        }
        println!(
            "  head                  {}   (a block every {:?})",
            devnet.head(),
            args.block_time
        );
        let token = CancellationToken::new();
        hypasis_sync::shutdown::cancel_on_signal(token.clone());
        if args.no_host {
            token.cancelled().await;
            devnet.stop().await;
            return anyhow::Ok(());
        }
        let mut config = host_config(&args, &devnet);
        let secret = args.jwt_secret.clone().unwrap_or_else(random_secret);
        let admin_token = hypasis_sync::api::jwt::TokenVerifier::new(&secret).sign(
            &serde_json::json!({"sub": "devnet-admin", "role": "admin", "exp": now_secs() + 86_400}),
        );
        config.api.jwt_secret = secret.as_str().into();
        let data_dir = config.storage.data_dir.clone();
        let levels = (
            config.sync.forward.validation_level,
            config.sync.backward.validation_level,
        );
        let host = match hypasis_sync::app::Host::start(config, token.clone()).await {
            Ok(host) => host,
            Err(error) => {
                token.cancel();
                devnet.stop().await;
                return Err(error.into());
            }
        };
        // The addresses as bound (a port of 0 shows the one picked).
        let api = host.api.as_ref();
        let shown = |addr: Option<std::net::SocketAddr>| {
            addr.map_or_else(|| "off".to_string(), |addr| addr.to_string())
        };
        println!("Hypasis Sync host");
        println!("  data dir              {}", data_dir.display());
        println!(
            "  JSON-RPC              http://{}   (WebSocket ws://…)",
            shown(api.and_then(|api| api.rpc))
        );
        println!(
            "  status page           http://{}/   (REST under /api/v1, /health)",
            shown(api.and_then(|api| api.rest))
        );
        println!(
            "  metrics               http://{}/metrics",
            shown(host.metrics_addr())
        );
        println!(
            "  devp2p                {}",
            host.p2p
                .as_ref()
                .map_or_else(|| "off".to_string(), |p2p| p2p.enode().to_string())
        );
        println!("  admin token (24 h)    {admin_token}");
        println!(
            "  validation            forward {}, backward {}",
            levels.0.as_str(),
            levels.1.as_str()
        );
        token.cancelled().await;
        let result = host.stop().await;
        devnet.stop().await;
        result.map_err(anyhow::Error::from)
    })
}
