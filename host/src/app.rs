//! The `run` command: load the configured plugins, run until a shutdown
//! signal, stop every plugin cleanly.
//!
//! Sync (issue 4/6), devp2p (5/6) and the APIs (6/6) are started from here
//! as they land; today `run` brings up the plugin set and the node identity.

use std::time::Duration;

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
    /// A plugin failed while stopping.
    #[error("while stopping: {0}")]
    Stop(PluginCallError),
}

/// The plugin instances one host runs with.
pub struct PluginSet {
    /// The block store.
    pub storage: StoragePlugin,
    /// Forward validation, when forward sync is enabled.
    pub forward: Option<ValidationPlugin>,
    /// Backward validation, when backward sync is enabled.
    pub backward: Option<ValidationPlugin>,
    /// The block source, when endpoints are configured.
    pub upstream: Option<UpstreamPlugin>,
    /// The rate-limit policy, when limits are enabled.
    pub rate_limit: Option<RateLimitPlugin>,
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
            storage,
            forward,
            backward,
            upstream,
            rate_limit,
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

/// Runs the host until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), RunError> {
    let mut loader = PluginLoader::from_config(&config);
    // Validation levels above `none` apply chain rules: they get the spec.
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
    if levels
        .iter()
        .any(|(enabled, level)| *enabled && *level != crate::config::ValidationLevelName::None)
    {
        let spec = crate::chain::resolve(config.chain, config.heimdall.url.as_deref()).await?;
        tracing::info!(chain = %spec.name, chain_id = spec.chain_id, "chain spec loaded");
        loader = loader.with_chain(serde_json::to_value(&spec).unwrap_or_default());
    }
    tracing::info!(dir = %loader.dir().display(), "loading plugins");
    let plugins = PluginSet::load(&config, &loader)?;
    tracing::info!(
        storage = plugins.storage.name(),
        forward = plugins.forward.as_ref().map(ValidationPlugin::name),
        backward = plugins.backward.as_ref().map(ValidationPlugin::name),
        upstream = plugins.upstream.as_ref().map(UpstreamPlugin::name),
        rate_limit = plugins.rate_limit.as_ref().map(RateLimitPlugin::name),
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
    shutdown.cancelled().await;
    plugins
        .shutdown(config.plugins.shutdown_timeout)
        .await
        .map_err(RunError::Stop)?;
    tracing::info!("stopped cleanly");
    Ok(())
}
