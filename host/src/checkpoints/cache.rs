//! Checkpoints already read from L1, kept in the store so a restart does
//! not read L1 history again. One metadata key per checkpoint
//! (`checkpoint/<header-block id>`) plus the newest id.

use crate::plugins::{PluginCallError, StoragePlugin};

use super::L1Checkpoint;
use hypasis_plugin_api::{MetaChange, Namespace, WriteBatch};

use crate::store_records::meta_set;

const LATEST_KEY: &str = "checkpoint/latest";

/// The checkpoint cache over a storage plugin.
pub struct CheckpointCache<'a> {
    storage: &'a StoragePlugin,
}

fn key(header_block_id: u64) -> String {
    format!("checkpoint/{header_block_id}")
}

impl<'a> CheckpointCache<'a> {
    /// A cache in `storage`.
    pub fn new(storage: &'a StoragePlugin) -> Self {
        CheckpointCache { storage }
    }

    /// A cached checkpoint.
    pub fn get(&self, header_block_id: u64) -> Result<Option<L1Checkpoint>, PluginCallError> {
        Ok(self
            .storage
            .meta(Namespace::Chain, &key(header_block_id))?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// The newest cached checkpoint.
    pub fn latest(&self) -> Result<Option<L1Checkpoint>, PluginCallError> {
        let Some(bytes) = self.storage.meta(Namespace::Chain, LATEST_KEY)? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&bytes).parse::<u64>().ok();
        id.map_or(Ok(None), |id| self.get(id))
    }

    /// The metadata changes that store `checkpoints`; the newest id moves
    /// only up from `cached_latest` (backward sync caches old checkpoints).
    pub fn changes(checkpoints: &[L1Checkpoint], cached_latest: Option<u64>) -> Vec<MetaChange> {
        let mut changes: Vec<MetaChange> = checkpoints
            .iter()
            .filter_map(|checkpoint| {
                serde_json::to_vec(checkpoint).ok().map(|bytes| {
                    meta_set(Namespace::Chain, &key(checkpoint.header_block_id), bytes)
                })
            })
            .collect();
        if let Some(newest) = checkpoints
            .iter()
            .map(|checkpoint| checkpoint.header_block_id)
            .max()
            .filter(|newest| cached_latest.is_none_or(|latest| *newest > latest))
        {
            changes.push(meta_set(
                Namespace::Chain,
                LATEST_KEY,
                newest.to_string().into_bytes(),
            ));
        }
        changes
    }

    /// Stores `checkpoints` in one atomic write. Callers serialise their
    /// puts (the newest id is read, then written).
    pub async fn put(&self, checkpoints: &[L1Checkpoint]) -> Result<(), PluginCallError> {
        let cached_latest = self.latest()?.map(|checkpoint| checkpoint.header_block_id);
        let batch = WriteBatch {
            meta: Self::changes(checkpoints, cached_latest).into(),
            ..Default::default()
        };
        self.storage.write(batch).await
    }
}
