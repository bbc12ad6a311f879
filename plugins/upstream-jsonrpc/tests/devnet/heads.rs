//! Heads: polled, pushed over WebSocket, waited for.

use std::time::Duration;

use hypasis_plugin_sdk::UpstreamSource;

use crate::common::{devnet, quick_options, upstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_head_by_polling() {
    let devnet = devnet(20, 2, Duration::from_millis(50)).await;
    let source = upstream(devnet.upstream_urls(), quick_options());
    let head = source.clone().head().await.unwrap();
    assert!(head.number >= 20);
    let next = source
        .clone()
        .wait_head(head.number, 5_000)
        .await
        .unwrap()
        .expect("a new head");
    assert!(next.number > head.number);
    // Nothing new: a timeout, not an error.
    devnet.set_growing(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still = source.clone().head().await.unwrap().number;
    assert!(
        source
            .clone()
            .wait_head(still + 5, 300)
            .await
            .unwrap()
            .is_none()
    );
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_head_over_websocket() {
    let devnet = devnet(20, 1, Duration::from_millis(50)).await;
    // Polls once a minute: new heads within the test come from newHeads.
    let options = hypasis_upstream_jsonrpc::Options {
        head_poll_interval_ms: 60_000,
        ..quick_options()
    };
    let source = upstream(devnet.upstream_ws_urls(), options);
    let head = source.clone().head().await.unwrap();
    let mut last = head.number;
    for _ in 0..3 {
        let next = source
            .clone()
            .wait_head(last, 5_000)
            .await
            .unwrap()
            .expect("a pushed head");
        assert!(next.number > last);
        let chain = devnet.chain();
        let hash = chain
            .read()
            .by_number(next.number)
            .map(|block| block.hash.0);
        assert_eq!(Some(next.hash), hash);
        last = next.number;
    }
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}
