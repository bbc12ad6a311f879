//! Storage backend `storage-embedded`: the default, crash-safe embedded
//! block store, on [fjall](https://docs.rs/fjall) (an LSM-tree engine; the
//! choice against redb is measured in `docs/BENCHMARKS.md`).
//!
//! - Raw RLP of headers, bodies and Bor state-sync receipts is stored
//!   exactly as given, so serving is a copy; receipts are stored without
//!   their logs blooms and get them back, byte for byte, when read
//!   (`receipt_codec`). The canonical chain, the hash → number and
//!   transaction indexes, named interval sets and metadata live beside
//!   them. The key schema is [`schema`]. Bodies and receipts (tens of KiB
//!   each, written once) sit in LZ4-compressed blob files apart from their
//!   keys (fjall's key-value separation), so compactions move keys only;
//!   every other table keeps its values inline.
//! - A `WriteBatch` becomes one fjall batch: one checksummed journal entry
//!   across all tables, fsynced before `write` returns. A crash (even
//!   `kill -9` in the middle of the write) leaves the batch entirely present
//!   or entirely absent: recovery replays whole journal entries and drops a
//!   torn last one.
//! - Reads are synchronous lookups in a consistent snapshot; a run of
//!   consecutive blocks is one range scan, and the numbers of recently
//!   named hashes are cached (`part_reads`).
//! - Semantics are those of `storage-memory`, the reference; the tests run
//!   one suite against both.
//!
//! Configuration (`storage.options`): `path`, the store's directory
//! (default `<data_dir>/blocks`; a relative path is taken from `data_dir`).
//! The host's `storage.cache_size` bounds fjall's block cache; the write
//! buffers (a 16 MiB memtable per large table, 4 MiB per small one, and
//! those being flushed) come on top of it.
//!
//! The journal (fjall's write-ahead log, replayed after a crash) is kept
//! under [`MAX_JOURNAL`] plus one 64 MB journal file ([`JOURNAL_HARD_BOUND`],
//! 192 MiB) plus the batch being written: past the limit the writer asks
//! every table to flush, past the hard bound it waits for those flushes
//! before the next batch.
//!
//! `stats()`: `blocks` counts canonical numbers; `bytes` is the disk space
//! of the tables and the journal; `cache_hits` and `cache_misses` count
//! block-cache hits and loads from disk (or the OS page cache) of data,
//! index and filter blocks since the store was opened.

#![deny(missing_docs)]

mod engine;
mod error;
mod journal_bound;
mod migrate;
mod part_reads;
mod receipt_codec;
mod rlp_items;
pub mod schema;
mod store;
mod write;

use std::path::PathBuf;

use hypasis_plugin_sdk::{
    PluginConfig, PluginError, api::PluginInstance, plugin_err, storage_instance,
};

pub use error::StoreError;
pub use journal_bound::{JOURNAL_HARD_BOUND, MAX_JOURNAL};
pub use store::{EmbeddedStore, StoreOptions, memtable_size};

/// The default bound on the block cache when the host passes no `cache_size`.
pub const DEFAULT_CACHE_SIZE: u64 = 512 << 20;

/// The plugin's own options (`storage.options`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The store's directory; relative paths are taken from the host's
    /// `data_dir`. Default `<data_dir>/blocks`.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// The host settings every storage plugin receives; unknown ones are ignored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Settings {
    /// Bound on the store's cache, in bytes.
    #[serde(default = "default_cache_size")]
    pub cache_size: u64,
}

fn default_cache_size() -> u64 {
    DEFAULT_CACHE_SIZE
}

impl StoreOptions {
    /// Resolves the store's options from the host's envelope.
    pub fn from_config(config: &PluginConfig) -> Result<Self, PluginError> {
        let options: Options = config.options()?;
        let settings: Settings = config.settings()?;
        let path = match (options.path, &config.data_dir) {
            (Some(path), Some(data_dir)) if path.is_relative() => data_dir.join(path),
            (Some(path), _) => path,
            (None, Some(data_dir)) => data_dir.join("blocks"),
            (None, None) => {
                return Err(plugin_err!(
                    Config,
                    "{}: no data directory: set `storage.data_dir` or `storage.options.path`",
                    config.plugin
                ));
            }
        };
        Ok(StoreOptions {
            path,
            cache_size: settings.cache_size,
        })
    }
}

/// Creates an instance: opens (or creates) the store named by the envelope.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    let options = StoreOptions::from_config(&config)?;
    let store = EmbeddedStore::open(&options)?;
    let stats = hypasis_plugin_sdk::StorageBackend::stats(&store)?;
    hypasis_plugin_sdk::tracing::info!(
        instance = %config.instance,
        path = %options.path.display(),
        cache_size = options.cache_size,
        canonical_blocks = stats.blocks,
        "embedded store open"
    );
    Ok(storage_instance(store))
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "storage-embedded",
    kind: Storage,
    description: "The default crash-safe embedded block store (fjall).",
    instantiate: new_instance,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> PluginConfig {
        match PluginConfig::parse(json) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn options_resolve_the_path_and_cache() {
        let resolved = StoreOptions::from_config(&config(
            r#"{"plugin":"storage-embedded","data_dir":"/var/lib/h","settings":{"cache_size":1048576,"future":1}}"#,
        ));
        assert_eq!(
            resolved,
            Ok(StoreOptions {
                path: "/var/lib/h/blocks".into(),
                cache_size: 1 << 20
            })
        );
        let relative = StoreOptions::from_config(&config(
            r#"{"plugin":"storage-embedded","data_dir":"/d","options":{"path":"x"}}"#,
        ));
        assert_eq!(
            relative.map(|options| (options.path, options.cache_size)),
            Ok(("/d/x".into(), DEFAULT_CACHE_SIZE))
        );
        let absolute = StoreOptions::from_config(&config(
            r#"{"plugin":"storage-embedded","options":{"path":"/abs"}}"#,
        ));
        assert_eq!(absolute.map(|options| options.path), Ok("/abs".into()));
    }

    #[test]
    fn options_refuse_typos_and_a_missing_directory() {
        let typo = StoreOptions::from_config(&config(
            r#"{"plugin":"storage-embedded","data_dir":"/d","options":{"pth":"x"}}"#,
        ));
        let error = typo.err().map(|error| error.message.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|message| message.contains("pth")),
            "{error:?}"
        );
        let nowhere = StoreOptions::from_config(&config(r#"{"plugin":"storage-embedded"}"#));
        assert_eq!(
            nowhere.err().map(|error| error.kind),
            Some(hypasis_plugin_sdk::ErrorKind::Config)
        );
    }
}

/// The plugin's own heap: mimalloc, as in the host. Every block, JSON
/// answer and store entry this plugin builds is allocated and freed here,
/// and glibc's malloc cost several percent of a sync (see
/// docs/BENCHMARKS.md). Not in in-process builds, where the host's
/// allocator applies.
#[cfg(not(feature = "in-process"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
