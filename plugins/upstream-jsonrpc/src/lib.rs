//! Upstream plugin `upstream-jsonrpc`: blocks from many Polygon JSON-RPC
//! endpoints (HTTP(S) or WebSocket), rebuilt into the exact raw RLP the
//! producer made, with the hashes recomputed.
//!
//! - **Batching**: block and receipt calls go out in JSON-RPC batches of
//!   `batch_size`, pipelined up to `max_concurrency_per_endpoint` requests
//!   per endpoint.
//! - **Failover**: a range is fetched from one endpoint; on failure the next
//!   best endpoint is asked, then further rounds follow after a jittered
//!   exponential backoff. Failed calls inside a batch are retried on the
//!   same endpoint first.
//! - **Scores**: each endpoint has a score in `[0, 1]` folding its success
//!   rate, latency and caught lies (see [`score`]); HTTP 429 parks an
//!   endpoint until its `Retry-After`; unhealthy endpoints are tried again
//!   later and keep being probed by the head poller.
//! - **Heads**: polled with `eth_blockNumber`; WebSocket endpoints also push
//!   `newHeads`.
//!
//! The entry point is [`JsonRpcUpstream`]; the host reaches it through the
//! SDK's [`UpstreamSource`](hypasis_plugin_sdk::UpstreamSource) adapter.

#![deny(missing_docs)]

pub mod answer_scan;
pub mod assemble;
pub mod backoff;
pub mod endpoint;
pub mod error;
pub mod failover;
pub mod fetch;
pub mod heads;
pub mod http;
pub mod offload;
pub mod one_pass;
pub mod options;
pub mod pool;
pub mod rpc;
pub mod score;
pub mod source;
pub mod ws;

use hypasis_plugin_sdk::{PluginConfig, PluginError, api::PluginInstance, upstream_instance};

pub use error::UpstreamError;
pub use options::{Options, Settings};
pub use source::JsonRpcUpstream;

/// Builds the plugin instance from the host's configuration envelope.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    Ok(upstream_instance(JsonRpcUpstream::from_config(&config)?))
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "upstream-jsonrpc",
    kind: Upstream,
    description: "Blocks from Polygon JSON-RPC endpoints (HTTP or WebSocket): batching, failover, scores, 429 parking, newHeads.",
    instantiate: new_instance,
}

/// The plugin's own heap: mimalloc, as in the host. Every block, JSON
/// answer and store entry this plugin builds is allocated and freed here,
/// and glibc's malloc cost several percent of a sync (see
/// docs/BENCHMARKS.md). Not in in-process builds, where the host's
/// allocator applies.
#[cfg(not(feature = "in-process"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
