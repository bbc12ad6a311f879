//! The plugin host: finds plugin libraries, checks them, and creates
//! typed instances from the configuration.

mod error;
mod handles;
mod library;
mod log_sink;
mod read_log;
mod resolve;

use std::{path::PathBuf, sync::Arc};

use hypasis_plugin_api::{PluginInstance, PluginKind};

use serde_json::{Value, json};

pub use error::{PluginCallError, PluginLoadError};
pub use handles::{
    PluginHandle, PluginObject, RateLimitPlugin, StoragePlugin, UpstreamPlugin, ValidationPlugin,
};
pub use library::{PluginDescription, PluginLibrary};
pub use read_log::ReadLog;
pub use resolve::{default_plugin_dir, is_path, library_file_name, library_files, resolve};

use crate::config::{Config, ValidationLevelName};

/// Creates plugin instances from configuration, filling the envelope every
/// plugin receives (see the SDK guide).
#[derive(Debug, Clone)]
pub struct PluginLoader {
    dir: PathBuf,
    data_dir: PathBuf,
    runtime_threads: usize,
    chain: Option<Value>,
}

impl PluginLoader {
    /// A loader for `dir` that passes `data_dir` and `runtime_threads` on.
    pub fn new(dir: PathBuf, data_dir: PathBuf, runtime_threads: usize) -> Self {
        PluginLoader {
            dir,
            data_dir,
            runtime_threads,
            chain: None,
        }
    }

    /// A loader as the configuration says.
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            config
                .plugins
                .dir
                .clone()
                .unwrap_or_else(default_plugin_dir),
            config.storage.data_dir.clone(),
            config.plugins.runtime_threads,
        )
    }

    /// Passes this chain spec (JSON) to every plugin from now on.
    pub fn with_chain(mut self, chain: Value) -> Self {
        self.chain = Some(chain);
        self
    }

    /// The directory names are resolved in.
    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }

    /// Opens the plugin `name` (or path) that configuration key `key` names,
    /// checks it is of `kind`, and instantiates it.
    pub fn instantiate(
        &self,
        key: &str,
        name: &str,
        kind: PluginKind,
        instance: &str,
        settings: Value,
        options: &Value,
    ) -> Result<(Arc<PluginLibrary>, PluginInstance), PluginLoadError> {
        let path = resolve(name, &self.dir);
        if !path.exists() {
            return Err(PluginLoadError::Missing {
                name: name.to_string(),
                path,
            });
        }
        let library = PluginLibrary::open(&path)?;
        library.expect_kind(kind, key)?;
        let envelope = json!({
            "plugin": library.description().name,
            "instance": instance,
            "data_dir": self.data_dir,
            "chain": self.chain,
            "runtime_threads": self.runtime_threads,
            "settings": settings,
            "options": options,
        });
        let instance = library.instantiate(&envelope.to_string())?;
        Ok((library, instance))
    }

    /// Opens, checks and instantiates the plugin `name` that `key` names,
    /// as a handle of the interface `B`.
    pub fn load<B: PluginObject>(
        &self,
        key: &str,
        name: &str,
        instance: &str,
        settings: Value,
        options: &Value,
    ) -> Result<PluginHandle<B>, PluginLoadError> {
        let (library, created) =
            self.instantiate(key, name, B::KIND, instance, settings, options)?;
        let found = created.kind;
        match (found == B::KIND).then(|| B::take(created)).flatten() {
            Some(object) => Ok(PluginHandle::new(&library.description().name, object)),
            None => Err(kind_mismatch(&library, key, B::KIND, found)),
        }
    }

    /// The storage plugin of `storage.plugin`.
    pub fn storage(&self, config: &Config) -> Result<StoragePlugin, PluginLoadError> {
        let settings = json!({ "cache_size": config.storage.cache_size.0 });
        self.load(
            "storage.plugin",
            &config.storage.plugin,
            "storage",
            settings,
            &config.storage.options,
        )
    }

    /// The validation plugin for a level; `key` is the configuration key
    /// that chose it (`sync.forward.validation_level`).
    pub fn validation(
        &self,
        key: &str,
        level: ValidationLevelName,
        instance: &str,
    ) -> Result<ValidationPlugin, PluginLoadError> {
        self.load(
            key,
            level.plugin_name(),
            instance,
            Value::Null,
            &Value::Null,
        )
    }

    /// The upstream plugin of `upstream.plugin`, with the configured endpoints.
    pub fn upstream(&self, config: &Config) -> Result<UpstreamPlugin, PluginLoadError> {
        let endpoints: Vec<&String> = config
            .upstream
            .endpoints
            .iter()
            .filter(|url| !url.is_empty())
            .collect();
        let settings = json!({
            "endpoints": endpoints,
            "request_timeout_ms": config.connection_pool.request_timeout.as_millis() as u64,
            "max_idle_per_host": config.connection_pool.max_idle_per_host,
            "idle_timeout_ms": config.connection_pool.idle_timeout.as_millis() as u64,
        });
        self.load(
            "upstream.plugin",
            &config.upstream.plugin,
            "upstream",
            settings,
            &config.upstream.options,
        )
    }

    /// The rate-limit plugin of `ratelimit.plugin`, with the configured limits.
    pub fn rate_limit(&self, config: &Config) -> Result<RateLimitPlugin, PluginLoadError> {
        let settings = json!({
            "per_operator_rps": config.ratelimit.per_operator_rps,
            "global_rps": config.ratelimit.global_rps,
            "burst": config.ratelimit.burst,
        });
        self.load(
            "ratelimit.plugin",
            &config.ratelimit.plugin,
            "ratelimit",
            settings,
            &config.ratelimit.options,
        )
    }
}

fn kind_mismatch(
    library: &PluginLibrary,
    key: &str,
    expected: PluginKind,
    found: PluginKind,
) -> PluginLoadError {
    PluginLoadError::WrongKind {
        path: library.description().path.clone(),
        name: library.description().name.clone(),
        key: key.to_string(),
        expected,
        found,
    }
}
