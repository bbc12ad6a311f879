//! The configuration envelope the host passes to `instantiate`.
//!
//! ```json
//! {
//!   "plugin": "storage-memory",
//!   "instance": "storage",
//!   "data_dir": "/var/lib/hypasis-sync",
//!   "chain": { ... chain spec, or null ... },
//!   "runtime_threads": 2,
//!   "settings": { ... host settings every plugin of this kind receives ... },
//!   "options": { ... the plugin's own section from the YAML ... }
//! }
//! ```

use std::path::PathBuf;

use hypasis_plugin_api::{ErrorKind, PluginError};
use serde::{Deserialize, de::DeserializeOwned};

/// The parsed envelope; `options` stays JSON until the plugin asks for its type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The plugin's name as configured.
    pub plugin: String,
    /// Which use this instance serves (`storage`, `forward`, `backward`, ...).
    #[serde(default)]
    pub instance: String,
    /// The host's data directory, for plugins that keep files.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// The chain spec as JSON, for plugins that need chain rules.
    #[serde(default)]
    pub chain: Option<serde_json::Value>,
    /// Worker threads for the plugin's runtime (I/O plugins).
    #[serde(default)]
    pub runtime_threads: Option<usize>,
    /// Settings the host passes to every plugin of this kind (documented per
    /// kind in the SDK guide: `cache_size` for storage, `endpoints` for
    /// upstreams, `per_operator_rps`/`global_rps`/`burst` for rate limits).
    #[serde(default)]
    pub settings: serde_json::Value,
    /// The plugin's own options.
    #[serde(default)]
    pub options: serde_json::Value,
}

impl PluginConfig {
    /// Parses the envelope.
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            PluginError::new(
                ErrorKind::Config,
                format!(
                    "plugin configuration envelope: `{}`: {}",
                    error.path(),
                    error.inner()
                ),
            )
        })
    }

    /// Deserializes `options` into the plugin's own type; an unknown key or a
    /// bad value is an error naming the option's path.
    pub fn options<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        let value = if self.options.is_null() {
            serde_json::Value::Object(Default::default())
        } else {
            self.options.clone()
        };
        serde_path_to_error::deserialize(value).map_err(|error| {
            PluginError::new(
                ErrorKind::Config,
                format!(
                    "{}: option `{}`: {}",
                    self.plugin,
                    error.path(),
                    error.inner()
                ),
            )
        })
    }

    /// Deserializes the host settings for this kind; unknown settings are
    /// ignored so that a newer host can add some.
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        let value = if self.settings.is_null() {
            serde_json::Value::Object(Default::default())
        } else {
            self.settings.clone()
        };
        serde_path_to_error::deserialize(value).map_err(|error| {
            PluginError::new(
                ErrorKind::Config,
                format!(
                    "{}: setting `{}`: {}",
                    self.plugin,
                    error.path(),
                    error.inner()
                ),
            )
        })
    }

    /// Deserializes the chain spec; an error if the host passed none.
    pub fn chain<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        let value = self.chain.clone().ok_or_else(|| {
            PluginError::new(
                ErrorKind::Config,
                format!("{}: needs a chain spec and none was passed", self.plugin),
            )
        })?;
        serde_path_to_error::deserialize(value).map_err(|error| {
            PluginError::new(
                ErrorKind::Config,
                format!(
                    "{}: chain spec `{}`: {}",
                    self.plugin,
                    error.path(),
                    error.inner()
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Options {
        capacity: u32,
        #[serde(default)]
        nested: Nested,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Nested {
        #[serde(default)]
        depth: u8,
    }

    #[test]
    fn options_parse() {
        let config = PluginConfig::parse(
            r#"{"plugin":"x","instance":"a","options":{"capacity":5,"nested":{"depth":2}}}"#,
        )
        .unwrap();
        let options: Options = config.options().unwrap();
        assert_eq!(
            options,
            Options {
                capacity: 5,
                nested: Nested { depth: 2 }
            }
        );
    }

    #[test]
    fn bad_option_names_its_path() {
        let config = PluginConfig::parse(
            r#"{"plugin":"x","options":{"capacity":5,"nested":{"depth":"deep"}}}"#,
        )
        .unwrap();
        let error = config.options::<Options>().unwrap_err();
        assert_eq!(error.kind, ErrorKind::Config);
        assert_eq!(
            error.message.as_str(),
            "x: option `nested.depth`: invalid type: string \"deep\", expected u8"
        );
    }

    #[test]
    fn unknown_envelope_key_is_refused() {
        let error = PluginConfig::parse(r#"{"plugin":"x","colour":"red"}"#).unwrap_err();
        assert!(
            error.message.contains("unknown field `colour`"),
            "{}",
            error.message
        );
    }
}
