//! Why a plugin could not be loaded or called. Every message names the file.

use std::path::PathBuf;

use hypasis_plugin_api::{AbiVersion, PluginError, PluginKind};

/// A plugin that cannot be used; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    /// No file at the resolved path.
    #[error(
        "plugin `{name}`: file not found: {path} (looked in plugins.dir; build it with `cargo build --workspace`, or give a path)"
    )]
    Missing {
        /// The configured name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file is not a loadable Hypasis Sync plugin.
    #[error("{path}: not a Hypasis Sync plugin: {reason}")]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Built against another major (or a newer minor) plugin ABI.
    #[error(
        "{path}: plugin ABI mismatch: expected plugin ABI {expected} (a plugin built against hypasis-plugin-api {expected} or an older release of the same major version), found {found}; rebuild the plugin against this host's hypasis-plugin-api"
    )]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// What this host speaks.
        expected: AbiVersion,
        /// What the plugin was built against.
        found: AbiVersion,
    },
    /// The stamp matches but the types' layout does not.
    #[error(
        "{path}: plugin ABI layout mismatch: the plugin claims ABI {found} but its types differ from this host's ABI {expected}; it was built against a modified hypasis-plugin-api. Details: {details}"
    )]
    Layout {
        /// The file.
        path: PathBuf,
        /// What this host speaks.
        expected: AbiVersion,
        /// What the plugin claims.
        found: AbiVersion,
        /// abi_stable's description of the first differences.
        details: String,
    },
    /// The plugin is of another kind than the configuration needs.
    #[error("{path}: plugin `{name}` is a {found} plugin, but `{key}` needs a {expected} plugin")]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The plugin's name.
        name: String,
        /// The configuration key that named it.
        key: String,
        /// The kind needed.
        expected: PluginKind,
        /// The kind found.
        found: PluginKind,
    },
    /// The plugin refused to start.
    #[error("{path}: plugin `{name}` failed to initialise: {error}")]
    Init {
        /// The file.
        path: PathBuf,
        /// The plugin's name.
        name: String,
        /// Its error.
        error: PluginError,
    },
}

/// A plugin call that failed; names the plugin.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin {plugin}: {error}")]
pub struct PluginCallError {
    /// The plugin's name.
    pub plugin: String,
    /// Its error.
    pub error: PluginError,
}
