//! The L1 checkpoint source and the Heimdall source against a running devnet.

mod common;

use std::time::Duration;

use alloy_primitives::Address;
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_polygon::ChainSpec;
use hypasis_sync::{
    chain_state::ChainState,
    checkpoints::{
        CheckpointTracker, HeimdallError, HeimdallSource, L1CheckpointSource, L1Error,
        PollIntervals,
    },
    plugins::PluginLoader,
};
use tokio_util::sync::CancellationToken;

async fn devnet(prefill: u64, block_time: Duration) -> Devnet {
    Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 1,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 64,
            max_length: 256,
            ..CheckpointConfig::default()
        },
        block_time,
        prefill,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_checkpoints_and_refuses_the_wrong_l1_or_contract() {
    let devnet = devnet(700, Duration::from_secs(3600)).await;
    let heimdall = HeimdallSource::new(&devnet.heimdall_url(), Duration::from_secs(5));
    let spec = heimdall.devnet_chain_spec().await.unwrap();
    assert_eq!(spec.l1.root_chain, devnet.root_chain());

    let source = L1CheckpointSource::connect(&devnet.l1_url(), &spec, None, 0)
        .await
        .unwrap();
    let latest = source
        .latest()
        .await
        .unwrap()
        .expect("prefill posted checkpoints");
    // 701 blocks in checkpoints of up to 256, in multiples of 64: 0..=255, 256..=511, 512..=639.
    assert_eq!(
        (latest.header_block_id, latest.start, latest.end),
        (30_000, 512, 639)
    );
    let first = source.get(10_000).await.unwrap().unwrap();
    assert_eq!((first.start, first.end), (0, 255));
    assert_eq!(source.get(90_000).await.unwrap(), None);
    assert_eq!(
        source
            .covering(300, &latest)
            .await
            .unwrap()
            .map(|c| c.header_block_id),
        Some(20_000)
    );
    assert_eq!(source.covering(700, &latest).await.unwrap(), None);
    let logged = source
        .from_logs(0, source.confirmed_block().await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        logged.iter().map(|c| c.header_block_id).collect::<Vec<_>>(),
        vec![10_000, 20_000, 30_000]
    );
    assert_eq!(logged[2].root, latest.root);

    // Heimdall agrees with L1.
    let heimdall_checkpoint = heimdall.latest_checkpoint().await.unwrap();
    assert_eq!(
        (heimdall_checkpoint.id * 10_000, heimdall_checkpoint.root),
        (latest.header_block_id, latest.root)
    );
    let milestone = heimdall.latest_milestone().await.unwrap();
    assert_eq!(
        milestone.hash,
        devnet.chain().read().by_number(milestone.end).unwrap().hash
    );
    assert!(matches!(
        heimdall.span(999).await,
        Err(HeimdallError::NotFound { .. })
    ));

    // A confirmation depth hides the newest checkpoints.
    let deep = L1CheckpointSource::connect(&devnet.l1_url(), &spec, None, 1_000)
        .await
        .unwrap();
    assert_eq!(deep.latest().await.unwrap(), None);

    // The wrong L1, the wrong address, the wrong chain's contract.
    let error = L1CheckpointSource::connect(&devnet.l1_url(), &ChainSpec::mainnet(), None, 0)
        .await
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "L1 at {} has chain id 1337, but chain `mainnet` checkpoints on L1 chain id 1",
            devnet.l1_url()
        )
    );
    let nowhere = Address::repeat_byte(0x42);
    let error = L1CheckpointSource::connect(&devnet.l1_url(), &spec, Some(nowhere), 0)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, L1Error::NoContract { .. }), "{error}");
    let mut other_chain = spec.clone();
    other_chain.chain_id = 80_002;
    let error = L1CheckpointSource::connect(&devnet.l1_url(), &other_chain, None, 0)
        .await
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "the contract at {:#x} is not a RootChain for bor chain 80002: its CHAINID() is 137137",
            devnet.root_chain()
        )
    );
    devnet.stop().await;
}

/// A tracker over the devnet's L1, with checkpoints cached in a memory store.
fn tracker(
    source: L1CheckpointSource,
    spec: &ChainSpec,
    data: &std::path::Path,
) -> std::sync::Arc<CheckpointTracker> {
    tracker_over(source, spec, memory_store(data))
}

/// A tracker caching in `storage`.
fn tracker_over(
    source: L1CheckpointSource,
    spec: &ChainSpec,
    storage: std::sync::Arc<hypasis_sync::plugins::StoragePlugin>,
) -> std::sync::Arc<CheckpointTracker> {
    let state = ChainState::fixed(std::sync::Arc::new(spec.clone()), None);
    CheckpointTracker::new(state, Some(source), None, storage)
}

fn memory_store(data: &std::path::Path) -> std::sync::Arc<hypasis_sync::plugins::StoragePlugin> {
    let loader = PluginLoader::new(common::built_in_plugin_dir(), data.to_path_buf(), 1);
    let config = hypasis_sync::config::parse(
        "storage:\n  plugin: storage-memory\n",
        std::path::Path::new("test.yaml"),
        &hypasis_sync::config::ConfigEnv::default(),
    )
    .unwrap();
    std::sync::Arc::new(loader.storage(&config).unwrap())
}

/// Backward sync caches old checkpoints after the newest: a restarted
/// tracker must still find the newest ones (it once took the last cached
/// as the newest on L1, said no checkpoint covered the blocks above it,
/// and sync fetched them by another route, then again with their checkpoint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_old_checkpoints_keeps_the_newest_known_after_a_restart() {
    let devnet = devnet(700, Duration::from_secs(3600)).await;
    let spec = HeimdallSource::new(&devnet.heimdall_url(), Duration::from_secs(5))
        .devnet_chain_spec()
        .await
        .unwrap();
    let l1_url = devnet.l1_url();
    let connect = || L1CheckpointSource::connect(&l1_url, &spec, None, 0);
    let data = tempfile::tempdir().unwrap();
    let storage = memory_store(data.path());
    let first = tracker_over(
        connect().await.unwrap(),
        &spec,
        std::sync::Arc::clone(&storage),
    );
    assert_eq!(
        first.refresh_l1().await.unwrap().unwrap().header_block_id,
        30_000
    );
    let old = first.covering(100).await.unwrap().unwrap();
    assert_eq!(old.header_block_id, 10_000);

    // Restarted: nothing polled yet, only the cache.
    let restarted = tracker_over(
        connect().await.unwrap(),
        &spec,
        std::sync::Arc::clone(&storage),
    );
    assert_eq!(
        restarted
            .newest()
            .map(|checkpoint| checkpoint.header_block_id),
        Some(30_000),
        "the cache's newest checkpoint went down when an older one was cached"
    );
    assert_eq!(
        restarted
            .covering(600)
            .await
            .unwrap()
            .map(|c| c.header_block_id),
        Some(30_000)
    );
    // Known checkpoints that stop below a number do not mean L1 has none.
    let empty = tracker(connect().await.unwrap(), &spec, data.path());
    assert_eq!(
        empty
            .covering(300)
            .await
            .unwrap()
            .map(|c| c.header_block_id),
        Some(20_000)
    );
    assert_eq!(empty.covering(700).await.unwrap(), None);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_sees_new_checkpoints_and_survives_an_l1_outage() {
    let devnet = devnet(100, Duration::from_millis(20)).await;
    let spec = HeimdallSource::new(&devnet.heimdall_url(), Duration::from_secs(5))
        .devnet_chain_spec()
        .await
        .unwrap();
    let source = L1CheckpointSource::connect(&devnet.l1_url(), &spec, None, 0)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let tracker = tracker(source, &spec, data.path());
    let mut finalized = tracker.state().watch().subscribe_finalized();
    let shutdown = CancellationToken::new();
    let intervals = PollIntervals {
        l1: Duration::from_millis(50),
        heimdall: Duration::from_secs(3600),
    };
    let poller = tokio::spawn(std::sync::Arc::clone(&tracker).run(intervals, shutdown.clone()));
    // Each new checkpoint is an event on the chain state's `finalized` channel.
    let mut ids = Vec::new();
    while ids.len() < 3 {
        tokio::time::timeout(Duration::from_secs(60), finalized.changed())
            .await
            .expect("new checkpoints arrive")
            .unwrap();
        let newest = finalized.borrow_and_update().clone().unwrap();
        ids.push(newest.header_block_id);
    }
    assert!(ids.windows(2).all(|pair| pair[1] > pair[0]), "{ids:?}");
    assert!(tracker.state().checkpoint_count() >= 3);
    shutdown.cancel();
    poller.await.unwrap();

    // Against a dead L1 the tracker keeps retrying and stops on shutdown.
    devnet.stop().await;
    let before = tracker.state().checkpoint_count();
    let shutdown = CancellationToken::new();
    let intervals = PollIntervals {
        l1: Duration::from_millis(10),
        heimdall: Duration::from_secs(3600),
    };
    let poller = tokio::spawn(std::sync::Arc::clone(&tracker).run(intervals, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poller.is_finished());
    assert_eq!(tracker.state().checkpoint_count(), before);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), poller)
        .await
        .expect("stops on shutdown")
        .unwrap();
}

/// The host asks L1 for its newest checkpoint once per `l1.poll_interval`
/// and Heimdall for its newest milestone once per `heimdall.poll_interval`,
/// however many batches sync writes meanwhile (one tracker for all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syncing_host_polls_l1_and_heimdall_once_per_interval() {
    let devnet = devnet(300, Duration::from_millis(100)).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = hypasis_sync::devnet_host::config_for(&devnet, data.path());
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config.l1.poll_interval = Duration::from_secs(3);
    config.heimdall.poll_interval = Duration::from_secs(2);
    config.sync.forward.batch_size = 16;
    let shutdown = CancellationToken::new();
    let host = hypasis_sync::app::Host::start(config, shutdown.clone())
        .await
        .unwrap();
    // Past the anchor and start-up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = devnet.calls();
    let (l1_before, heimdall_before, forward_before) = (
        calls.l1_latest_checkpoint(),
        calls.heimdall_ending("milestones/latest"),
        host.sync_status.as_ref().unwrap().read().forward_blocks,
    );
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let l1 = calls.l1_latest_checkpoint() - l1_before;
    let heimdall = calls.heimdall_ending("milestones/latest") - heimdall_before;
    let forward = host.sync_status.as_ref().unwrap().read().forward_blocks - forward_before;
    // Sync kept writing batches (at 16 blocks, far more than there were polls).
    assert!(forward >= 100, "forward sync stored only {forward} blocks");
    let expected_l1 = elapsed / 3.0;
    let expected_heimdall = elapsed / 2.0;
    assert!(
        (l1 as f64 - expected_l1).abs() <= 2.0,
        "{l1} L1 checkpoint polls in {elapsed:.1} s at a 3 s interval"
    );
    assert!(
        (heimdall as f64 - expected_heimdall).abs() <= 2.0,
        "{heimdall} Heimdall milestone polls in {elapsed:.1} s at a 2 s interval"
    );
    shutdown.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}
