//! The operator-facing APIs: JSON-RPC on `api.rpc.listen` ([`rpc`]), REST
//! and the status page on `api.rest.listen` ([`rest`]). Prometheus metrics
//! are served apart, on `metrics.listen` ([`crate::metrics`]).
//!
//! Everything reads one [`ApiContext`]; limits go through the rate-limit
//! plugin ([`limiter`]), per-operator overrides are persisted
//! ([`operators`]), rendered responses are cached by block hash ([`cache`]).

pub mod cache;
pub mod context;
pub mod history;
pub mod identity;
pub mod jwt;
pub mod limiter;
pub mod listener;
pub mod operator_feed;
pub mod operators;
pub mod rest;
pub mod rpc;

use std::{net::SocketAddr, sync::Arc, time::Duration};

pub use context::{ApiContext, ApiSettings, P2pView};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

/// Why an API server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiStartError {
    /// The listener could not be bound.
    #[error("cannot listen for {api} on {addr}: {source}")]
    Bind {
        /// `api.rpc` or `api.rest`.
        api: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The running API servers.
pub struct ApiServers {
    /// Where JSON-RPC listens, when enabled.
    pub rpc: Option<SocketAddr>,
    /// Where REST and the page listen, when enabled.
    pub rest: Option<SocketAddr>,
    tasks: JoinSet<()>,
}

impl ApiServers {
    /// Waits for the servers to stop (after shutdown).
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn bind(
    api: &'static str,
    addr: SocketAddr,
) -> Result<(TcpListener, SocketAddr), ApiStartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ApiStartError::Bind { api, addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ApiStartError::Bind { api, addr, source })?;
    Ok((listener, local))
}

/// How often the cache hit ratio gauge is updated.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// Binds the enabled servers and serves until `shutdown`.
pub async fn start(
    ctx: Arc<ApiContext>,
    rpc: Option<SocketAddr>,
    rest: Option<SocketAddr>,
    shutdown: CancellationToken,
) -> Result<ApiServers, ApiStartError> {
    let mut tasks = JoinSet::new();
    let rpc = match rpc {
        Some(addr) => {
            let (listener, local) = bind("JSON-RPC (api.rpc.listen)", addr).await?;
            tasks.spawn(rpc::serve(Arc::clone(&ctx), listener, shutdown.clone()));
            tracing::info!(listen = %local, "JSON-RPC serving (HTTP and WebSocket)");
            Some(local)
        }
        None => None,
    };
    let rest = match rest {
        Some(addr) => {
            let (listener, local) = bind("REST (api.rest.listen)", addr).await?;
            tasks.spawn(rest::serve(Arc::clone(&ctx), listener, shutdown.clone()));
            tracing::info!(listen = %local, "REST and the status page serving");
            Some(local)
        }
        None => None,
    };
    if let Some(status) = &ctx.sync {
        tasks.spawn(Arc::clone(&ctx.history).run(Arc::clone(status), shutdown.clone()));
    }
    let gauge_ctx = Arc::clone(&ctx);
    let gauge_shutdown = shutdown.clone();
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
        loop {
            tokio::select! {
                _ = gauge_shutdown.cancelled() => return,
                _ = ticks.tick() => gauge_ctx.metrics.cache_hit_ratio.record(gauge_ctx.cache.hit_ratio(), &[]),
            }
        }
    });
    Ok(ApiServers { rpc, rest, tasks })
}
