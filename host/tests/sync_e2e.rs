//! Bidirectional sync end to end, over real sockets: the devnet serves a
//! chain, the host syncs it with the real plugins (upstream-jsonrpc,
//! storage-embedded, validation levels) and the store is compared with the
//! devnet's chain.

mod common;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use hypasis_devnet::{
    ChainConfig, CheckpointConfig, Devnet, DevnetOptions,
    faults::{Tamper, TamperTarget},
};
use hypasis_plugin_api::{BlockPart, BlockRange};
use hypasis_sync::{
    app::Host,
    config::{Config, ValidationLevelName},
};
use tokio_util::sync::CancellationToken;

async fn devnet(prefill: u64, block_time: Duration, milestone_lag: u64) -> Devnet {
    devnet_with(prefill, block_time, milestone_lag, 256).await
}

async fn devnet_with(
    prefill: u64,
    block_time: Duration,
    milestone_lag: u64,
    checkpoint_interval: u64,
) -> Devnet {
    Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: checkpoint_interval,
            max_length: 1024,
            milestone_lag,
            ..CheckpointConfig::default()
        },
        block_time,
        prefill,
        upstreams: 2,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap()
}

fn config(
    devnet: &Devnet,
    data_dir: &Path,
    forward: ValidationLevelName,
    backward: ValidationLevelName,
) -> Config {
    let mut config = hypasis_sync::devnet_host::config_for(devnet, data_dir);
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config.sync.forward.validation_level = forward;
    config.sync.backward.validation_level = backward;
    config.sync.forward.batch_size = 512;
    config
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every block `0..=head` is stored, canonical, verified, and byte-identical to the devnet's.
fn assert_store_matches(host: &Host, devnet: &Devnet, head: u64) {
    let storage = &host.plugins.storage;
    let verified = storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap();
    assert_eq!(
        verified,
        vec![BlockRange::new(0, head)],
        "verified coverage"
    );
    let chain = devnet.chain();
    let chain = chain.read();
    let numbers: Vec<u64> = (0..=head).collect();
    for chunk in numbers.chunks(1024) {
        let hashes = storage.canonical_hashes(chunk).unwrap();
        let hashes: Vec<[u8; 32]> = hashes
            .into_iter()
            .map(|hash| hash.expect("every block is stored"))
            .collect();
        for (number, hash) in chunk.iter().zip(&hashes) {
            assert_eq!(
                B256::from(*hash),
                chain.by_number(*number).unwrap().hash,
                "block {number}"
            );
        }
        let headers = storage.parts(BlockPart::Header, &hashes).unwrap();
        let bodies = storage.parts(BlockPart::Body, &hashes).unwrap();
        let receipts = storage.parts(BlockPart::Receipts, &hashes).unwrap();
        let state_syncs = storage.parts(BlockPart::StateSync, &hashes).unwrap();
        for (index, number) in chunk.iter().enumerate() {
            let block = chain.by_number(*number).unwrap();
            assert_eq!(
                headers[index]
                    .as_ref()
                    .into_option()
                    .map(|bytes| bytes.as_slice()),
                Some(block.header_rlp.as_ref()),
                "header {number}"
            );
            assert_eq!(
                bodies[index]
                    .as_ref()
                    .into_option()
                    .map(|bytes| bytes.as_slice()),
                Some(block.body_rlp.as_ref()),
                "body {number}"
            );
            assert_eq!(
                receipts[index]
                    .as_ref()
                    .into_option()
                    .map(|bytes| bytes.as_slice()),
                Some(block.receipts_rlp.as_ref()),
                "receipts {number}"
            );
            assert_eq!(
                state_syncs[index]
                    .as_ref()
                    .into_option()
                    .map(|bytes| bytes.to_vec()),
                block.bor_receipt.as_ref().map(|bor| bor.rlp.to_vec()),
                "state sync {number}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_directions_meet_over_a_50000_block_chain() {
    let devnet = devnet(50_000, Duration::from_secs(3600), 16).await;
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();
    let host = Host::start(
        config(
            &devnet,
            data.path(),
            ValidationLevelName::Light,
            ValidationLevelName::Header,
        ),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let status = Arc::clone(host.sync_status.as_ref().unwrap());
    wait_until(
        "both directions to finish",
        Duration::from_secs(900),
        || {
            let status = status.read();
            status.backward_done && status.forward == Some(50_000)
        },
    )
    .await;
    // Checkpoints only reach the last multiple of 256; the milestones confirm the rest.
    wait_until(
        "the tip to be confirmed by a milestone",
        Duration::from_secs(60),
        || {
            host.plugins
                .storage
                .intervals(hypasis_plugin_api::Namespace::Chain, "unconfirmed")
                .unwrap()
                .iter()
                .all(|range| range.start > 50_000 - 16)
        },
    )
    .await;
    let confirmed_head = host
        .plugins
        .storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap()
        .last()
        .unwrap()
        .end;
    assert!(confirmed_head >= 50_000 - 16 - 8);
    assert_store_matches(&host, &devnet, confirmed_head);
    host.stop().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_upstream_is_caught_and_sync_completes_from_the_honest_one() {
    let devnet = devnet(3_000, Duration::from_secs(3600), 16).await;
    // Endpoints are ranked by score, ties going to the first listed. The liar
    // is listed first and the honest one answers 100 ms late, so the liar is
    // preferred until it is caught: its lies are always put to the test.
    let liar = devnet.faults(0).unwrap();
    devnet
        .faults(1)
        .unwrap()
        .update(|settings| settings.latency = Some(Duration::from_millis(100)));
    let with_txs = |from: u64| {
        let chain = devnet.chain();
        let chain = chain.read();
        (from..)
            .find(|n| {
                chain.by_number(*n).is_some_and(|b| {
                    !b.txs.is_empty() && b.receipts.iter().any(|r| !r.logs.is_empty())
                })
            })
            .unwrap()
    };
    let (a, b, c, d, e) = (
        with_txs(300),
        with_txs(900),
        with_txs(1500),
        with_txs(2100),
        with_txs(2600),
    );
    let log_index = |number: u64| {
        devnet
            .chain()
            .read()
            .by_number(number)
            .unwrap()
            .receipts
            .iter()
            .position(|r| !r.logs.is_empty())
            .unwrap()
    };
    liar.update(|settings| {
        settings.tamper = vec![
            Tamper {
                block: a,
                target: TamperTarget::Header {
                    field: "timestamp".into(),
                },
                rehash: true,
            },
            Tamper {
                block: b,
                target: TamperTarget::Transaction { index: 0 },
                rehash: false,
            },
            Tamper {
                block: c,
                target: TamperTarget::Receipt { index: 0 },
                rehash: false,
            },
            Tamper {
                block: d,
                target: TamperTarget::Log {
                    index: log_index(d),
                },
                rehash: false,
            },
            Tamper {
                block: e,
                target: TamperTarget::Header {
                    field: "parentHash".into(),
                },
                rehash: true,
            },
        ]
    });
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();
    let host = Host::start(
        config(
            &devnet,
            data.path(),
            ValidationLevelName::Light,
            ValidationLevelName::Light,
        ),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let status = Arc::clone(host.sync_status.as_ref().unwrap());
    wait_until("sync to complete", Duration::from_secs(300), || {
        let status = status.read();
        status.backward_done && status.forward == Some(3_000)
    })
    .await;
    let upstream = host.plugins.upstream.as_ref().unwrap();
    let endpoints = upstream.endpoints();
    assert!(
        status.read().rejected_batches > 0,
        "the liar's batches were rejected: {endpoints:?}"
    );
    // Endpoint names are the redacted URLs: host and port without the scheme.
    let listed = |index: usize| {
        let address = devnet.upstream_urls()[index].replace("http://", "");
        endpoints
            .iter()
            .find(|endpoint| endpoint.name.as_str().contains(&address))
            .expect("the endpoint is listed")
    };
    let (liar_endpoint, honest_endpoint) = (listed(0), listed(1));
    assert!(
        liar_endpoint.faults > 0,
        "the liar's faults were counted: {endpoints:?}"
    );
    assert!(liar_endpoint.score < honest_endpoint.score, "{endpoints:?}");
    wait_until("the tip to be confirmed", Duration::from_secs(60), || {
        host.plugins
            .storage
            .intervals(hypasis_plugin_api::Namespace::Chain, "unconfirmed")
            .unwrap()
            .iter()
            .all(|range| range.start > 3_000 - 16)
    })
    .await;
    let confirmed_head = host
        .plugins
        .storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap()
        .last()
        .unwrap()
        .end;
    assert_store_matches(&host, &devnet, confirmed_head);
    host.stop().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_down_then_back_and_a_reorg_at_the_tip() {
    // Checkpoints every 1,024 blocks: the next one after 1,023 is far off,
    // so a 40-block reorg at the tip stays above every checkpoint.
    let devnet = devnet_with(1_200, Duration::from_millis(200), 80, 1_024).await;
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();
    let host = Host::start(
        config(
            &devnet,
            data.path(),
            ValidationLevelName::Light,
            ValidationLevelName::Header,
        ),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let status = Arc::clone(host.sync_status.as_ref().unwrap());
    wait_until("forward to catch up", Duration::from_secs(120), || {
        status.read().forward_done
    })
    .await;

    // Every upstream down: the host waits and says so.
    for index in 0..2 {
        devnet
            .faults(index)
            .unwrap()
            .update(|settings| settings.drop_rate = 1.0);
    }
    wait_until(
        "the host to report the upstreams unhealthy",
        Duration::from_secs(60),
        || !status.read().upstream_healthy,
    )
    .await;
    for index in 0..2 {
        devnet.faults(index).unwrap().clear();
    }
    wait_until("recovery", Duration::from_secs(60), || {
        status.read().upstream_healthy && status.read().forward_done
    })
    .await;

    // A reorg of 40 blocks at the tip: the store follows the new chain.
    devnet.set_growing(false);
    let head = devnet.head();
    wait_until(
        "the host to reach the head",
        Duration::from_secs(60),
        || status.read().forward == Some(head),
    )
    .await;
    let new_head = devnet.reorg(40).unwrap();
    wait_until(
        "the host to follow the reorg",
        Duration::from_secs(60),
        || status.read().forward == Some(new_head.number()),
    )
    .await;
    assert!(status.read().reorgs >= 1);
    // The metrics say what happened.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = host.metrics.render();
    for name in [
        "hypasis_forward_sync_blocks_total",
        "hypasis_backward_sync_blocks_total",
        "hypasis_upstream_requests_total{endpoint=",
        "hypasis_upstream_errors_total{endpoint=",
        "hypasis_verified_blocks ",
        "hypasis_errors_total{kind=\"forward\"}",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    let chain = devnet.chain();
    for number in head - 45..=new_head.number() {
        let stored = host.plugins.storage.canonical_hashes(&[number]).unwrap()[0].map(B256::from);
        assert_eq!(
            stored,
            Some(chain.read().by_number(number).unwrap().hash),
            "block {number} after the reorg"
        );
    }
    host.stop().await.unwrap();
    devnet.stop().await;
}

/// With `none` in both directions nothing is confirmed by validation, yet
/// sync anchors at the newest checkpoint, both directions finish, and every
/// block stored is the devnet's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level_none_anchors_and_syncs_both_directions() {
    let devnet = devnet(3_000, Duration::from_secs(3600), 16).await;
    let data = tempfile::tempdir().unwrap();
    let host = Host::start(
        config(
            &devnet,
            data.path(),
            ValidationLevelName::None,
            ValidationLevelName::None,
        ),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let status = Arc::clone(host.sync_status.as_ref().unwrap());
    wait_until(
        "both directions to finish",
        Duration::from_secs(300),
        || {
            let status = status.read();
            status.backward_done && status.forward == Some(3_000)
        },
    )
    .await;
    assert!(status.read().anchor.is_some_and(|anchor| anchor < 3_000));
    let numbers: Vec<u64> = (0..=3_000).collect();
    let hashes = host.plugins.storage.canonical_hashes(&numbers).unwrap();
    let chain = devnet.chain();
    let expected: Vec<B256> = {
        let chain = chain.read();
        numbers
            .iter()
            .map(|number| chain.by_number(*number).unwrap().hash)
            .collect()
    };
    for ((number, hash), expected) in numbers.iter().zip(hashes).zip(expected) {
        let hash = hash.map(B256::from);
        assert_eq!(hash, Some(expected), "block {number}");
    }
    host.stop().await.unwrap();
    devnet.stop().await;
}
