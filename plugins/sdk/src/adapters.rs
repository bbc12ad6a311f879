//! Plain Rust traits for the four plugin kinds, and the adapters that expose
//! an implementation through the ABI with panic guards and the plugin runtime.

use std::{future::Future, sync::Arc};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RSlice, RStr, RString, RVec},
};
use async_ffi::{FfiFuture, FutureExt};
use hypasis_plugin_api::{
    BlockPart, BlockRange, ChainHead, EndpointStatus, FaultKind, FetchRequest, Fetched, H256,
    Namespace, OperatorLimits, OperatorOverride, PluginError, PluginInstance, PluginResult,
    RateDecision, RateLimitPolicy, RateLimitPolicy_TO, Requirements, Storage, Storage_TO,
    StorageStats, TxLocation, Upstream, Upstream_TO, Validation, Validation_TO, ValidationRequest,
    Verdict, WriteBatch,
};

use crate::{guard, runtime::spawn_blocking_ffi, spawn_ffi};

/// A validation level, in plain Rust. Calls are synchronous and may come
/// from several host threads at once.
pub trait ValidationLevel: Send + Sync + 'static {
    /// What this level reads beyond headers.
    fn requirements(&self) -> Requirements;
    /// Checks a batch; see [`Validation::validate`].
    fn validate(&self, request: &ValidationRequest) -> Result<Verdict, PluginError>;
}

/// A block store, in plain Rust. Every method may block: reads should be
/// quick (they serve peers), `write` runs on the plugin runtime's blocking
/// pool and must be atomic and durable when it returns.
pub trait StorageBackend: Send + Sync + 'static {
    /// Applies a batch atomically.
    fn write(&self, batch: WriteBatch) -> Result<(), PluginError>;
    /// Canonical hashes at `numbers`.
    fn canonical_hashes(&self, numbers: &[u64]) -> Result<RVec<ROption<H256>>, PluginError>;
    /// The number of a stored block.
    fn block_number(&self, hash: &H256) -> Result<Option<u64>, PluginError>;
    /// One part of each block by hash.
    fn parts(
        &self,
        part: BlockPart,
        hashes: &[H256],
    ) -> Result<RVec<ROption<RVec<u8>>>, PluginError>;
    /// A transaction's location.
    fn transaction(&self, tx_hash: &H256) -> Result<Option<TxLocation>, PluginError>;
    /// A named interval set of a namespace.
    fn intervals(&self, space: Namespace, set: &str) -> Result<RVec<BlockRange>, PluginError>;
    /// A metadata value of a namespace.
    fn meta(&self, space: Namespace, key: &str) -> Result<Option<RVec<u8>>, PluginError>;
    /// Counters.
    fn stats(&self) -> Result<StorageStats, PluginError>;
    /// Flush and close.
    fn shutdown(&self) -> Result<(), PluginError>;
}

/// A block source, in plain Rust. Futures run on the plugin's runtime.
pub trait UpstreamSource: Send + Sync + 'static {
    /// See [`Upstream::chain_id`].
    fn chain_id(self: Arc<Self>) -> impl Future<Output = Result<u64, PluginError>> + Send;
    /// See [`Upstream::head`].
    fn head(self: Arc<Self>) -> impl Future<Output = Result<ChainHead, PluginError>> + Send;
    /// See [`Upstream::wait_head`].
    fn wait_head(
        self: Arc<Self>,
        after: u64,
        timeout_ms: u64,
    ) -> impl Future<Output = Result<Option<ChainHead>, PluginError>> + Send;
    /// See [`Upstream::fetch`].
    fn fetch(
        self: Arc<Self>,
        request: FetchRequest,
    ) -> impl Future<Output = Result<Fetched, PluginError>> + Send;
    /// See [`Upstream::call`].
    fn call(
        self: Arc<Self>,
        method: String,
        params: String,
    ) -> impl Future<Output = Result<String, PluginError>> + Send;
    /// See [`Upstream::report`]; must not block.
    fn report(&self, endpoint: &str, fault: FaultKind, detail: &str);
    /// See [`Upstream::endpoints`]; must not block.
    fn endpoints(&self) -> Vec<EndpointStatus>;
    /// See [`Upstream::shutdown`].
    fn shutdown(self: Arc<Self>) -> impl Future<Output = Result<(), PluginError>> + Send;
}

/// A rate-limit policy, in plain Rust. Futures run on the plugin's runtime,
/// unless [`RateLimiter::INLINE`] says they never wait on I/O.
pub trait RateLimiter: Send + Sync + 'static {
    /// When true, futures are polled to completion by the host directly
    /// (no hop to the plugin runtime): only for policies that never await
    /// I/O or timers, such as in-memory token buckets.
    const INLINE: bool = false;
    /// See [`RateLimitPolicy::check`].
    fn check(
        self: Arc<Self>,
        operator: String,
        cost: u32,
        now_ms: u64,
    ) -> impl Future<Output = Result<RateDecision, PluginError>> + Send;
    /// See [`RateLimitPolicy::set_limits`].
    fn set_limits(
        self: Arc<Self>,
        operator: String,
        limits: Option<OperatorLimits>,
    ) -> impl Future<Output = Result<(), PluginError>> + Send;
    /// See [`RateLimitPolicy::overrides`].
    fn overrides(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<Vec<OperatorOverride>, PluginError>> + Send;
    /// See [`RateLimitPolicy::shutdown`].
    fn shutdown(self: Arc<Self>) -> impl Future<Output = Result<(), PluginError>> + Send;
}

struct ValidationExport<T>(T);

impl<T: ValidationLevel> Validation for ValidationExport<T> {
    fn requirements(&self) -> Requirements {
        // A panic here cannot be reported as an error; treat it as "needs
        // everything" so the host fetches all it might need.
        guard(|| Ok(self.0.requirements()))
            .into_result()
            .unwrap_or_else(|_| Requirements::new(true, true, true))
    }

    fn validate(&self, request: &ValidationRequest) -> PluginResult<Verdict> {
        guard(|| self.0.validate(request))
    }
}

/// Wraps a [`ValidationLevel`] as a plugin instance.
pub fn validation_instance(level: impl ValidationLevel) -> PluginInstance {
    PluginInstance::validation(Validation_TO::from_value(
        ValidationExport(level),
        TD_Opaque,
    ))
}

struct StorageExport<T>(Arc<T>);

impl<T: StorageBackend> Storage for StorageExport<T> {
    fn write(&self, batch: WriteBatch) -> FfiFuture<PluginResult<()>> {
        let inner = Arc::clone(&self.0);
        spawn_blocking_ffi(move || inner.write(batch))
    }

    fn canonical_hashes(&self, numbers: RSlice<'_, u64>) -> PluginResult<RVec<ROption<H256>>> {
        guard(|| self.0.canonical_hashes(numbers.as_slice()))
    }

    fn block_number(&self, hash: &H256) -> PluginResult<ROption<u64>> {
        guard(|| self.0.block_number(hash).map(ROption::from))
    }

    fn parts(
        &self,
        part: BlockPart,
        hashes: RSlice<'_, H256>,
    ) -> PluginResult<RVec<ROption<RVec<u8>>>> {
        guard(|| self.0.parts(part, hashes.as_slice()))
    }

    fn transaction(&self, tx_hash: &H256) -> PluginResult<ROption<TxLocation>> {
        guard(|| self.0.transaction(tx_hash).map(ROption::from))
    }

    fn intervals(&self, space: Namespace, set: RStr<'_>) -> PluginResult<RVec<BlockRange>> {
        guard(|| self.0.intervals(space, set.as_str()))
    }

    fn meta(&self, space: Namespace, key: RStr<'_>) -> PluginResult<ROption<RVec<u8>>> {
        guard(|| self.0.meta(space, key.as_str()).map(ROption::from))
    }

    fn stats(&self) -> PluginResult<StorageStats> {
        guard(|| self.0.stats())
    }

    fn shutdown(&self) -> FfiFuture<PluginResult<()>> {
        let inner = Arc::clone(&self.0);
        spawn_blocking_ffi(move || inner.shutdown())
    }
}

/// Wraps a [`StorageBackend`] as a plugin instance.
pub fn storage_instance(backend: impl StorageBackend) -> PluginInstance {
    PluginInstance::storage(Storage_TO::from_value(
        StorageExport(Arc::new(backend)),
        TD_Opaque,
    ))
}

struct UpstreamExport<T>(Arc<T>);

impl<T: UpstreamSource> Upstream for UpstreamExport<T> {
    fn chain_id(&self) -> FfiFuture<PluginResult<u64>> {
        spawn_ffi(Arc::clone(&self.0).chain_id())
    }

    fn head(&self) -> FfiFuture<PluginResult<ChainHead>> {
        spawn_ffi(Arc::clone(&self.0).head())
    }

    fn wait_head(
        &self,
        after: u64,
        timeout_ms: u64,
    ) -> FfiFuture<PluginResult<ROption<ChainHead>>> {
        let work = Arc::clone(&self.0).wait_head(after, timeout_ms);
        spawn_ffi(async move { work.await.map(ROption::from) })
    }

    fn fetch(&self, request: FetchRequest) -> FfiFuture<PluginResult<Fetched>> {
        spawn_ffi(Arc::clone(&self.0).fetch(request))
    }

    fn call(&self, method: RString, params: RString) -> FfiFuture<PluginResult<RString>> {
        let work = Arc::clone(&self.0).call(method.into(), params.into());
        spawn_ffi(async move { work.await.map(RString::from) })
    }

    fn report(&self, endpoint: RStr<'_>, fault: FaultKind, detail: RStr<'_>) {
        let _ = guard(|| {
            self.0.report(endpoint.as_str(), fault, detail.as_str());
            Ok(())
        });
    }

    fn endpoints(&self) -> RVec<EndpointStatus> {
        guard(|| Ok(RVec::from(self.0.endpoints())))
            .into_result()
            .unwrap_or_default()
    }

    fn shutdown(&self) -> FfiFuture<PluginResult<()>> {
        spawn_ffi(Arc::clone(&self.0).shutdown())
    }
}

/// Wraps an [`UpstreamSource`] as a plugin instance.
pub fn upstream_instance(source: impl UpstreamSource) -> PluginInstance {
    PluginInstance::upstream(Upstream_TO::from_value(
        UpstreamExport(Arc::new(source)),
        TD_Opaque,
    ))
}

struct RateLimitExport<T>(Arc<T>);

impl<T: RateLimiter> RateLimitExport<T> {
    fn run<R, F>(work: F) -> FfiFuture<PluginResult<R>>
    where
        R: Send + 'static,
        F: Future<Output = Result<R, PluginError>> + Send + 'static,
    {
        if T::INLINE {
            // Catch panics while the host polls the future: an inline policy
            // still must not unwind into the host.
            let guarded = std::panic::AssertUnwindSafe(work);
            async move {
                match futures_catch_unwind(guarded).await {
                    Ok(result) => result.into(),
                    Err(message) => Err(PluginError::new(
                        hypasis_plugin_api::ErrorKind::Panic,
                        format!("plugin panicked: {message}"),
                    ))
                    .into(),
                }
            }
            .into_ffi()
        } else {
            spawn_ffi(work)
        }
    }
}

/// Polls `future`, catching a panic from any poll.
async fn futures_catch_unwind<F: Future>(
    future: std::panic::AssertUnwindSafe<F>,
) -> Result<F::Output, String> {
    let mut future = std::pin::pin!(future.0);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(value)) => std::task::Poll::Ready(Ok(value)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(crate::panic_message(payload.as_ref()))),
        }
    })
    .await
}

impl<T: RateLimiter> RateLimitPolicy for RateLimitExport<T> {
    fn check(
        &self,
        operator: RString,
        cost: u32,
        now_ms: u64,
    ) -> FfiFuture<PluginResult<RateDecision>> {
        Self::run(Arc::clone(&self.0).check(operator.into(), cost, now_ms))
    }

    fn set_limits(
        &self,
        operator: RString,
        limits: ROption<OperatorLimits>,
    ) -> FfiFuture<PluginResult<()>> {
        Self::run(Arc::clone(&self.0).set_limits(operator.into(), limits.into()))
    }

    fn overrides(&self) -> FfiFuture<PluginResult<RVec<OperatorOverride>>> {
        let work = Arc::clone(&self.0).overrides();
        Self::run(async move { work.await.map(RVec::from) })
    }

    fn shutdown(&self) -> FfiFuture<PluginResult<()>> {
        Self::run(Arc::clone(&self.0).shutdown())
    }
}

/// Wraps a [`RateLimiter`] as a plugin instance.
pub fn rate_limit_instance(policy: impl RateLimiter) -> PluginInstance {
    PluginInstance::rate_limit(RateLimitPolicy_TO::from_value(
        RateLimitExport(Arc::new(policy)),
        TD_Opaque,
    ))
}
