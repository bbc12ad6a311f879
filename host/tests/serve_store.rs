//! `serve` serves any data dir: one a syncing host filled (not only one
//! `import` filled) answers the head, blocks and receipts over JSON-RPC and
//! devp2p, with no upstream, L1 or Heimdall left.

mod common;

use std::time::Duration;

use common::api::{result, rpc_url, wait_until};
use hypasis_sync::app::Host;
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_from_a_store_that_sync_filled() {
    let devnet = common::api::devnet(600).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = common::api::config(&devnet, data.path());
    config.p2p.enabled = false;
    let host = Host::start(config.clone(), CancellationToken::new())
        .await
        .unwrap();
    let status = host.sync_status.clone().unwrap();
    wait_until("sync", Duration::from_secs(120), || {
        let status = status.read();
        status.backward_done && status.forward.is_some_and(|head| head >= 512)
    })
    .await;
    let synced_head = host.head.as_ref().unwrap().head().unwrap();
    host.stop().await.unwrap();
    let expected_txs = devnet.chain().read().by_number(300).unwrap().txs.len();
    drop(devnet);

    // What `serve` does: no upstream, no sync; the devnet is gone.
    config.upstream.endpoints.clear();
    config.sync.forward.enabled = false;
    config.sync.backward.enabled = false;
    config.l1.rpc_url = None;
    config.heimdall.url = None;
    config.p2p.enabled = true;
    config.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.p2p.discovery = false;
    let host = Host::start(config, CancellationToken::new()).await.unwrap();
    let head = host
        .head
        .as_ref()
        .expect("serve has a head")
        .head()
        .unwrap();
    assert_eq!(
        (head.number, head.hash),
        (synced_head.number, synced_head.hash)
    );
    assert!(host.p2p.is_some(), "serve starts devp2p");
    let client = reqwest::Client::new();
    let url = rpc_url(&host);
    let number = result(&client, &url, "eth_blockNumber", json!([])).await;
    assert_eq!(number, json!(format!("{:#x}", head.number)));
    let receipts = result(&client, &url, "eth_getBlockReceipts", json!(["0x12c"])).await;
    let receipts = receipts.as_array().expect("receipts of block 300");
    assert_eq!(receipts.len(), expected_txs);
    assert!(!receipts.is_empty());
    host.stop().await.unwrap();
}
