//! The `run` command: load the configured plugins, start the chain state,
//! sync, devp2p and the APIs, run until a shutdown signal, stop every
//! plugin cleanly.

mod plugin_set;
mod start;

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

pub use plugin_set::PluginSet;

use crate::{
    config::Config,
    nodekey::NodeKeyError,
    plugins::{PluginCallError, PluginLoadError},
};

/// Why the host could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A plugin could not be loaded.
    #[error(transparent)]
    Plugin(#[from] PluginLoadError),
    /// The node key could not be read or created.
    #[error(transparent)]
    NodeKey(#[from] NodeKeyError),
    /// The chain spec could not be had.
    #[error(transparent)]
    ChainSpec(#[from] crate::chain::ChainSpecError),
    /// The store holds another chain.
    #[error(transparent)]
    ChainIdentity(Box<crate::chain_identity::ChainIdentityError>),
    /// The L1 checkpoint source refused to start.
    #[error(transparent)]
    L1(#[from] crate::checkpoints::L1Error),
    /// The devp2p server could not start.
    #[error(transparent)]
    P2p(#[from] crate::p2p::P2pStartError),
    /// The chain state could not be read from the store.
    #[error(transparent)]
    ChainState(#[from] crate::chain_state::ChainStateError),
    /// An API server could not start.
    #[error(transparent)]
    Api(#[from] crate::api::ApiStartError),
    /// The metrics could not be set up.
    #[error("metrics: {0}")]
    Metrics(String),
    /// A configured value cannot be used.
    #[error("{0}")]
    Config(String),
    /// The store could not be read at start.
    #[error("reading the store: {0}")]
    Storage(PluginCallError),
    /// A plugin failed while stopping.
    #[error("while stopping: {0}")]
    Stop(PluginCallError),
}

impl From<crate::chain_identity::ChainIdentityError> for RunError {
    fn from(error: crate::chain_identity::ChainIdentityError) -> Self {
        RunError::ChainIdentity(Box::new(error))
    }
}

/// A running host: its plugins, chain state, sync and background servers.
pub struct Host {
    /// The loaded plugins.
    pub plugins: PluginSet,
    /// Sync's status, when syncing.
    pub sync_status: Option<Arc<parking_lot::RwLock<crate::sync::SyncStatus>>>,
    /// The metrics.
    pub metrics: crate::metrics::Metrics,
    /// The devp2p server, when `p2p.enabled` and there is a chain to serve.
    pub p2p: Option<crate::p2p::P2pServer>,
    /// The chain state's readers, when there is a chain to serve.
    pub head: Option<crate::chain_state::ChainWatch>,
    /// The JSON-RPC and REST servers, when enabled.
    pub api: Option<crate::api::ApiServers>,
    /// What the APIs read (also for tests that call them in-process).
    pub api_context: Arc<crate::api::ApiContext>,
    metrics_addr: Option<std::net::SocketAddr>,
    sync: Option<crate::sync::SyncHandle>,
    background: tokio::task::JoinSet<()>,
    shutdown: CancellationToken,
    shutdown_timeout: Duration,
}

impl Host {
    /// Starts everything the configuration asks for, as a list of steps;
    /// everything runs until `shutdown` is cancelled.
    pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Host, RunError> {
        let mut background = tokio::task::JoinSet::new();
        let spec = start::chain_spec(&config).await?;
        if let Some(spec) = &spec {
            // Before the store opens: a refused data dir stays byte for byte.
            crate::chain_identity::check_before_open(&config.storage.data_dir, spec)?;
        }
        let plugins = start::plugins(&config, spec.as_ref())?;
        let key = start::node_identity(&config)?;
        let metrics = crate::metrics::Metrics::new().map_err(RunError::Metrics)?;
        let metrics_addr =
            start::metrics_server(&config, &metrics, &mut background, &shutdown).await?;
        let chain =
            start::chain_state(&config, &plugins, spec.as_ref(), &mut background, &shutdown)
                .await?;
        let sync = start::sync(&config, &plugins, chain.as_ref(), &metrics, &shutdown)?;
        let head = chain.as_ref().map(|chain| chain.state.watch());
        let p2p = start::p2p(&config, &plugins, key, head.as_ref(), &metrics, &shutdown).await?;
        let api_context = Arc::new(start::api_context(
            &config,
            &plugins,
            spec.or_else(|| head.as_ref().map(|head| Arc::clone(head.spec()))),
            head.clone(),
            sync.as_ref(),
            p2p.as_ref(),
            metrics.clone(),
        )?);
        start::restore_operator_limits(&api_context).await;
        let api = start::api_servers(&config, &api_context, &shutdown).await?;
        start::membership(
            &config,
            &api_context,
            api.as_ref(),
            p2p.as_ref(),
            &mut background,
            &shutdown,
        )?;
        Ok(Host {
            sync_status: sync.as_ref().map(|sync| Arc::clone(&sync.status)),
            plugins,
            metrics,
            p2p,
            head,
            api,
            api_context,
            metrics_addr,
            sync,
            background,
            shutdown,
            shutdown_timeout: config.plugins.shutdown_timeout,
        })
    }

    /// Where Prometheus metrics are served, when `metrics.enabled`.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_addr
    }

    /// Cancels everything (if not already) and stops the plugins cleanly.
    pub async fn stop(mut self) -> Result<(), RunError> {
        self.shutdown.cancel();
        if let Some(sync) = self.sync.take() {
            sync.join().await;
        }
        if let Some(p2p) = self.p2p.take() {
            p2p.stopped().await;
        }
        if let Some(api) = self.api.take() {
            api.stopped().await;
        }
        while self.background.join_next().await.is_some() {}
        self.plugins
            .shutdown(self.shutdown_timeout)
            .await
            .map_err(RunError::Stop)?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// Runs the host until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), RunError> {
    let host = Host::start(config, shutdown.clone()).await?;
    shutdown.cancelled().await;
    host.stop().await
}
