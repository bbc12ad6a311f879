//! What a store serves when no sync runs (`serve`): after `import`, the
//! chain spec and head ([`ServedChain`]); after sync, the spec the syncing
//! host ran with ([`SYNCED_SPEC_KEY`]), the head coming from the stored
//! coverage. Both are kept in the store's metadata.

use alloy_primitives::{B256, U256};
use hypasis_polygon::ChainSpec;
use serde::{Deserialize, Serialize};

use crate::plugins::{PluginCallError, StoragePlugin};

/// The metadata key holding the [`ServedChain`].
pub const SERVED_CHAIN_KEY: &str = "chain/served";

/// The metadata key holding the chain spec a syncing host ran with.
pub const SYNCED_SPEC_KEY: &str = "chain/spec";

/// The spec a syncing host stored; `None` if no host synced into the store
/// (or the record is unreadable).
pub fn synced_spec(storage: &StoragePlugin) -> Result<Option<ChainSpec>, PluginCallError> {
    Ok(storage
        .meta(hypasis_plugin_api::Namespace::Chain, SYNCED_SPEC_KEY)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// The chain a store holds: its spec and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedChain {
    /// The chain spec (fork ids, network id, genesis).
    pub spec: ChainSpec,
    /// Head block number.
    pub head_number: u64,
    /// Head block hash.
    pub head_hash: B256,
    /// Total difficulty at the head.
    pub head_total_difficulty: U256,
}

impl ServedChain {
    /// Reads it from a store; `None` if the store was never imported into.
    pub fn load(storage: &StoragePlugin) -> Result<Option<Self>, PluginCallError> {
        Ok(storage
            .meta(hypasis_plugin_api::Namespace::Chain, SERVED_CHAIN_KEY)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }
}
