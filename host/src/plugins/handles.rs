//! Typed handles over plugin instances: one generic [`PluginHandle`] that
//! names the plugin in every error, and per interface the methods with
//! plain Rust signatures.

use std::sync::Arc;

use abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec};
use hypasis_plugin_api::{
    BlockPart, BlockRange, ChainHead, EndpointStatus, FaultKind, FetchRequest, Fetched, H256,
    Namespace, OperatorLimits, OperatorOverride, PluginError, PluginInstance, PluginKind,
    PluginResult, RateDecision, RateLimitBox, Requirements, StorageBox, StorageStats, TxLocation,
    UpstreamBox, ValidationBox, ValidationRequest, Verdict, WriteBatch,
};

use super::PluginCallError;

/// An interface object a plugin instance can hold.
pub trait PluginObject: Sized {
    /// The kind of plugin that makes it.
    const KIND: PluginKind;

    /// Takes the object out of an instance, if it holds one of this kind.
    fn take(instance: PluginInstance) -> Option<Self>;
}

impl PluginObject for StorageBox {
    const KIND: PluginKind = PluginKind::Storage;
    fn take(instance: PluginInstance) -> Option<Self> {
        instance.storage.into_option()
    }
}

impl PluginObject for ValidationBox {
    const KIND: PluginKind = PluginKind::Validation;
    fn take(instance: PluginInstance) -> Option<Self> {
        instance.validation.into_option()
    }
}

impl PluginObject for UpstreamBox {
    const KIND: PluginKind = PluginKind::Upstream;
    fn take(instance: PluginInstance) -> Option<Self> {
        instance.upstream.into_option()
    }
}

impl PluginObject for RateLimitBox {
    const KIND: PluginKind = PluginKind::RateLimit;
    fn take(instance: PluginInstance) -> Option<Self> {
        instance.rate_limit.into_option()
    }
}

/// A loaded plugin instance of one interface, with its name.
pub struct PluginHandle<B> {
    name: Arc<str>,
    inner: B,
    reads: super::ReadLog,
}

/// A loaded storage plugin.
pub type StoragePlugin = PluginHandle<StorageBox>;
/// A loaded validation plugin.
pub type ValidationPlugin = PluginHandle<ValidationBox>;
/// A loaded upstream plugin.
pub type UpstreamPlugin = PluginHandle<UpstreamBox>;
/// A loaded rate-limit plugin.
pub type RateLimitPlugin = PluginHandle<RateLimitBox>;

impl<B: PluginObject> std::fmt::Debug for PluginHandle<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("kind", &B::KIND)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<B> PluginHandle<B> {
    pub(super) fn new(name: &str, inner: B) -> Self {
        PluginHandle {
            name: name.into(),
            inner,
            reads: super::ReadLog::default(),
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plugin result with the plugin's name on its error.
    fn named<T>(&self, result: PluginResult<T>) -> Result<T, PluginCallError> {
        result
            .into_result()
            .map_err(|error: PluginError| PluginCallError {
                plugin: self.name.to_string(),
                error,
            })
    }
}

impl StoragePlugin {
    /// The record of block parts read through this handle (off until started).
    pub fn read_log(&self) -> &super::ReadLog {
        &self.reads
    }

    /// Applies a batch atomically.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), PluginCallError> {
        self.named(self.inner.write(batch).await)
    }

    /// Canonical hashes at `numbers`.
    pub fn canonical_hashes(&self, numbers: &[u64]) -> Result<Vec<Option<H256>>, PluginCallError> {
        let hashes = self.named(self.inner.canonical_hashes(RSlice::from_slice(numbers)))?;
        Ok(hashes.into_iter().map(ROption::into_option).collect())
    }

    /// The number of a stored block.
    pub fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginCallError> {
        self.named(self.inner.block_number(hash))
            .map(ROption::into_option)
    }

    /// One part of each block by hash.
    pub fn parts(
        &self,
        part: BlockPart,
        hashes: &[H256],
    ) -> Result<RVec<ROption<RVec<u8>>>, PluginCallError> {
        self.reads.note(part, hashes);
        self.named(self.inner.parts(part, RSlice::from_slice(hashes)))
    }

    /// A transaction's location.
    pub fn transaction(&self, hash: &H256) -> Result<Option<TxLocation>, PluginCallError> {
        self.named(self.inner.transaction(hash))
            .map(ROption::into_option)
    }

    /// A named interval set of a namespace.
    pub fn intervals(
        &self,
        space: Namespace,
        set: &str,
    ) -> Result<Vec<BlockRange>, PluginCallError> {
        self.named(self.inner.intervals(space, RStr::from_str(set)))
            .map(RVec::into_vec)
    }

    /// A metadata value of a namespace.
    pub fn meta(&self, space: Namespace, key: &str) -> Result<Option<Vec<u8>>, PluginCallError> {
        self.named(self.inner.meta(space, RStr::from_str(key)))
            .map(|value| value.into_option().map(RVec::into_vec))
    }

    /// Counters.
    pub fn stats(&self) -> Result<StorageStats, PluginCallError> {
        self.named(self.inner.stats())
    }

    /// Flushes and closes.
    pub async fn shutdown(&self) -> Result<(), PluginCallError> {
        self.named(self.inner.shutdown().await)
    }
}

impl ValidationPlugin {
    /// What the level needs.
    pub fn requirements(&self) -> Requirements {
        self.inner.requirements()
    }

    /// Validates a batch; CPU-bound, call from a blocking context.
    pub fn validate(&self, request: &ValidationRequest) -> Result<Verdict, PluginCallError> {
        self.named(self.inner.validate(request))
    }
}

impl UpstreamPlugin {
    /// The chain id the endpoints serve.
    pub async fn chain_id(&self) -> Result<u64, PluginCallError> {
        self.named(self.inner.chain_id().await)
    }

    /// The best head.
    pub async fn head(&self) -> Result<ChainHead, PluginCallError> {
        self.named(self.inner.head().await)
    }

    /// Waits for a head above `after`.
    pub async fn wait_head(
        &self,
        after: u64,
        timeout_ms: u64,
    ) -> Result<Option<ChainHead>, PluginCallError> {
        self.named(self.inner.wait_head(after, timeout_ms).await)
            .map(ROption::into_option)
    }

    /// Fetches a range.
    pub async fn fetch(&self, request: FetchRequest) -> Result<Fetched, PluginCallError> {
        self.named(self.inner.fetch(request).await)
    }

    /// Forwards a raw JSON-RPC call.
    pub async fn call(&self, method: &str, params: &str) -> Result<String, PluginCallError> {
        self.named(
            self.inner
                .call(RString::from(method), RString::from(params))
                .await,
        )
        .map(RString::into_string)
    }

    /// Reports a misbehaving endpoint.
    pub fn report(&self, endpoint: &str, fault: FaultKind, detail: &str) {
        self.inner
            .report(RStr::from_str(endpoint), fault, RStr::from_str(detail));
    }

    /// Endpoint health.
    pub fn endpoints(&self) -> Vec<EndpointStatus> {
        self.inner.endpoints().into_vec()
    }

    /// Stops background work.
    pub async fn shutdown(&self) -> Result<(), PluginCallError> {
        self.named(self.inner.shutdown().await)
    }
}

impl RateLimitPlugin {
    /// Charges and decides.
    pub async fn check(
        &self,
        operator: &str,
        cost: u32,
        now_ms: u64,
    ) -> Result<RateDecision, PluginCallError> {
        self.named(
            self.inner
                .check(RString::from(operator), cost, now_ms)
                .await,
        )
    }

    /// Sets or removes an operator's limits.
    pub async fn set_limits(
        &self,
        operator: &str,
        limits: Option<OperatorLimits>,
    ) -> Result<(), PluginCallError> {
        self.named(
            self.inner
                .set_limits(RString::from(operator), limits.into())
                .await,
        )
    }

    /// Every override in force.
    pub async fn overrides(&self) -> Result<Vec<OperatorOverride>, PluginCallError> {
        self.named(self.inner.overrides().await).map(RVec::into_vec)
    }

    /// Stops background work.
    pub async fn shutdown(&self) -> Result<(), PluginCallError> {
        self.named(self.inner.shutdown().await)
    }
}
