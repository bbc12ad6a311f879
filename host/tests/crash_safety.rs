//! Kill -9 the host at 20 random moments during sync, and once with exactly
//! three backward ranges in flight: after each restart it resumes without
//! re-fetching what it had verified, and the final store equals the devnet's
//! chain.

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

/// A devnet of two-transaction blocks with a checkpoint every 256 blocks,
/// each at most `max_length` long, `prefill` blocks and `upstreams` upstreams.
async fn start_devnet(max_length: u64, prefill: u64, upstreams: usize) -> Devnet {
    Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 256,
            max_length,
            ..CheckpointConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill,
        upstreams,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap()
}

/// Starts a host on `config` in-process and waits until backward sync is
/// done and forward sync has reached `head`.
async fn resume_to_the_end(config: &Config, head: u64) -> Host {
    let host = Host::start(config.clone(), CancellationToken::new())
        .await
        .unwrap();
    let sync = host.sync_status.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !(sync.read().backward_done && sync.read().forward == Some(head)) {
        assert!(
            Instant::now() < deadline,
            "sync did not finish after the kill: {:?}",
            sync.read()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    host
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
    let devnet = start_devnet(1024, 12_000, 2).await;
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
    let host = resume_to_the_end(&config, 12_000).await;
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

/// The REST status of a host on `port`, when it answers.
async fn status(client: &reqwest::Client, port: u16) -> Option<serde_json::Value> {
    let response = client
        .get(format!("http://127.0.0.1:{port}/api/v1/status"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_three_backward_ranges_in_flight_refetches_nothing_verified() {
    let devnet = start_devnet(256, 8_192, 1).await;
    // Slow answers keep every range in flight long enough to be caught.
    devnet
        .faults(0)
        .unwrap()
        .update(|faults| faults.latency = Some(Duration::from_millis(40)));
    let data = tempfile::tempdir().unwrap();
    let mut config = config(&devnet, &data.path().join("data"));
    config.sync.backward.ranges_in_flight = 3;
    let port = free_port();
    config.api.rest.enabled = true;
    config.api.rest.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let file = data.path().join("config.yaml");
    std::fs::write(&file, render_yaml(&config).unwrap()).unwrap();

    let log = std::fs::File::create(data.path().join("run.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["run", "--config", file.to_str().unwrap()])
        .env("HYPASIS_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    // Kill it the moment three ranges are in flight after at least two
    // backward ranges have landed.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let caught = loop {
        assert!(
            Instant::now() < deadline,
            "never saw three ranges in flight"
        );
        if let Some(status) = status(&client, port).await {
            let backward = &status["backward"];
            assert_ne!(backward["done"], true, "backward finished before the kill");
            if backward["ranges_in_flight"] == 3 && backward["blocks"].as_u64() >= Some(3 * 256) {
                break status;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();

    let had = verified(&config).await;
    let verified_blocks: u64 = had.iter().map(|range| range.end - range.start + 1).sum();
    assert!(
        verified_blocks >= 3 * 256,
        "the kill came after backward ranges landed: {had:?} ({caught})"
    );
    let before = devnet.served_full_blocks();

    // Resume in-process to the end.
    let host = resume_to_the_end(&config, 8_192).await;
    host.stop().await.unwrap();
    let after = devnet.served_full_blocks();
    let refetched: Vec<u64> = had
        .iter()
        .flat_map(|range| range.start..=range.end)
        .filter(|number| after.get(number) > before.get(number))
        .collect();
    assert!(
        refetched.is_empty(),
        "{} verified blocks were fetched again after the kill (first: {:?}); verified then: {had:?}",
        refetched.len(),
        &refetched[..refetched.len().min(10)]
    );
    // What was in flight (or not yet started) was fetched after the restart.
    let fetched_after: usize = (0..=8_192u64)
        .filter(|number| after.get(number) > before.get(number))
        .count();
    assert!(fetched_after > 0, "the restart fetched the rest");
    // Checkpoints of 256 blocks cover 0..=8191; the tip waits for the next.
    assert_eq!(
        verified(&config).await,
        vec![BlockRange {
            start: 0,
            end: 8_191
        }]
    );
    devnet.stop().await;
}
