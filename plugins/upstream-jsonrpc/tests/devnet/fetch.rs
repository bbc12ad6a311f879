//! Fetched blocks are the devnet's own bytes, across every fork.

use std::time::Duration;

use hypasis_plugin_sdk::{UpstreamSource, api::FetchRequest, upstream_instance};
use hypasis_polygon::{roots::body_transactions, state_sync::STATE_SYNC_TX_TYPE};

use crate::common::{assert_identical, devnet, everything, quick_options, upstream};

const STILL: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_byte_identical_across_jaipur_cancun_and_madhugiri() {
    let devnet = devnet(2_100, 1, STILL).await;
    devnet.set_growing(false);
    let source = upstream(devnet.upstream_urls(), quick_options());

    let mut blocks = Vec::new();
    for (start, end) in [(0, 330), (1_980, 2_100)] {
        let fetched = source.clone().fetch(everything(start, end)).await.unwrap();
        assert_eq!(fetched.endpoint.as_str(), devnet.upstream_urls()[0]);
        let numbers: Vec<u64> = fetched.blocks.iter().map(|block| block.number).collect();
        assert_eq!(numbers, (start..=end).collect::<Vec<_>>());
        blocks.extend(fetched.blocks.into_iter());
    }
    assert_identical(&devnet, &blocks);

    // The range holds what it should: transaction types 0, 1 and 2, bor
    // receipts before Madhugiri, 0x7F transactions from it on.
    let mut types = std::collections::BTreeSet::new();
    let (mut bor_receipts, mut state_sync_txs) = (0, 0);
    for block in &blocks {
        let body = block.body.as_ref().unwrap();
        for tx in body_transactions(body).unwrap() {
            types.insert(if tx[0] >= 0xc0 { 0 } else { tx[0] });
            if tx[0] == STATE_SYNC_TX_TYPE {
                assert!(block.number >= 2_048);
                state_sync_txs += 1;
            }
        }
        if block.state_sync.is_some() {
            assert!(block.number < 2_048);
            bor_receipts += 1;
        }
    }
    assert!(
        types.contains(&0) && types.contains(&1) && types.contains(&2),
        "{types:?}"
    );
    assert!(
        bor_receipts >= 5 && state_sync_txs >= 1,
        "{bor_receipts} {state_sync_txs}"
    );

    // Headers only, and receipts without bodies.
    let headers = source
        .clone()
        .fetch(FetchRequest {
            bodies: false,
            receipts: false,
            ..everything(60, 70)
        })
        .await
        .unwrap();
    assert!(
        headers
            .blocks
            .iter()
            .all(|block| block.body.is_none() && block.receipts.is_none())
    );
    assert_identical(&devnet, &headers.blocks);
    let receipts = source
        .clone()
        .fetch(FetchRequest {
            bodies: false,
            ..everything(2_040, 2_060)
        })
        .await
        .unwrap();
    assert!(
        receipts
            .blocks
            .iter()
            .all(|block| block.body.is_none() && block.receipts.is_some())
    );
    assert_identical(&devnet, &receipts.blocks);

    // Above the head: unavailable; a reversed range: invalid.
    let error = source
        .clone()
        .fetch(everything(2_099, 2_101))
        .await
        .unwrap_err();
    assert_eq!(
        error.kind,
        hypasis_plugin_sdk::ErrorKind::Unavailable,
        "{error}"
    );
    assert!(error.message.contains("block 2101"), "{error}");
    let error = source.clone().fetch(everything(5, 4)).await.unwrap_err();
    assert_eq!(error.kind, hypasis_plugin_sdk::ErrorKind::InvalidInput);

    assert_eq!(
        source.clone().chain_id().await.unwrap(),
        devnet.spec().chain_id
    );
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_plugin_interface_on_the_plugin_runtime() {
    let devnet = devnet(300, 2, STILL).await;
    devnet.set_growing(false);
    let Some(plugin) = upstream_instance(
        hypasis_upstream_jsonrpc::JsonRpcUpstream::new(
            hypasis_upstream_jsonrpc::Settings {
                endpoints: devnet.upstream_urls(),
                ..Default::default()
            },
            quick_options(),
        )
        .unwrap(),
    )
    .upstream
    .into_option() else {
        panic!("an upstream instance");
    };
    let fetched = plugin
        .fetch(everything(250, 300))
        .await
        .into_result()
        .unwrap();
    assert_eq!(fetched.blocks.len(), 51);
    assert_identical(&devnet, &fetched.blocks);
    let head = plugin.head().await.into_result().unwrap();
    assert_eq!(head.number, 300);
    let chain_id = plugin
        .call("eth_chainId".into(), "[]".into())
        .await
        .into_result()
        .unwrap();
    assert_eq!(
        chain_id.as_str(),
        format!("\"{:#x}\"", devnet.spec().chain_id)
    );
    let block = plugin
        .call("eth_getBlockByNumber".into(), r#"["0x5", false]"#.into())
        .await
        .into_result()
        .unwrap();
    assert!(block.as_str().contains("\"number\":\"0x5\""), "{block}");
    let error = plugin
        .call("eth_nope".into(), "[]".into())
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(
        error.kind,
        hypasis_plugin_sdk::ErrorKind::Unsupported,
        "{error}"
    );
    let error = plugin
        .call("eth_getBlockByNumber".into(), r#"["nope"]"#.into())
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(
        error.kind,
        hypasis_plugin_sdk::ErrorKind::InvalidInput,
        "{error}"
    );
    assert_eq!(plugin.endpoints().len(), 2);
    plugin.shutdown().await.into_result().unwrap();
    let error = plugin
        .fetch(everything(1, 2))
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(error.kind, hypasis_plugin_sdk::ErrorKind::Shutdown);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_websocket_too() {
    let devnet = devnet(300, 1, STILL).await;
    devnet.set_growing(false);
    let source = upstream(
        devnet.upstream_ws_urls(),
        hypasis_upstream_jsonrpc::Options {
            batch_size: 16,
            ..quick_options()
        },
    );
    let fetched = source.clone().fetch(everything(30, 300)).await.unwrap();
    assert_eq!(fetched.endpoint.as_str(), devnet.upstream_ws_urls()[0]);
    assert_eq!(fetched.blocks.len(), 271);
    assert_identical(&devnet, &fetched.blocks);
    assert_eq!(source.clone().head().await.unwrap().number, 300);
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}
