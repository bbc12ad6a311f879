//! Misbehaving endpoints: fetches still succeed from the honest one, and the
//! bad one's score and health show it.

use std::time::Duration;

use hypasis_devnet::faults::{FaultSettings, Tamper, TamperTarget};
use hypasis_plugin_sdk::{ErrorKind, UpstreamSource, api::FaultKind};

use crate::common::{
    assert_identical, devnet, devnet_on, everything, quick_options, status, upstream,
    upstream_with_timeout,
};

const STILL: Duration = Duration::from_secs(3600);

/// Sets endpoint 0's faults and fetches a range: it must come from endpoint
/// 1, byte for byte, and leave endpoint 0 with a lower score.
async fn bad_first_endpoint(settings: FaultSettings, request_timeout_ms: u64) {
    let devnet = devnet(120, 2, STILL).await;
    devnet.set_growing(false);
    devnet.faults(0).unwrap().set(settings.clone());
    let urls = devnet.upstream_urls();
    let source = upstream_with_timeout(urls.clone(), quick_options(), request_timeout_ms);
    for _ in 0..3 {
        let fetched = source.clone().fetch(everything(40, 110)).await.unwrap();
        assert_eq!(fetched.endpoint.as_str(), urls[1], "{settings:?}");
        assert_identical(&devnet, &fetched.blocks);
    }
    let bad = status(&source, &urls[0]);
    let good = status(&source, &urls[1]);
    assert!(bad.errors > 0, "{settings:?}: {bad:?}");
    assert!(bad.score < good.score, "{settings:?}: {bad:?} vs {good:?}");
    // Failing in a row (fetches, then the head poller's probes) makes it unhealthy.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while status(&source, &urls[0]).healthy && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bad = status(&source, &urls[0]);
    assert!(!bad.healthy, "{settings:?}: {bad:?}");
    assert!(good.healthy && good.errors == 0, "{good:?}");
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_endpoint_is_failed_over() {
    bad_first_endpoint(
        FaultSettings {
            error_rate: 1.0,
            ..FaultSettings::default()
        },
        10_000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_endpoint_is_failed_over() {
    bad_first_endpoint(
        FaultSettings {
            drop_rate: 1.0,
            ..FaultSettings::default()
        },
        10_000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_endpoint_times_out_and_is_failed_over() {
    bad_first_endpoint(
        FaultSettings {
            latency: Some(Duration::from_millis(800)),
            ..FaultSettings::default()
        },
        300,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_endpoint_is_parked() {
    let devnet = devnet(120, 2, STILL).await;
    devnet.set_growing(false);
    devnet.faults(0).unwrap().set(FaultSettings {
        rate_limit_rate: 1.0,
        retry_after_secs: 30,
        ..FaultSettings::default()
    });
    let urls = devnet.upstream_urls();
    let source = upstream(urls.clone(), quick_options());
    let fetched = source.clone().fetch(everything(1, 100)).await.unwrap();
    assert_eq!(fetched.endpoint.as_str(), urls[1]);
    assert_identical(&devnet, &fetched.blocks);
    let parked = status(&source, &urls[0]);
    assert!(!parked.healthy && parked.errors >= 1, "{parked:?}");
    assert!(parked.score < status(&source, &urls[1]).score);
    // Parked: not asked again (not even by the head poller) until Retry-After.
    let requests = parked.requests;
    tokio::time::sleep(Duration::from_millis(300)).await;
    source.clone().fetch(everything(1, 50)).await.unwrap();
    assert_eq!(status(&source, &urls[0]).requests, requests);
    // Only the parked endpoint left: a quick RateLimited error, not a wait.
    let mut request = everything(1, 5);
    request.avoid = vec![urls[1].clone().into()].into();
    let error = source.clone().fetch(request).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited, "{error}");
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lies_and_missing_receipts_are_caught() {
    let devnet = devnet(120, 2, STILL).await;
    devnet.set_growing(false);
    devnet.faults(0).unwrap().set(FaultSettings {
        tamper: vec![Tamper {
            block: 70,
            target: TamperTarget::Header {
                field: "stateRoot".into(),
            },
            rehash: false,
        }],
        missing_receipts: vec![90],
        ..FaultSettings::default()
    });
    let urls = devnet.upstream_urls();
    let source = upstream(urls.clone(), quick_options());
    let only_liar = |start, end| {
        let mut request = everything(start, end);
        request.avoid = vec![urls[1].clone().into()].into();
        request
    };
    // The liar alone: BadData naming it and the block.
    let error = source.clone().fetch(only_liar(60, 80)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadData, "{error}");
    assert!(
        error.message.contains(&urls[0]) && error.message.contains("block 70"),
        "{error}"
    );
    assert_eq!(status(&source, &urls[0]).faults, 1);
    // Missing receipts: unavailable there.
    let error = source.clone().fetch(only_liar(85, 95)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unavailable, "{error}");
    assert!(
        error.message.contains("block 90: receipts not available"),
        "{error}"
    );
    // With both: the honest endpoint serves them.
    for (start, end) in [(60, 80), (85, 95)] {
        let fetched = source.clone().fetch(everything(start, end)).await.unwrap();
        assert_eq!(fetched.endpoint.as_str(), urls[1]);
        assert_identical(&devnet, &fetched.blocks);
    }
    let liar = status(&source, &urls[0]);
    assert!(liar.score < 0.6 && liar.faults >= 1, "{liar:?}");
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_head_and_reports() {
    let devnet = devnet(120, 2, STILL).await;
    devnet.set_growing(false);
    devnet
        .faults(0)
        .unwrap()
        .update(|settings| settings.stale_head = Some(100));
    let urls = devnet.upstream_urls();
    let source = upstream(urls.clone(), quick_options());
    let head = source.clone().head().await.unwrap();
    assert_eq!(
        (head.number, head.endpoint.as_str()),
        (120, urls[1].as_str())
    );
    assert_eq!(head.hash, devnet.chain().read().head().hash.0);
    assert_eq!(status(&source, &urls[0]).head, 100);
    // Blocks above the stale head come from the endpoint that has them.
    let fetched = source.clone().fetch(everything(110, 120)).await.unwrap();
    assert_eq!(fetched.endpoint.as_str(), urls[1]);

    // The host's reports lower the score a lot; two make it unhealthy.
    let before = status(&source, &urls[1]).score;
    source.report(&urls[1], FaultKind::InvalidData, "bad root at 115");
    let after = status(&source, &urls[1]);
    assert!(
        after.score < before * 0.6 && after.faults == 1,
        "{before} {after:?}"
    );
    source.report(&urls[1], FaultKind::Disagreement, "forked");
    assert!(!status(&source, &urls[1]).healthy);
    // It is still used when it is the only one with the blocks.
    let fetched = source.clone().fetch(everything(110, 120)).await.unwrap();
    assert_eq!(fetched.endpoint.as_str(), urls[1]);
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

/// Three consecutive free ports, for a devnet that must come back on the same URL.
fn free_ports() -> u16 {
    for _ in 0..50 {
        let Ok(first) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(port) = first.local_addr().map(|addr| addr.port()) else {
            continue;
        };
        if port > 65_000 {
            continue;
        }
        let rest: Vec<_> = (1..3)
            .map(|offset| std::net::TcpListener::bind(("127.0.0.1", port + offset)))
            .collect();
        if rest.iter().all(Result::is_ok) {
            return port;
        }
    }
    panic!("no three consecutive free ports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_endpoints_down_then_back() {
    let port = free_ports();
    let devnet = devnet_on(60, 1, STILL, port).await;
    devnet.set_growing(false);
    let urls = devnet.upstream_urls();
    let source = upstream(urls.clone(), quick_options());
    source.clone().fetch(everything(1, 10)).await.unwrap();
    devnet.stop().await;

    let error = source.clone().fetch(everything(1, 10)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unavailable, "{error}");
    assert!(error.message.contains(&urls[0]), "{error}");
    assert!(source.clone().head().await.is_err());
    assert!(!status(&source, &urls[0]).healthy);

    // The same endpoint comes back: it is used again.
    let devnet = devnet_on(60, 1, STILL, port).await;
    devnet.set_growing(false);
    let fetched = source.clone().fetch(everything(1, 10)).await.unwrap();
    assert_identical(&devnet, &fetched.blocks);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(status(&source, &urls[0]).healthy);
    assert_eq!(source.clone().head().await.unwrap().number, 60);
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}
