//! The plugin instances one host runs with, loaded as the configuration
//! names them and stopped in order.

use std::{sync::Arc, time::Duration};

use crate::{
    config::Config,
    plugins::{
        PluginCallError, PluginLoadError, PluginLoader, RateLimitPlugin, StoragePlugin,
        UpstreamPlugin, ValidationPlugin,
    },
};

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
