//! Per-operator limits set through the admin API, kept in the store's
//! metadata (`api/operator-limits`, JSON) so that they survive a restart,
//! and handed to the rate-limit plugin at start and on every change.
//!
//! In a cluster the map also lives in Redis ([`SharedOverrides`]): a change
//! made on any instance is written there and announced, and every instance
//! applies it ([`super::operator_feed`]) and keeps it in its own store, from
//! which a Redis that lost its data is seeded again.

use std::{collections::BTreeMap, sync::Arc};

use hypasis_plugin_api::{Namespace, OperatorLimits, WriteBatch};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{
    cluster::{ClusterError, SharedOverrides},
    plugins::{PluginCallError, RateLimitPlugin, StoragePlugin},
};

/// The metadata key holding the map.
pub const OPERATOR_LIMITS_KEY: &str = "api/operator-limits";

/// One operator's limits, as stored and as the admin API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Sustained requests per second.
    pub rps: f64,
    /// Burst above the rate.
    pub burst: u32,
}

impl From<Limits> for OperatorLimits {
    fn from(limits: Limits) -> Self {
        OperatorLimits::new(limits.rps, limits.burst)
    }
}

/// Why a change could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OperatorLimitsError {
    /// Limits are off (`ratelimit.enabled: false`).
    #[error("rate limits are disabled (ratelimit.enabled is false)")]
    Disabled,
    /// The policy refused (for example `ratelimit-token-bucket`, which has no overrides).
    #[error("{0}")]
    Refused(PluginCallError),
    /// The store failed.
    #[error("storage: {0}")]
    Storage(PluginCallError),
    /// The stored map does not parse.
    #[error("stored operator limits are damaged: {0}")]
    Corrupt(String),
    /// In a cluster, the change could not reach Redis, so it was not made
    /// (it would have held on this instance only).
    #[error("the cluster's Redis did not take the change, so it applies nowhere: {0}")]
    Cluster(ClusterError),
}

impl Limits {
    /// Decodes and checks one value read from Redis (another instance's,
    /// or anything else someone wrote there).
    pub fn decode_shared(bytes: &[u8]) -> Result<Limits, String> {
        let limits: Limits = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
        if !limits.rps.is_finite() || limits.rps < 0.0 {
            return Err(format!("`rps` {} is not a number >= 0", limits.rps));
        }
        Ok(limits)
    }

    /// The value written to Redis.
    pub fn encode_shared(self) -> Vec<u8> {
        serde_json::to_vec(&self).unwrap_or_default()
    }
}

/// The persisted map and the plugin it feeds.
#[derive(Clone)]
pub struct OperatorLimitsStore {
    store: Arc<StoragePlugin>,
    plugin: Option<Arc<RateLimitPlugin>>,
    shared: Option<SharedOverrides>,
    // One change at a time: read-modify-write of the stored map.
    writing: Arc<Mutex<()>>,
    // The map as last restored or written, for lookups on the request path.
    current: Arc<parking_lot::RwLock<BTreeMap<String, Limits>>>,
}

impl OperatorLimitsStore {
    /// The map in `store`, feeding `plugin`, shared through `shared` in a cluster.
    pub fn new(
        store: Arc<StoragePlugin>,
        plugin: Option<Arc<RateLimitPlugin>>,
        shared: Option<SharedOverrides>,
    ) -> Self {
        OperatorLimitsStore {
            store,
            plugin,
            shared,
            writing: Arc::new(Mutex::new(())),
            current: Arc::default(),
        }
    }

    /// `operator`'s override, from memory (no store read).
    pub fn override_of(&self, operator: &str) -> Option<Limits> {
        self.current.read().get(operator).copied()
    }

    /// Every stored override.
    pub fn load(&self) -> Result<BTreeMap<String, Limits>, OperatorLimitsError> {
        match crate::store_records::host_meta(&self.store, OPERATOR_LIMITS_KEY)
            .map_err(OperatorLimitsError::Storage)?
        {
            None => Ok(BTreeMap::new()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|error| OperatorLimitsError::Corrupt(error.to_string())),
        }
    }

    /// Hands every stored override to the plugin (at start). Returns how many.
    pub async fn restore(&self) -> Result<usize, OperatorLimitsError> {
        let Some(plugin) = &self.plugin else {
            return Ok(0);
        };
        let stored = self.load()?;
        for (operator, limits) in &stored {
            plugin
                .set_limits(operator, Some((*limits).into()))
                .await
                .map_err(OperatorLimitsError::Refused)?;
        }
        let count = stored.len();
        *self.current.write() = stored;
        Ok(count)
    }

    /// Sets (`Some`) or removes (`None`) `operator`'s limits, on this
    /// instance and, in a cluster, on every instance: applied here first (so
    /// a policy that refuses changes nothing), then written to Redis; if
    /// Redis does not take it, it is undone here and refused.
    pub async fn set(
        &self,
        operator: &str,
        limits: Option<Limits>,
    ) -> Result<(), OperatorLimitsError> {
        let Some(shared) = &self.shared else {
            return self.apply_local(operator, limits).await;
        };
        let previous = self.override_of(operator);
        self.apply_local(operator, limits).await?;
        let value = limits.map(Limits::encode_shared);
        if let Err(error) = shared.publish(operator, value.as_deref()).await {
            if let Err(undo) = self.apply_local(operator, previous).await {
                tracing::error!(%operator, %undo, "could not undo an override Redis did not take");
            }
            return Err(OperatorLimitsError::Cluster(error));
        }
        Ok(())
    }

    /// The cluster's copy, when in a cluster.
    pub fn shared(&self) -> Option<&SharedOverrides> {
        self.shared.as_ref()
    }

    /// Sets or removes `operator`'s limits on this instance only: in the
    /// plugin first, then in the store.
    pub async fn apply_local(
        &self,
        operator: &str,
        limits: Option<Limits>,
    ) -> Result<(), OperatorLimitsError> {
        let plugin = self.plugin.as_ref().ok_or(OperatorLimitsError::Disabled)?;
        let _writing = self.writing.lock().await;
        plugin
            .set_limits(operator, limits.map(OperatorLimits::from))
            .await
            .map_err(OperatorLimitsError::Refused)?;
        let mut stored = self.load()?;
        match limits {
            Some(limits) => stored.insert(operator.to_string(), limits),
            None => stored.remove(operator),
        };
        let bytes = serde_json::to_vec(&stored)
            .map_err(|error| OperatorLimitsError::Corrupt(error.to_string()))?;
        *self.current.write() = stored;
        self.store
            .write(WriteBatch {
                meta: vec![
                    crate::store_records::meta_set(Namespace::Host, OPERATOR_LIMITS_KEY, bytes),
                    // A store from before namespaces kept the limits among the chain's keys.
                    crate::store_records::meta_delete(Namespace::Chain, OPERATOR_LIMITS_KEY),
                ]
                .into(),
                ..Default::default()
            })
            .await
            .map_err(OperatorLimitsError::Storage)
    }
}
