//! Shared helpers: a devnet, an upstream over it, and the devnet's own raw
//! parts to compare with.

use std::{sync::Arc, time::Duration};

use hypasis_devnet::{ChainConfig, Devnet, DevnetOptions};
use hypasis_plugin_sdk::api::{FetchRequest, RawBlock};
use hypasis_upstream_jsonrpc::{JsonRpcUpstream, Options, Settings};

/// A devnet with `prefill` blocks and `upstreams` endpoints; it grows every
/// `block_time` (use an hour for a still chain).
pub async fn devnet(prefill: u64, upstreams: usize, block_time: Duration) -> Devnet {
    devnet_on(prefill, upstreams, block_time, 0).await
}

/// The same on a given first port (0: any).
pub async fn devnet_on(prefill: u64, upstreams: usize, block_time: Duration, port: u16) -> Devnet {
    Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 4,
            ..ChainConfig::default()
        },
        block_time,
        prefill,
        upstreams,
        port,
        ..DevnetOptions::default()
    })
    .await
    .expect("devnet starts")
}

/// Options that keep tests quick: short backoff, fast polls.
pub fn quick_options() -> Options {
    Options {
        retries: 2,
        backoff_base_ms: 10,
        backoff_max_ms: 50,
        head_poll_interval_ms: 100,
        unhealthy_cooldown_ms: 200,
        max_park_wait_ms: 200,
        ..Options::default()
    }
}

/// An upstream over `urls`.
pub fn upstream(urls: Vec<String>, options: Options) -> Arc<JsonRpcUpstream> {
    upstream_with_timeout(urls, options, 10_000)
}

/// An upstream over `urls` with a request timeout.
pub fn upstream_with_timeout(
    urls: Vec<String>,
    options: Options,
    request_timeout_ms: u64,
) -> Arc<JsonRpcUpstream> {
    Arc::new(
        JsonRpcUpstream::new(
            Settings {
                endpoints: urls,
                request_timeout_ms,
                max_idle_per_host: 8,
                ..Settings::default()
            },
            options,
        )
        .expect("upstream builds"),
    )
}

/// A request for everything of `[start, end]`.
pub fn everything(start: u64, end: u64) -> FetchRequest {
    FetchRequest {
        start,
        end,
        bodies: true,
        receipts: true,
        avoid: Vec::new().into(),
        ext: Default::default(),
    }
}

/// Asserts that `blocks` are byte for byte the devnet's own parts, for
/// the parts fetched.
pub fn assert_identical(devnet: &Devnet, blocks: &[RawBlock]) {
    let chain = devnet.chain();
    let chain = chain.read();
    for block in blocks {
        let expected = chain
            .by_number(block.number)
            .expect("the devnet has the block");
        let number = block.number;
        assert_eq!(block.hash, expected.hash.0, "block {number}: hash");
        assert_eq!(
            block.header.as_slice(),
            expected.header_rlp.as_ref(),
            "block {number}: header"
        );
        if let Some(body) = block.body.as_ref().into_option() {
            assert_eq!(
                body.as_slice(),
                expected.body_rlp.as_ref(),
                "block {number}: body"
            );
        }
        if let Some(receipts) = block.receipts.as_ref().into_option() {
            assert_eq!(
                receipts.as_slice(),
                expected.receipts_rlp.as_ref(),
                "block {number}: receipts"
            );
            assert_eq!(
                block
                    .state_sync
                    .as_ref()
                    .into_option()
                    .map(|rlp| rlp.to_vec()),
                expected.bor_receipt.as_ref().map(|bor| bor.rlp.to_vec()),
                "block {number}: state-sync receipt"
            );
        }
    }
}

/// The status of the endpoint named `name`.
pub fn status(upstream: &JsonRpcUpstream, name: &str) -> hypasis_plugin_sdk::api::EndpointStatus {
    use hypasis_plugin_sdk::UpstreamSource;
    upstream
        .endpoints()
        .into_iter()
        .find(|status| status.name.as_str() == name)
        .expect("a status for the endpoint")
}
