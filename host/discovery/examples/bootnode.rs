//! A standalone discv4 (+ optional discv5) bootnode, for trying the crate out
//! and for running go-ethereum's `devp2p discv4 test` against it.
//!
//! ```text
//! cargo run -p hypasis-discovery --example bootnode -- \
//!     [--listen 127.0.0.1:30301] [--key <64 hex>] [--external-ip IP] \
//!     [--bootnodes enode://…,enr:…] [--v5]
//! ```
//!
//! Prints `enode: …` and `enr: …` lines, then runs until Ctrl-C. Logs go to
//! stderr (`RUST_LOG=hypasis_discovery=trace` for every packet).

use std::{net::SocketAddr, process::ExitCode};

use hypasis_discovery::{Discovery, DiscoveryConfig, ForkId};
use secp256k1::SecretKey;
use tokio_util::sync::CancellationToken;

struct Args {
    listen: SocketAddr,
    key: SecretKey,
    external_ip: Option<std::net::IpAddr>,
    bootnodes: Vec<String>,
    v5: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:30301".parse().map_err(|e| format!("{e}"))?,
        key: SecretKey::new(&mut rand::rng()),
        external_ip: None,
        bootnodes: Vec::new(),
        v5: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => args.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--key" => {
                let bytes: [u8; 32] = hex::decode(value()?.trim_start_matches("0x"))
                    .map_err(|e| format!("--key: {e}"))?
                    .try_into()
                    .map_err(|_| "--key: need 32 bytes".to_string())?;
                args.key = SecretKey::from_byte_array(bytes).map_err(|e| format!("--key: {e}"))?;
            }
            "--external-ip" => {
                args.external_ip = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--external-ip: {e}"))?,
                )
            }
            "--bootnodes" => {
                args.bootnodes = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            "--v5" => args.v5 = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hypasis_discovery=info".into()),
        )
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("bootnode: {error}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    let config = DiscoveryConfig {
        key: args.key,
        listen: args.listen,
        external_ip: args.external_ip,
        tcp_port: args.listen.port(),
        bootnodes: args.bootnodes,
        // Polygon mainnet's current fork id (hash 0x22d523b2, no next fork).
        fork_id: ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0)),
        enable_v5: args.v5,
    };
    let discovery = match Discovery::start(config, shutdown.clone()).await {
        Ok(discovery) => discovery,
        Err(error) => {
            eprintln!("bootnode: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("enode: {}", discovery.enode_url());
    println!("enr: {}", discovery.local_enr().to_base64());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("bootnode: waiting for Ctrl-C: {error}");
    }
    shutdown.cancel();
    discovery.stopped().await;
    ExitCode::SUCCESS
}
