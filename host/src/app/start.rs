//! The steps [`Host::start`](super::Host::start) takes, one function each.

use std::sync::Arc;

use hypasis_plugin_api::Direction;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{PluginSet, RunError};
use crate::{
    chain_state::ChainState,
    checkpoints::{CheckpointTracker, HeimdallSource, L1CheckpointSource, PollIntervals},
    config::{Config, ValidationLevelName},
    metrics::Metrics,
    nodekey::NodeKey,
    plugins::{PluginLoader, RateLimitPlugin, UpstreamPlugin, ValidationPlugin},
    sync::{Ledger, SpanBook, SyncServices, SyncSettings},
};

/// The chain state of this host and, when it syncs, what feeds it.
pub struct ChainSetup {
    /// The owner of the chain's state.
    pub state: Arc<ChainState>,
    /// L1 checkpoints and Heimdall milestones (syncing hosts).
    pub tracker: Option<Arc<CheckpointTracker>>,
    /// Sync's record of the stored coverage (syncing hosts).
    pub ledger: Option<Arc<Ledger>>,
}

fn syncing(config: &Config) -> bool {
    config.upstream.endpoints.iter().any(|url| !url.is_empty())
}

/// Step 1: the chain spec, when sync or a validation level needs the
/// chain's rules.
pub async fn chain_spec(
    config: &Config,
) -> Result<Option<Arc<hypasis_polygon::ChainSpec>>, RunError> {
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
    let needs_spec = syncing(config)
        || levels
            .iter()
            .any(|(enabled, level)| *enabled && *level != ValidationLevelName::None);
    if !needs_spec {
        return Ok(None);
    }
    let spec = crate::chain::resolve(
        config.chain,
        config.heimdall.url.as_deref(),
        config.genesis_file.as_deref(),
    )
    .await?;
    tracing::info!(chain = %spec.name, chain_id = spec.chain_id, "chain spec loaded");
    Ok(Some(Arc::new(spec)))
}

/// Step 2: every plugin the configuration names.
pub fn plugins(
    config: &Config,
    spec: Option<&Arc<hypasis_polygon::ChainSpec>>,
) -> Result<PluginSet, RunError> {
    let mut loader = PluginLoader::from_config(config);
    if let Some(spec) = spec {
        loader = loader.with_chain(serde_json::to_value(&**spec).unwrap_or_default());
    }
    tracing::info!(dir = %loader.dir().display(), "loading plugins");
    let plugins = PluginSet::load(config, &loader)?;
    tracing::info!(
        storage = plugins.storage.name(),
        forward = plugins.forward.as_deref().map(ValidationPlugin::name),
        backward = plugins.backward.as_deref().map(ValidationPlugin::name),
        upstream = plugins.upstream.as_deref().map(UpstreamPlugin::name),
        rate_limit = plugins.rate_limit.as_deref().map(RateLimitPlugin::name),
        "plugins loaded"
    );
    Ok(plugins)
}

/// Step 3: the node key (created on first start) and its identity.
pub fn node_identity(config: &Config) -> Result<NodeKey, RunError> {
    let (key, created) = NodeKey::load_or_create(&config.storage.data_dir)?;
    tracing::info!(
        node_id = %hex::encode(key.node_id()),
        created,
        instance = %config.cloud.instance_id,
        region = %config.cloud.region,
        "node identity ready"
    );
    Ok(key)
}

/// Step 4: Prometheus's `/metrics`, when enabled.
pub async fn metrics_server(
    config: &Config,
    metrics: &Metrics,
    background: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> Result<Option<std::net::SocketAddr>, RunError> {
    if !config.metrics.enabled {
        return Ok(None);
    }
    let listen = config.metrics.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| RunError::Metrics(format!("cannot listen on {listen}: {error}")))?;
    let local = listener
        .local_addr()
        .map_err(|error| RunError::Metrics(error.to_string()))?;
    background.spawn(metrics.clone().serve(listener, shutdown.clone()));
    tracing::info!(listen = %local, "metrics at /metrics");
    Ok(Some(local))
}

/// Step 5: the chain state — of the syncing chain (with the L1 + Heimdall
/// tracker polling in the background), or of a chain `import` stored.
/// `None` when there is neither.
pub async fn chain_state(
    config: &Config,
    plugins: &PluginSet,
    spec: Option<&Arc<hypasis_polygon::ChainSpec>>,
    background: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> Result<Option<ChainSetup>, RunError> {
    let storage = &plugins.storage;
    let Some(spec) = spec.filter(|_| plugins.upstream.is_some()) else {
        return served_chain_state(storage);
    };
    crate::chain_identity::bind(storage, &config.storage.data_dir, spec).await?;
    store_synced_spec(storage, spec).await?;
    let coverage = Ledger::load_coverage(storage).map_err(RunError::Storage)?;
    let state = ChainState::syncing(Arc::clone(spec), storage.as_ref(), coverage.clone())?;
    let ledger =
        Arc::new(Ledger::new(storage, coverage, Arc::clone(&state)).map_err(RunError::Storage)?);
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
    let heimdall = heimdall_source(config);
    let tracker = CheckpointTracker::new(Arc::clone(&state), l1, heimdall, Arc::clone(storage));
    background.spawn(Arc::clone(&tracker).run(
        PollIntervals {
            l1: config.l1.poll_interval,
            heimdall: config.heimdall.poll_interval,
        },
        shutdown.clone(),
    ));
    Ok(Some(ChainSetup {
        state,
        tracker: Some(tracker),
        ledger: Some(ledger),
    }))
}

/// The chain state of a store served without sync: the chain `import`
/// stored (fixed head), else the chain a syncing host filled it with (head
/// from the stored coverage), else none.
fn served_chain_state(
    storage: &Arc<crate::plugins::StoragePlugin>,
) -> Result<Option<ChainSetup>, RunError> {
    if let Some(served) =
        crate::served_chain::ServedChain::load(storage).map_err(RunError::Storage)?
    {
        return Ok(Some(ChainSetup {
            state: ChainState::served(storage.as_ref(), &served)?,
            tracker: None,
            ledger: None,
        }));
    }
    let Some(spec) = crate::served_chain::synced_spec(storage).map_err(RunError::Storage)? else {
        return Ok(None);
    };
    let coverage = Ledger::load_coverage(storage).map_err(RunError::Storage)?;
    tracing::info!(chain = %spec.name, head = ?coverage.forward_top(), "serving the chain a sync stored");
    Ok(Some(ChainSetup {
        state: ChainState::syncing(Arc::new(spec), storage.as_ref(), coverage)?,
        tracker: None,
        ledger: None,
    }))
}

/// Keeps the spec a syncing host runs with in the store, so `serve` can
/// serve the store later without the chain's sources.
async fn store_synced_spec(
    storage: &Arc<crate::plugins::StoragePlugin>,
    spec: &hypasis_polygon::ChainSpec,
) -> Result<(), RunError> {
    if crate::served_chain::synced_spec(storage)
        .map_err(RunError::Storage)?
        .as_ref()
        == Some(spec)
    {
        return Ok(());
    }
    let value = serde_json::to_vec(spec).map_err(|error| RunError::Config(error.to_string()))?;
    storage
        .write(hypasis_plugin_api::WriteBatch {
            meta: vec![crate::store_records::meta_set(
                hypasis_plugin_api::Namespace::Chain,
                crate::served_chain::SYNCED_SPEC_KEY,
                value,
            )]
            .into(),
            ..Default::default()
        })
        .await
        .map_err(RunError::Storage)
}

fn heimdall_source(config: &Config) -> Option<HeimdallSource> {
    config
        .heimdall
        .url
        .as_deref()
        .filter(|url| !url.is_empty())
        .map(|url| HeimdallSource::new(url, config.connection_pool.request_timeout))
}

/// Step 6: bidirectional sync, when there are upstreams to sync from.
pub fn sync(
    config: &Config,
    plugins: &PluginSet,
    chain: Option<&ChainSetup>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Result<Option<crate::sync::SyncHandle>, RunError> {
    let (
        Some(upstream),
        Some(ChainSetup {
            state,
            tracker: Some(tracker),
            ledger: Some(ledger),
        }),
    ) = (&plugins.upstream, chain)
    else {
        tracing::info!("no upstream endpoints configured: not syncing");
        return Ok(None);
    };
    let spec = Arc::clone(state.spec());
    let needs_spans = [plugins.forward.as_ref(), plugins.backward.as_ref()]
        .into_iter()
        .flatten()
        .any(|plugin| plugin.requirements().spans);
    let spans = match (tracker.heimdall(), needs_spans) {
        (Some(source), true) => Some(Arc::new(SpanBook::new(source.clone(), Arc::clone(&spec)))),
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
        tracker: Arc::clone(tracker),
        spans,
        ledger: Arc::clone(ledger),
        metrics: metrics.clone(),
        spec,
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
        .filter_map(|(direction, level)| (level == ValidationLevelName::None).then_some(direction))
        .collect(),
        ..SyncSettings::default()
    };
    Ok(Some(crate::sync::start(
        services,
        settings,
        shutdown.clone(),
    )))
}

/// Step 7: the devp2p server, when `p2p.enabled` and there is a chain to serve.
pub async fn p2p(
    config: &Config,
    plugins: &PluginSet,
    key: NodeKey,
    chain: Option<&crate::chain_state::ChainWatch>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Result<Option<crate::p2p::P2pServer>, RunError> {
    use crate::p2p::{P2pServer, P2pServices};
    if !config.p2p.enabled {
        return Ok(None);
    }
    let Some(chain) = chain else {
        tracing::warn!("devp2p not started: not syncing and the store holds no imported chain");
        return Ok(None);
    };
    let store: Arc<dyn crate::block_store::BlockStore> = plugins.storage.clone();
    let services = P2pServices {
        key,
        store,
        rate_limit: plugins.rate_limit.clone(),
        chain: chain.clone(),
        metrics: metrics.clone(),
    };
    let server = P2pServer::start(config, services, shutdown.clone()).await?;
    tracing::info!(
        enode = server.enode(),
        listen = %server.local_addr(),
        "devp2p serving"
    );
    Ok(Some(server))
}

/// Step 8: what the APIs read, this instance as a cluster member included.
pub fn api_context(
    config: &Config,
    plugins: &PluginSet,
    spec: Option<Arc<hypasis_polygon::ChainSpec>>,
    head: Option<crate::chain_state::ChainWatch>,
    sync: Option<&crate::sync::SyncHandle>,
    p2p: Option<&crate::p2p::P2pServer>,
    metrics: Metrics,
) -> Result<crate::api::ApiContext, RunError> {
    use crate::api::{
        ApiContext, ApiSettings, P2pView, cache::ResponseCache, jwt::TokenVerifier,
        limiter::ApiLimiter, operators::OperatorLimitsStore,
    };
    let secret = config.api.jwt_secret.expose();
    let cluster = cluster_view(config, p2p, head.clone(), sync.is_some())?;
    let shared = cluster
        .redis_pool()
        .map(|pool| crate::cluster::SharedOverrides::new(pool.clone()));
    let operators = OperatorLimitsStore::new(
        Arc::clone(&plugins.storage),
        plugins.rate_limit.clone(),
        shared,
    );
    let mut limiter = ApiLimiter::new(plugins.rate_limit.clone(), metrics.clone());
    if let (Some(pool), Some(_)) = (cluster.redis_pool(), &plugins.rate_limit) {
        use crate::cluster::{Allowance, ClusterBudget};
        let limits = &config.ratelimit;
        limiter = limiter.with_cluster(crate::api::limiter::ClusterLimits {
            budget: Arc::new(ClusterBudget::new(
                pool.clone(),
                cluster.clone(),
                metrics.clone(),
            )),
            operators: operators.clone(),
            default: Allowance::new(limits.per_operator_rps, limits.burst),
            global: Allowance::new(limits.global_rps, 0),
        });
    }
    Ok(ApiContext {
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
        upstream: plugins.upstream.clone(),
        p2p: p2p.map(|server| P2pView {
            enode: server.enode().to_string(),
            peers: server.peer_table(),
            reputation: server.reputation(),
            max_peers: config.p2p.max_peers,
        }),
        limiter,
        operators,
        cache: ResponseCache::bounded(
            config.cache.enabled.then_some(config.cache.max_entries),
            Some(config.cache.max_size.0),
        ),
        metrics,
        history: Arc::default(),
        started: std::time::Instant::now(),
        cluster,
    })
}

/// This instance as a cluster member (also without a cluster: the APIs
/// list it alone); its public URLs are set once the API servers listen.
fn cluster_view(
    config: &Config,
    p2p: Option<&crate::p2p::P2pServer>,
    head: Option<crate::chain_state::ChainWatch>,
    syncing: bool,
) -> Result<crate::cluster::ClusterView, RunError> {
    use crate::cluster::{ClusterView, Member, RedisPool, Role, member::MEMBER_VERSION};
    let local = Member {
        v: MEMBER_VERSION,
        instance_id: config.cloud.instance_id.clone(),
        region: config.cloud.region.clone(),
        enode: p2p.map(|server| server.enode().to_string()),
        api_url: None,
        rpc_url: None,
        head: None,
        version: env!("CARGO_PKG_VERSION").to_string(),
        role: if syncing { Role::Syncer } else { Role::Server },
        heartbeat_ms: 0,
    };
    let redis = config
        .cluster
        .enabled
        .then(|| RedisPool::new(&config.cluster))
        .transpose()
        .map_err(|error| RunError::Config(error.to_string()))?;
    Ok(ClusterView::new(
        local,
        config.cluster.member_ttl,
        head,
        redis,
    ))
}

/// The public URL of an API listening on `bound`: as configured, else
/// `http://<public IP>:<port>` (the enode's IP when devp2p runs, else
/// `cloud.external_ip`, else the listen address).
fn public_url(
    configured: Option<&String>,
    bound: Option<std::net::SocketAddr>,
    config: &Config,
    p2p: Option<&crate::p2p::P2pServer>,
) -> Option<String> {
    if let Some(url) = configured {
        return Some(url.clone());
    }
    let bound = bound?;
    let ip = match (p2p, config.cloud.external_ip) {
        (Some(server), _) => server.external_address().ip,
        (None, crate::config::ExternalIp::Fixed(ip)) => ip,
        (None, crate::config::ExternalIp::Auto) => bound.ip(),
    };
    Some(format!(
        "http://{}",
        std::net::SocketAddr::new(ip, bound.port())
    ))
}

/// Step 11: this instance's URLs in its record and, when `cluster.enabled`,
/// the heartbeat and the shared operator overrides (started even if Redis
/// is down: they join when it answers).
pub fn membership(
    config: &Config,
    context: &crate::api::ApiContext,
    api: Option<&crate::api::ApiServers>,
    p2p: Option<&crate::p2p::P2pServer>,
    background: &mut tokio::task::JoinSet<()>,
    shutdown: &CancellationToken,
) -> Result<(), RunError> {
    let view = &context.cluster;
    let metrics = &context.metrics;
    view.set_urls(
        public_url(
            config.cloud.public_api_url.as_ref(),
            api.and_then(|api| api.rest),
            config,
            p2p,
        ),
        public_url(
            config.cloud.public_rpc_url.as_ref(),
            api.and_then(|api| api.rpc),
            config,
            p2p,
        ),
    );
    let Some(redis) = view.redis_pool() else {
        return Ok(());
    };
    let registry = crate::cluster::MemberRegistry::new(redis.clone());
    tracing::info!(
        instance = %config.cloud.instance_id,
        prefix = %config.cluster.key_prefix,
        "cluster: membership and operator overrides through Redis (range leases, shared limits and the shared cache are not built yet)"
    );
    let membership = crate::cluster::Membership::new(
        registry,
        view.clone(),
        config.cluster.heartbeat_interval,
        metrics.clone(),
    );
    background.spawn(membership.run(shutdown.clone()));
    if let Some(feed) = context
        .operators
        .feed(config.cluster.heartbeat_interval, metrics.clone())
    {
        background.spawn(feed.run(shutdown.clone()));
    }
    Ok(())
}

/// Step 9: hands the per-operator limits the store keeps to the rate-limit plugin.
pub async fn restore_operator_limits(context: &crate::api::ApiContext) {
    match context.operators.restore().await {
        Ok(0) => {}
        Ok(restored) => tracing::info!(restored, "per-operator limits restored"),
        Err(error) => tracing::warn!(%error, "per-operator limits not restored"),
    }
}

/// Step 10: the JSON-RPC and REST servers, when enabled.
pub async fn api_servers(
    config: &Config,
    context: &Arc<crate::api::ApiContext>,
    shutdown: &CancellationToken,
) -> Result<Option<crate::api::ApiServers>, RunError> {
    let rpc_listen = config.api.rpc.enabled.then_some(config.api.rpc.listen);
    let rest_listen = config.api.rest.enabled.then_some(config.api.rest.listen);
    if rpc_listen.is_none() && rest_listen.is_none() {
        return Ok(None);
    }
    Ok(Some(
        crate::api::start(
            Arc::clone(context),
            rpc_listen,
            rest_listen,
            shutdown.clone(),
        )
        .await?,
    ))
}
