//! The `run` command: load the configured plugins, run until a shutdown
//! signal, stop every plugin cleanly.
//!
//! Sync (issue 4/6), devp2p (5/6) and the APIs (6/6) are started from here
//! as they land; today `run` brings up the plugin set and the node identity.

use std::{sync::Arc, time::Duration};

use hypasis_plugin_api::Direction;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    nodekey::{NodeKey, NodeKeyError},
    plugins::{
        PluginCallError, PluginLoadError, PluginLoader, RateLimitPlugin, StoragePlugin,
        UpstreamPlugin, ValidationPlugin,
    },
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
    /// The L1 checkpoint source refused to start.
    #[error(transparent)]
    L1(#[from] crate::checkpoints::L1Error),
    /// The devp2p server could not start.
    #[error(transparent)]
    P2p(#[from] crate::p2p::P2pStartError),
    /// The served head could not be read.
    #[error(transparent)]
    Head(#[from] crate::head::ChainViewError),
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

/// The plugin instances one host runs with.
pub struct PluginSet {
    /// The block store.
    pub storage: Arc<StoragePlugin>,
    /// Forward validation, when forward sync is enabled.
    pub forward: Option<Arc<ValidationPlugin>>,
    /// Backward validation, when backward sync is enabled.
    pub backward: Option<Arc<ValidationPlugin>>,
    /// The block source, when endpoints are configured.
    pub upstream: Option<Arc<UpstreamPlugin>>,
    /// The rate-limit policy, when limits are enabled.
    pub rate_limit: Option<Arc<RateLimitPlugin>>,
}

impl PluginSet {
    /// Loads every plugin the configuration names; the first failure stops start-up.
    pub fn load(config: &Config, loader: &PluginLoader) -> Result<Self, PluginLoadError> {
        let storage = loader.storage(config)?;
        let forward = config
            .sync
            .forward
            .enabled
            .then(|| {
                loader.validation(
                    "sync.forward.validation_level",
                    config.sync.forward.validation_level,
                    "forward",
                )
            })
            .transpose()?;
        let backward = config
            .sync
            .backward
            .enabled
            .then(|| {
                loader.validation(
                    "sync.backward.validation_level",
                    config.sync.backward.validation_level,
                    "backward",
                )
            })
            .transpose()?;
        let has_endpoints = config.upstream.endpoints.iter().any(|url| !url.is_empty());
        let upstream = has_endpoints.then(|| loader.upstream(config)).transpose()?;
        let rate_limit = config
            .ratelimit
            .enabled
            .then(|| loader.rate_limit(config))
            .transpose()?;
        Ok(PluginSet {
            storage: Arc::new(storage),
            forward: forward.map(Arc::new),
            backward: backward.map(Arc::new),
            upstream: upstream.map(Arc::new),
            rate_limit: rate_limit.map(Arc::new),
        })
    }

    /// Stops the I/O plugins, each within `timeout`; storage last, so that
    /// nothing writes after it closed. Returns the first error.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), PluginCallError> {
        let mut first_error = None;
        let mut note =
            |result: Result<Result<(), PluginCallError>, tokio::time::error::Elapsed>,
             name: &str| match result {
                Ok(Ok(())) => tracing::debug!(plugin = name, "plugin stopped"),
                Ok(Err(error)) => {
                    tracing::error!(%error, "plugin failed to stop cleanly");
                    first_error.get_or_insert(error);
                }
                Err(_) => tracing::error!(plugin = name, ?timeout, "plugin did not stop in time"),
            };
        if let Some(upstream) = &self.upstream {
            note(
                tokio::time::timeout(timeout, upstream.shutdown()).await,
                upstream.name(),
            );
        }
        if let Some(limits) = &self.rate_limit {
            note(
                tokio::time::timeout(timeout, limits.shutdown()).await,
                limits.name(),
            );
        }
        note(
            tokio::time::timeout(timeout, self.storage.shutdown()).await,
            self.storage.name(),
        );
        first_error.map_or(Ok(()), Err)
    }
}

/// A running host: its plugins, sync and background servers.
pub struct Host {
    /// The loaded plugins.
    pub plugins: PluginSet,
    /// Sync's status, when syncing.
    pub sync_status: Option<Arc<parking_lot::RwLock<crate::sync::SyncStatus>>>,
    /// The metrics.
    pub metrics: crate::metrics::Metrics,
    /// The devp2p server, when `p2p.enabled` and there is a chain to serve.
    pub p2p: Option<crate::p2p::P2pServer>,
    /// The served head, when there is a chain to serve.
    pub head: Option<crate::head::ChainWatch>,
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
    /// Loads the plugins and the node identity and starts sync and the
    /// servers; everything runs until `shutdown` is cancelled.
    pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Host, RunError> {
        let mut loader = PluginLoader::from_config(&config);
        // Validation levels above `none` and sync apply chain rules: they need the spec.
        let levels = [
            (
                config.sync.forward.enabled,
                config.sync.forward.validation_level,
            ),
            (
                config.sync.backward.enabled,
                config.sync.backward.validation_level,
            ),
        ];
        let syncing = config.upstream.endpoints.iter().any(|url| !url.is_empty());
        let needs_spec = syncing
            || levels.iter().any(|(enabled, level)| {
                *enabled && *level != crate::config::ValidationLevelName::None
            });
        let spec = if needs_spec {
            let spec = crate::chain::resolve(config.chain, config.heimdall.url.as_deref()).await?;
            tracing::info!(chain = %spec.name, chain_id = spec.chain_id, "chain spec loaded");
            loader = loader.with_chain(serde_json::to_value(&spec).unwrap_or_default());
            Some(Arc::new(spec))
        } else {
            None
        };
        tracing::info!(dir = %loader.dir().display(), "loading plugins");
        let plugins = PluginSet::load(&config, &loader)?;
        tracing::info!(
            storage = plugins.storage.name(),
            forward = plugins.forward.as_deref().map(ValidationPlugin::name),
            backward = plugins.backward.as_deref().map(ValidationPlugin::name),
            upstream = plugins.upstream.as_deref().map(UpstreamPlugin::name),
            rate_limit = plugins.rate_limit.as_deref().map(RateLimitPlugin::name),
            "plugins loaded"
        );
        let (key, created) = NodeKey::load_or_create(&config.storage.data_dir)?;
        tracing::info!(
            node_id = %hex::encode(key.node_id()),
            created,
            instance = %config.cloud.instance_id,
            region = %config.cloud.region,
            "node identity ready"
        );
        let metrics = crate::metrics::Metrics::new().map_err(RunError::Metrics)?;
        let mut background = tokio::task::JoinSet::new();
        let metrics_addr = if config.metrics.enabled {
            let listen = config.metrics.listen;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|error| {
                    RunError::Metrics(format!("cannot listen on {listen}: {error}"))
                })?;
            let local = listener
                .local_addr()
                .map_err(|error| RunError::Metrics(error.to_string()))?;
            background.spawn(metrics.clone().serve(listener, shutdown.clone()));
            tracing::info!(listen = %local, "metrics at /metrics");
            Some(local)
        } else {
            None
        };
        let sync = match (&plugins.upstream, &spec) {
            (Some(upstream), Some(spec)) => Some(
                start_sync(
                    &config,
                    &plugins,
                    upstream,
                    spec,
                    metrics.clone(),
                    shutdown.clone(),
                )
                .await?,
            ),
            _ => {
                tracing::info!("no upstream endpoints configured: not syncing");
                None
            }
        };
        let sync_status = sync.as_ref().map(|sync| Arc::clone(&sync.status));
        let head = start_head(
            &config,
            &plugins,
            spec.as_ref(),
            sync_status.as_ref(),
            shutdown.clone(),
        )?;
        let p2p = match (&head, config.p2p.enabled) {
            (Some(head), true) => Some(
                start_p2p(
                    &config,
                    &plugins,
                    key,
                    head.clone(),
                    metrics.clone(),
                    shutdown.clone(),
                )
                .await?,
            ),
            (None, true) => {
                tracing::warn!(
                    "devp2p not started: not syncing and the store holds no imported chain"
                );
                None
            }
            (_, false) => None,
        };
        let api_context = Arc::new(api_context(
            &config,
            &plugins,
            spec.clone()
                .or_else(|| head.as_ref().map(|head| Arc::clone(head.spec()))),
            head.clone(),
            sync.as_ref(),
            p2p.as_ref(),
            metrics.clone(),
        ));
        match api_context.operators.restore().await {
            Ok(0) => {}
            Ok(restored) => tracing::info!(restored, "per-operator limits restored"),
            Err(error) => tracing::warn!(%error, "per-operator limits not restored"),
        }
        let rpc_listen = config.api.rpc.enabled.then_some(config.api.rpc.listen);
        let rest_listen = config.api.rest.enabled.then_some(config.api.rest.listen);
        let api = if rpc_listen.is_some() || rest_listen.is_some() {
            Some(
                crate::api::start(
                    Arc::clone(&api_context),
                    rpc_listen,
                    rest_listen,
                    shutdown.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Host {
            sync_status,
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

/// What the APIs read.
fn api_context(
    config: &Config,
    plugins: &PluginSet,
    spec: Option<Arc<hypasis_polygon::ChainSpec>>,
    head: Option<crate::head::ChainWatch>,
    sync: Option<&crate::sync::SyncHandle>,
    p2p: Option<&crate::p2p::P2pServer>,
    metrics: crate::metrics::Metrics,
) -> crate::api::ApiContext {
    use crate::api::{
        ApiContext, ApiSettings, P2pView, cache::ResponseCache, jwt::TokenVerifier,
        limiter::ApiLimiter, operators::OperatorLimitsStore,
    };
    let secret = config.api.jwt_secret.expose();
    ApiContext {
        settings: ApiSettings {
            instance_id: config.cloud.instance_id.clone(),
            region: config.cloud.region.clone(),
            max_batch: config.api.rpc.max_batch as usize,
            max_request_size: config.api.rpc.max_request_size.0,
            proxy_unknown: config.api.rpc.proxy_unknown,
            jwt: (!secret.is_empty()).then(|| TokenVerifier::new(secret)),
            forward_level: config
                .sync
                .forward
                .enabled
                .then_some(config.sync.forward.validation_level),
            backward_level: config
                .sync
                .backward
                .enabled
                .then_some(config.sync.backward.validation_level),
            floor: config.sync.backward.floor,
            default_rps: config.ratelimit.per_operator_rps,
            default_burst: config.ratelimit.burst,
            max_connections: config.connection_pool.max_connections as usize,
        },
        store: Arc::clone(&plugins.storage),
        spec,
        head,
        sync: sync.map(|sync| Arc::clone(&sync.status)),
        checkpoints: sync.map(|sync| Arc::clone(&sync.checkpoints)),
        upstream: plugins.upstream.clone(),
        p2p: p2p.map(|server| P2pView {
            enode: server.enode().to_string(),
            peers: server.peer_table(),
            max_peers: config.p2p.max_peers,
        }),
        limiter: ApiLimiter::new(plugins.rate_limit.clone(), metrics.clone()),
        operators: OperatorLimitsStore::new(
            Arc::clone(&plugins.storage),
            plugins.rate_limit.clone(),
        ),
        cache: ResponseCache::new(config.cache.enabled.then_some(config.cache.max_entries)),
        metrics,
        history: Arc::default(),
        started: std::time::Instant::now(),
    }
}

/// Starts following the head the store serves: the syncing chain, or a
/// chain `import` put there (`serve`). `None` when there is neither.
fn start_head(
    config: &Config,
    plugins: &PluginSet,
    spec: Option<&Arc<hypasis_polygon::ChainSpec>>,
    sync_status: Option<&Arc<parking_lot::RwLock<crate::sync::SyncStatus>>>,
    shutdown: CancellationToken,
) -> Result<Option<crate::head::ChainWatch>, RunError> {
    use crate::head::ChainView;
    let view = match (spec, sync_status) {
        (Some(spec), Some(status)) => ChainView::Sync {
            spec: Arc::clone(spec),
            status: Arc::clone(status),
            heimdall: config
                .heimdall
                .url
                .as_deref()
                .filter(|url| !url.is_empty())
                .map(|url| {
                    crate::checkpoints::HeimdallSource::new(
                        url,
                        config.connection_pool.request_timeout,
                    )
                }),
        },
        _ => match crate::served_chain::ServedChain::load(&plugins.storage)
            .map_err(RunError::Storage)?
        {
            Some(served) => ChainView::Served(Box::new(served)),
            None => return Ok(None),
        },
    };
    let store: Arc<dyn crate::block_store::BlockStore> = plugins.storage.clone();
    Ok(Some(view.start(store, shutdown)?))
}

/// Starts the devp2p server on the served head.
async fn start_p2p(
    config: &Config,
    plugins: &PluginSet,
    key: NodeKey,
    chain: crate::head::ChainWatch,
    metrics: crate::metrics::Metrics,
    shutdown: CancellationToken,
) -> Result<crate::p2p::P2pServer, RunError> {
    use crate::p2p::{P2pServer, P2pServices};
    let store: Arc<dyn crate::block_store::BlockStore> = plugins.storage.clone();
    let services = P2pServices {
        key,
        store,
        rate_limit: plugins.rate_limit.clone(),
        chain,
        metrics,
    };
    let server = P2pServer::start(config, services, shutdown).await?;
    tracing::info!(
        enode = server.enode(),
        listen = %server.local_addr(),
        "devp2p serving"
    );
    Ok(server)
}

/// Starts bidirectional sync with the loaded plugins.
async fn start_sync(
    config: &Config,
    plugins: &PluginSet,
    upstream: &Arc<UpstreamPlugin>,
    spec: &Arc<hypasis_polygon::ChainSpec>,
    metrics: crate::metrics::Metrics,
    shutdown: CancellationToken,
) -> Result<crate::sync::SyncHandle, RunError> {
    use crate::{
        checkpoints::{HeimdallSource, L1CheckpointSource},
        sync::{CheckpointBook, SpanBook, SyncServices, SyncSettings},
    };
    let timeout = config.connection_pool.request_timeout;
    let l1 = match config.l1.rpc_url.as_deref().filter(|url| !url.is_empty()) {
        Some(url) => {
            let root_chain = config
                .l1
                .root_chain
                .as_deref()
                .map(|text| {
                    text.parse().map_err(|error| {
                        RunError::Config(format!("l1.root_chain `{text}`: {error}"))
                    })
                })
                .transpose()?;
            Some(L1CheckpointSource::connect(url, spec, root_chain, config.l1.confirmations).await?)
        }
        None => None,
    };
    let heimdall = config
        .heimdall
        .url
        .as_deref()
        .filter(|url| !url.is_empty())
        .map(|url| HeimdallSource::new(url, timeout));
    let needs_spans = [plugins.forward.as_ref(), plugins.backward.as_ref()]
        .into_iter()
        .flatten()
        .any(|plugin| plugin.requirements().spans);
    let spans = match (&heimdall, needs_spans) {
        (Some(source), true) => Some(Arc::new(SpanBook::new(source.clone(), Arc::clone(spec)))),
        (None, true) => {
            return Err(RunError::Config(
                "the `full` validation level needs heimdall.url for spans".into(),
            ));
        }
        _ => None,
    };
    let anchor = match (
        config.sync.anchor.number,
        config.sync.anchor.hash.as_deref(),
    ) {
        (Some(number), Some(hash)) => Some((
            number,
            hash.parse()
                .map_err(|error| RunError::Config(format!("sync.anchor.hash: {error}")))?,
        )),
        _ => None,
    };
    let services = SyncServices {
        storage: Arc::clone(&plugins.storage),
        upstream: Arc::clone(upstream),
        forward: plugins.forward.clone(),
        backward: plugins.backward.clone(),
        checkpoints: Arc::new(CheckpointBook::load(l1, Arc::clone(&plugins.storage))),
        spans,
        heimdall,
        metrics,
        spec: Arc::clone(spec),
        write_time: Arc::default(),
    };
    let settings = SyncSettings {
        batch_size: u64::from(config.sync.forward.batch_size),
        ranges_in_flight: config.sync.backward.ranges_in_flight as usize,
        floor: config.sync.backward.floor,
        anchor,
        head_poll: config.sync.head_poll_interval,
        trusts_upstream: [
            (Direction::Forward, config.sync.forward.validation_level),
            (Direction::Backward, config.sync.backward.validation_level),
        ]
        .into_iter()
        .filter_map(|(direction, level)| {
            (level == crate::config::ValidationLevelName::None).then_some(direction)
        })
        .collect(),
        ..SyncSettings::default()
    };
    Ok(crate::sync::start(services, settings, shutdown))
}
