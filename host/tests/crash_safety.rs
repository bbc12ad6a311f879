//! Kill -9 the host at 20 random moments during sync: after each restart it
//! resumes without re-fetching what it had verified, and the final store
//! equals the devnet's chain.

mod common;

use std::{
    collections::HashMap,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_plugin_api::BlockRange;
use hypasis_sync::{
    app::Host,
    config::{Config, render_yaml},
    plugins::PluginLoader,
};
use tokio_util::sync::CancellationToken;

fn config(devnet: &Devnet, data_dir: &Path) -> Config {
    let mut config = hypasis_sync::devnet_host::config_for(devnet, data_dir);
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config
}

/// The verified intervals of a stopped host's store.
async fn verified(config: &Config) -> Vec<BlockRange> {
    let loader = PluginLoader::from_config(config);
    let storage = loader.storage(config).unwrap();
    let verified = storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap();
    storage.shutdown().await.unwrap();
    verified
}

fn pseudo_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_twenty_moments_then_resume() {
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 256,
            max_length: 1024,
            ..CheckpointConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill: 12_000,
        upstreams: 2,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = config(&devnet, &data.path().join("data"));
    let file = data.path().join("config.yaml");
    std::fs::write(&file, render_yaml(&config).unwrap()).unwrap();

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut refetched: Vec<(u64, u32)> = Vec::new();
    for kill in 0..20 {
        let before: HashMap<u64, u32> = devnet.served_full_blocks();
        let had = verified(&config).await;
        // Each run's log is kept to explain a failure.
        let log = std::fs::File::create(data.path().join(format!("run-{kill}.log"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
            .args(["run", "--config", file.to_str().unwrap()])
            .env("HYPASIS_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(300 + pseudo_random(&mut seed) % 2_500);
        tokio::time::sleep(delay).await;
        let killed = Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "kill {kill}");
        let _ = child.wait();
        // Nothing verified before this run was fetched again by it.
        let after = devnet.served_full_blocks();
        for range in &had {
            for number in range.start..=range.end {
                let (was, now) = (
                    before.get(&number).copied().unwrap_or(0),
                    after.get(&number).copied().unwrap_or(0),
                );
                if now > was {
                    refetched.push((number, kill));
                }
            }
        }
        // The store opens after every kill.
        let _ = verified(&config).await;
    }
    if let Some((number, kill)) = refetched.first() {
        let log = std::fs::read_to_string(data.path().join(format!("run-{kill}.log")))
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        panic!(
            "verified blocks were fetched again after a restart (first: block {number} in run {kill}): {:?}\nthat run's log, newest last:\n{}",
            &refetched[..refetched.len().min(20)],
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    // Resume to the end in-process and compare with the devnet's chain.
    let shutdown = CancellationToken::new();
    let host = Host::start(config.clone(), shutdown.clone()).await.unwrap();
    let status = host.sync_status.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !(status.read().backward_done && status.read().forward == Some(12_000)) {
        assert!(
            Instant::now() < deadline,
            "sync did not finish after the restarts: {:?}",
            status.read()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let chain = devnet.chain();
    let numbers: Vec<u64> = (0..=12_000).collect();
    for chunk in numbers.chunks(2048) {
        let hashes = host.plugins.storage.canonical_hashes(chunk).unwrap();
        for (number, hash) in chunk.iter().zip(hashes) {
            assert_eq!(
                hash.map(B256::from),
                Some(chain.read().by_number(*number).unwrap().hash),
                "block {number}"
            );
        }
    }
    host.stop().await.unwrap();
    devnet.stop().await;
}
