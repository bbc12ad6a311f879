//! The `Upstream` interface: where blocks come from (Polygon JSON-RPC
//! providers), with scores and failover inside the plugin.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RStr, RString, RVec},
};
use async_ffi::FfiFuture;

use crate::{H256, PluginResult, RawBlock};

crate::extension_trait! {
    /// Fields [`ChainHead`] gains after 3.0.
    ChainHeadExt, ChainHeadExt_TO, ChainHeadExtension
}

/// The newest block an upstream reports.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct ChainHead {
    /// Head number.
    pub number: u64,
    /// Head hash.
    pub hash: H256,
    /// Which endpoint reported it (its redacted name).
    pub endpoint: RString,
    /// Fields added after 3.0.
    pub ext: ChainHeadExtension,
}

crate::extension_trait! {
    /// Fields [`FetchRequest`] gains after 3.0.
    FetchRequestExt, FetchRequestExt_TO, FetchRequestExtension
}

/// A request for a contiguous range of blocks.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct FetchRequest {
    /// First block.
    pub start: u64,
    /// Last block (inclusive).
    pub end: u64,
    /// Fetch bodies too.
    pub bodies: bool,
    /// Fetch receipts too (and Bor's state-sync receipts).
    pub receipts: bool,
    /// Endpoints not to use (they served a bad copy of this range).
    pub avoid: RVec<RString>,
    /// Fields added after 3.0.
    pub ext: FetchRequestExtension,
}

crate::extension_trait! {
    /// Fields [`Fetched`] gains after 3.0.
    FetchedExt, FetchedExt_TO, FetchedExtension
}

/// Blocks fetched for a request, all from one endpoint.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Fetched {
    /// The blocks, ascending; the hash in each is the one the endpoint claimed
    /// and that the plugin recomputed from the RLP.
    pub blocks: RVec<RawBlock>,
    /// Which endpoint served them.
    pub endpoint: RString,
    /// Fields added after 3.0.
    pub ext: FetchedExtension,
}

crate::open_enum! {
    /// Why the host reports an endpoint. A reason this plugin does not know
    /// counts as [`FaultKind::InvalidData`].
    pub enum FaultKind: u8 {
        /// Served data that failed validation.
        InvalidData = 1 => "invalid_data",
        /// Served a chain that disagrees with other endpoints.
        Disagreement = 2 => "disagreement",
        /// Was too slow for the host's deadline.
        Slow = 3 => "slow",
    }
}

crate::extension_trait! {
    /// Fields [`EndpointStatus`] gains after 3.0.
    EndpointStatusExt, EndpointStatusExt_TO, EndpointStatusExtension
}

/// Health of one endpoint, for metrics and the status page.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, StableAbi)]
pub struct EndpointStatus {
    /// The endpoint's name with credentials removed.
    pub name: RString,
    /// Whether it is currently used.
    pub healthy: bool,
    /// Score in `[0, 1]`: latency, errors and caught lies folded together.
    pub score: f64,
    /// Its last reported head.
    pub head: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Times it served data that failed validation.
    pub faults: u64,
    /// Moving average latency in milliseconds.
    pub latency_ms: f64,
    /// Fields added after 3.0.
    pub ext: EndpointStatusExtension,
}

/// A source of blocks. A minor version may add methods after `shutdown`,
/// each with a default body.
#[sabi_trait]
pub trait Upstream: Send + Sync {
    /// The chain id the endpoints serve (they must agree).
    fn chain_id(&self) -> FfiFuture<PluginResult<u64>>;

    /// The best head among healthy endpoints.
    fn head(&self) -> FfiFuture<PluginResult<ChainHead>>;

    /// Waits until some endpoint reports a head above `after`, or `timeout_ms`
    /// passes (`None`). Uses subscriptions where the endpoint offers them.
    fn wait_head(&self, after: u64, timeout_ms: u64)
    -> FfiFuture<PluginResult<ROption<ChainHead>>>;

    /// Fetches a range of blocks as raw RLP.
    fn fetch(&self, request: FetchRequest) -> FfiFuture<PluginResult<Fetched>>;

    /// Forwards one raw JSON-RPC call (`params` is a JSON array) and returns
    /// the JSON `result`; used to proxy what the store does not hold.
    fn call(&self, method: RString, params: RString) -> FfiFuture<PluginResult<RString>>;

    /// Tells the plugin an endpoint misbehaved, so its score drops.
    fn report(&self, endpoint: RStr<'_>, fault: FaultKind, detail: RStr<'_>);

    /// Health of every endpoint.
    fn endpoints(&self) -> RVec<EndpointStatus>;

    /// Stops background work (subscriptions, polling).
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> FfiFuture<PluginResult<()>>;
}

/// An owned upstream plugin instance.
pub type UpstreamBox = Upstream_TO<'static, RBox<()>>;
