//! What the APIs read: the store, the served head, sync's status, the
//! checkpoints, the peers, the upstreams, the limits. One struct, built by
//! the host at start-up and shared by every request.

use std::{sync::Arc, time::Instant};

use alloy_primitives::B256;
use hypasis_polygon::ChainSpec;
use parking_lot::RwLock;

use super::{
    cache::ResponseCache, history::RateHistory, jwt::TokenVerifier, limiter::ApiLimiter,
    operators::OperatorLimitsStore, rpc::render::Dialect,
};
use crate::{
    chain_state::{ChainWatch, Coverage},
    checkpoints::{L1Checkpoint, Milestone},
    config::ValidationLevelName,
    metrics::Metrics,
    p2p::peers::PeerTable,
    plugins::{PluginCallError, StoragePlugin, UpstreamPlugin},
    sync::SyncStatus,
};

/// The devp2p server as the APIs see it.
#[derive(Clone)]
pub struct P2pView {
    /// Our enode URL.
    pub enode: String,
    /// Connected peers.
    pub peers: Arc<PeerTable>,
    /// Peer bans (listed and lifted by the admin API).
    pub reputation: Arc<crate::p2p::reputation::Reputation>,
    /// `p2p.max_peers`.
    pub max_peers: u32,
}

/// Settings the APIs take from the configuration.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `cloud.instance_id`.
    pub instance_id: String,
    /// `cloud.region`.
    pub region: String,
    /// `api.rpc.max_batch`.
    pub max_batch: usize,
    /// `api.rpc.max_request_size`, in bytes.
    pub max_request_size: u64,
    /// `api.rpc.proxy_unknown`.
    pub proxy_unknown: bool,
    /// Admin tokens, when `api.jwt_secret` is set.
    pub jwt: Option<TokenVerifier>,
    /// `sync.forward.validation_level`, when forward sync runs.
    pub forward_level: Option<ValidationLevelName>,
    /// `sync.backward.validation_level`, when backward sync runs.
    pub backward_level: Option<ValidationLevelName>,
    /// `sync.backward.floor`.
    pub floor: u64,
    /// `ratelimit.per_operator_rps`: what an operator without an override gets.
    pub default_rps: f64,
    /// `ratelimit.burst`.
    pub default_burst: u32,
    /// `connection_pool.max_connections`: open connections per API server.
    pub max_connections: usize,
}

/// Everything a request handler may read.
pub struct ApiContext {
    /// Settings.
    pub settings: ApiSettings,
    /// The block store.
    pub store: Arc<StoragePlugin>,
    /// The chain served, when known.
    pub spec: Option<Arc<ChainSpec>>,
    /// The served head, when there is one.
    pub head: Option<ChainWatch>,
    /// Sync's status, when syncing.
    pub sync: Option<Arc<RwLock<SyncStatus>>>,
    /// The upstreams, when configured.
    pub upstream: Option<Arc<UpstreamPlugin>>,
    /// devp2p, when it runs.
    pub p2p: Option<P2pView>,
    /// Per-operator request limits.
    pub limiter: ApiLimiter,
    /// Admin-set limits, persisted.
    pub operators: OperatorLimitsStore,
    /// Rendered responses.
    pub cache: ResponseCache,
    /// Metrics.
    pub metrics: Metrics,
    /// Blocks/s over the last hour.
    pub history: Arc<RateHistory>,
    /// When the host started.
    pub started: Instant,
    /// The cluster as the last heartbeat saw it (this instance alone
    /// without `cluster.enabled`).
    pub cluster: crate::cluster::ClusterView,
}

impl ApiContext {
    /// The JSON dialect of the served chain.
    pub fn dialect(&self) -> Dialect {
        self.spec.as_deref().map_or(Dialect::Bor, Dialect::of)
    }

    /// The canonical hash at `number`.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, PluginCallError> {
        Ok(self
            .store
            .canonical_hashes(&[number])?
            .pop()
            .flatten()
            .map(B256::from))
    }

    /// Whether sync is running (not a served, imported chain).
    pub fn is_syncing_host(&self) -> bool {
        self.sync.is_some()
    }

    /// The newest milestone the chain state knows (`safe`).
    pub fn safe(&self) -> Option<Milestone> {
        self.head.as_ref().and_then(ChainWatch::safe)
    }

    /// The newest L1 checkpoint the chain state knows (`finalized`).
    pub fn finalized(&self) -> Option<L1Checkpoint> {
        self.head.as_ref().and_then(ChainWatch::finalized)
    }

    /// Every L1 checkpoint the chain state knows, ascending.
    pub fn checkpoints(&self) -> Vec<L1Checkpoint> {
        self.head
            .as_ref()
            .map(|chain| chain.state().checkpoints())
            .unwrap_or_default()
    }

    /// The stored coverage, as the chain state has it.
    pub fn coverage(&self) -> Arc<Coverage> {
        self.head
            .as_ref()
            .map(ChainWatch::coverage)
            .unwrap_or_default()
    }
}
