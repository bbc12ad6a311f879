//! `storage.*` and `cache.*`: the block store and the in-memory response
//! cache in front of it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::units::ByteSize;

/// `storage.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The storage plugin.
    pub plugin: String,
    /// Data directory: the store, `nodekey`, `enode.txt`.
    pub data_dir: PathBuf,
    /// Upper bound on the store's own cache.
    pub cache_size: ByteSize,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            plugin: "storage-embedded".into(),
            data_dir: PathBuf::from("./data"),
            cache_size: ByteSize(512 << 20),
            options: serde_json::Value::Null,
        }
    }
}

/// `cache.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Cache responses (ENABLE_CACHE).
    pub enabled: bool,
    /// Most entries kept.
    pub max_entries: u64,
    /// Most bytes of rendered JSON kept (`5GB`, `512MiB`); `0`: no byte bound.
    pub max_size: ByteSize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            max_entries: 100_000,
            max_size: ByteSize(0),
        }
    }
}
