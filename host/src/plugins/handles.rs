//! Typed handles over plugin instances: plain Rust signatures for the host,
//! errors that name the plugin.

use std::sync::Arc;

use abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec};
use hypasis_plugin_api::{
    BlockPart, BlockRange, ChainHead, EndpointStatus, FaultKind, FetchRequest, Fetched, H256,
    OperatorLimits, OperatorOverride, PluginError, PluginResult, RateDecision, RateLimitBox,
    Requirements, StorageBox, StorageStats, TxLocation, UpstreamBox, ValidationBox,
    ValidationRequest, Verdict, WriteBatch,
};

use super::PluginCallError;

fn named<T>(plugin: &Arc<str>, result: PluginResult<T>) -> Result<T, PluginCallError> {
    result
        .into_result()
        .map_err(|error: PluginError| PluginCallError {
            plugin: plugin.to_string(),
            error,
        })
}

/// A loaded storage plugin.
pub struct StoragePlugin {
    name: Arc<str>,
    inner: StorageBox,
}

impl std::fmt::Debug for StoragePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoragePlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl StoragePlugin {
    pub(super) fn new(name: &str, inner: StorageBox) -> Self {
        StoragePlugin {
            name: name.into(),
            inner,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Applies a batch atomically.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), PluginCallError> {
        named(&self.name, self.inner.write(batch).await)
    }

    /// Canonical hashes at `numbers`.
    pub fn canonical_hashes(&self, numbers: &[u64]) -> Result<Vec<Option<H256>>, PluginCallError> {
        let hashes = named(
            &self.name,
            self.inner.canonical_hashes(RSlice::from_slice(numbers)),
        )?;
        Ok(hashes.into_iter().map(ROption::into_option).collect())
    }

    /// The number of a stored block.
    pub fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginCallError> {
        named(&self.name, self.inner.block_number(hash)).map(ROption::into_option)
    }

    /// One part of each block by hash.
    pub fn parts(
        &self,
        part: BlockPart,
        hashes: &[H256],
    ) -> Result<RVec<ROption<RVec<u8>>>, PluginCallError> {
        named(
            &self.name,
            self.inner.parts(part, RSlice::from_slice(hashes)),
        )
    }

    /// A transaction's location.
    pub fn transaction(&self, hash: &H256) -> Result<Option<TxLocation>, PluginCallError> {
        named(&self.name, self.inner.transaction(hash)).map(ROption::into_option)
    }

    /// A named interval set.
    pub fn intervals(&self, set: &str) -> Result<Vec<BlockRange>, PluginCallError> {
        named(&self.name, self.inner.intervals(RStr::from_str(set))).map(RVec::into_vec)
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, PluginCallError> {
        named(&self.name, self.inner.meta(RStr::from_str(key)))
            .map(|value| value.into_option().map(RVec::into_vec))
    }

    /// Counters.
    pub fn stats(&self) -> Result<StorageStats, PluginCallError> {
        named(&self.name, self.inner.stats())
    }

    /// Flushes and closes.
    pub async fn shutdown(&self) -> Result<(), PluginCallError> {
        named(&self.name, self.inner.shutdown().await)
    }
}

/// A loaded validation plugin.
pub struct ValidationPlugin {
    name: Arc<str>,
    inner: ValidationBox,
}

impl std::fmt::Debug for ValidationPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidationPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ValidationPlugin {
    pub(super) fn new(name: &str, inner: ValidationBox) -> Self {
        ValidationPlugin {
            name: name.into(),
            inner,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the level needs.
    pub fn requirements(&self) -> Requirements {
        self.inner.requirements()
    }

    /// Validates a batch; CPU-bound, call from a blocking context.
    pub fn validate(&self, request: &ValidationRequest) -> Result<Verdict, PluginCallError> {
        named(&self.name, self.inner.validate(request))
    }
}

/// A loaded upstream plugin.
pub struct UpstreamPlugin {
    name: Arc<str>,
    inner: UpstreamBox,
}

impl std::fmt::Debug for UpstreamPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl UpstreamPlugin {
    pub(super) fn new(name: &str, inner: UpstreamBox) -> Self {
        UpstreamPlugin {
            name: name.into(),
            inner,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The chain id the endpoints serve.
    pub async fn chain_id(&self) -> Result<u64, PluginCallError> {
        named(&self.name, self.inner.chain_id().await)
    }

    /// The best head.
    pub async fn head(&self) -> Result<ChainHead, PluginCallError> {
        named(&self.name, self.inner.head().await)
    }

    /// Waits for a head above `after`.
    pub async fn wait_head(
        &self,
        after: u64,
        timeout_ms: u64,
    ) -> Result<Option<ChainHead>, PluginCallError> {
        named(&self.name, self.inner.wait_head(after, timeout_ms).await).map(ROption::into_option)
    }

    /// Fetches a range.
    pub async fn fetch(&self, request: FetchRequest) -> Result<Fetched, PluginCallError> {
        named(&self.name, self.inner.fetch(request).await)
    }

    /// Forwards a raw JSON-RPC call.
    pub async fn call(&self, method: &str, params: &str) -> Result<String, PluginCallError> {
        named(
            &self.name,
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
        named(&self.name, self.inner.shutdown().await)
    }
}

/// A loaded rate-limit plugin.
pub struct RateLimitPlugin {
    name: Arc<str>,
    inner: RateLimitBox,
}

impl std::fmt::Debug for RateLimitPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RateLimitPlugin {
    pub(super) fn new(name: &str, inner: RateLimitBox) -> Self {
        RateLimitPlugin {
            name: name.into(),
            inner,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Charges and decides.
    pub async fn check(
        &self,
        operator: &str,
        cost: u32,
        now_ms: u64,
    ) -> Result<RateDecision, PluginCallError> {
        named(
            &self.name,
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
        named(
            &self.name,
            self.inner
                .set_limits(RString::from(operator), limits.into())
                .await,
        )
    }

    /// Every override in force.
    pub async fn overrides(&self) -> Result<Vec<OperatorOverride>, PluginCallError> {
        named(&self.name, self.inner.overrides().await).map(RVec::into_vec)
    }

    /// Stops background work.
    pub async fn shutdown(&self) -> Result<(), PluginCallError> {
        named(&self.name, self.inner.shutdown().await)
    }
}
