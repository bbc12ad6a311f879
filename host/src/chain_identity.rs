//! A store is bound to one chain: the chain id and genesis hash it was first
//! filled for, checked on every start and import, so a data dir of one chain
//! is never unwound or overwritten by another.
//!
//! The binding is kept twice: in `<data_dir>/chain.json`, read before the
//! store is opened (opening an embedded store rewrites its journal, so a
//! refused start must not get that far), and in the store's own metadata,
//! for storage backends that do not live in the data dir. Stores written
//! before the binding existed are judged by what they hold (the chain an
//! `import` stored, or their block 0) and bound on their first start.

use std::path::Path;

use alloy_primitives::B256;
use hypasis_plugin_api::{Namespace, WriteBatch};
use hypasis_polygon::ChainSpec;
use serde::{Deserialize, Serialize};

use crate::{
    plugins::{PluginCallError, StoragePlugin},
    served_chain::ServedChain,
    store_records::meta_set,
};

/// The metadata key holding the [`ChainIdentity`].
pub const CHAIN_IDENTITY_KEY: &str = "chain/identity";

/// The file in the data dir holding the [`ChainIdentity`].
pub const CHAIN_IDENTITY_FILE: &str = "chain.json";

/// The chain a store belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainIdentity {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Genesis block hash.
    pub genesis_hash: B256,
}

/// A store that holds another chain than the one this instance runs.
#[derive(Debug, thiserror::Error)]
#[error(
    "the data directory {data_dir} holds chain id {stored_chain} with genesis {stored_genesis:#x}, \
     but this instance runs `{name}`: chain id {chain_id}, genesis {genesis:#x}. Nothing was \
     changed. Point storage.data_dir at this chain's own directory, or remove this one to start over"
)]
pub struct Mismatch {
    /// The data directory.
    pub data_dir: String,
    /// The stored chain id (`unknown` for a store that recorded only its genesis block).
    pub stored_chain: String,
    /// The stored genesis hash.
    pub stored_genesis: B256,
    /// The chain spec's name.
    pub name: String,
    /// The chain id this instance runs.
    pub chain_id: u64,
    /// The genesis this instance runs.
    pub genesis: B256,
}

/// Why a store cannot be used for a chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainIdentityError {
    /// The store holds another chain.
    #[error(transparent)]
    Mismatch(Box<Mismatch>),
    /// The identity record cannot be read.
    #[error("the store's chain identity record is unreadable: {0}")]
    Corrupt(String),
    /// The identity file cannot be read or written.
    #[error("{file}: {source}")]
    File {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("reading or writing the store's chain identity: {0}")]
    Storage(#[from] PluginCallError),
}

impl ChainIdentity {
    /// The identity of `spec`; `None` while its genesis is unknown.
    pub fn of(spec: &ChainSpec) -> Option<Self> {
        spec.genesis_hash.map(|genesis_hash| ChainIdentity {
            chain_id: spec.chain_id,
            genesis_hash,
        })
    }
}

fn mismatch(
    data_dir: &Path,
    stored: (Option<u64>, B256),
    spec: &ChainSpec,
    wanted: ChainIdentity,
) -> Result<(), ChainIdentityError> {
    let (chain_id, genesis) = stored;
    if genesis == wanted.genesis_hash && chain_id.is_none_or(|id| id == wanted.chain_id) {
        return Ok(());
    }
    Err(ChainIdentityError::Mismatch(Box::new(Mismatch {
        data_dir: data_dir.display().to_string(),
        stored_chain: chain_id.map_or_else(|| "unknown".into(), |id| id.to_string()),
        stored_genesis: genesis,
        name: spec.name.clone(),
        chain_id: wanted.chain_id,
        genesis: wanted.genesis_hash,
    })))
}

fn read_file(data_dir: &Path) -> Result<Option<ChainIdentity>, ChainIdentityError> {
    let path = data_dir.join(CHAIN_IDENTITY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| ChainIdentityError::Corrupt(format!("{}: {error}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ChainIdentityError::File {
            file: path.display().to_string(),
            source,
        }),
    }
}

fn write_file(data_dir: &Path, identity: ChainIdentity) -> Result<(), ChainIdentityError> {
    let path = data_dir.join(CHAIN_IDENTITY_FILE);
    let temporary = data_dir.join(format!("{CHAIN_IDENTITY_FILE}.tmp"));
    let io = |source| ChainIdentityError::File {
        file: path.display().to_string(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(&identity)
        .map_err(|error| ChainIdentityError::Corrupt(error.to_string()))?;
    std::fs::create_dir_all(data_dir).map_err(io)?;
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(io)
}

/// Before the store is opened: refuses a data dir whose `chain.json`
/// names another chain. A spec without a genesis hash is let through.
pub fn check_before_open(data_dir: &Path, spec: &ChainSpec) -> Result<(), ChainIdentityError> {
    let (Some(wanted), Some(recorded)) = (ChainIdentity::of(spec), read_file(data_dir)?) else {
        return Ok(());
    };
    mismatch(
        data_dir,
        (Some(recorded.chain_id), recorded.genesis_hash),
        spec,
        wanted,
    )
}

/// What the store says it holds: its identity record, else the chain an
/// `import` stored, else (chain id unknown) its stored block 0.
/// `record` is the store's identity record, if it has one.
fn stored(
    storage: &StoragePlugin,
    record: Option<&[u8]>,
) -> Result<Option<(Option<u64>, B256)>, ChainIdentityError> {
    if let Some(bytes) = record {
        let identity: ChainIdentity = serde_json::from_slice(bytes)
            .map_err(|error| ChainIdentityError::Corrupt(error.to_string()))?;
        return Ok(Some((Some(identity.chain_id), identity.genesis_hash)));
    }
    if let Some(served) = ServedChain::load(storage)?
        && let Some(identity) = ChainIdentity::of(&served.spec)
    {
        return Ok(Some((Some(identity.chain_id), identity.genesis_hash)));
    }
    Ok(storage
        .canonical_hashes(&[0])?
        .into_iter()
        .next()
        .flatten()
        .map(|hash| (None, B256::from(hash))))
}

/// With the store open: checks that `storage` (at `data_dir`) holds
/// `spec`'s chain or nothing, and records the chain in the store and in
/// `chain.json`. A spec without a genesis hash cannot be checked and is let
/// through.
pub async fn bind(
    storage: &StoragePlugin,
    data_dir: &Path,
    spec: &ChainSpec,
) -> Result<(), ChainIdentityError> {
    let Some(wanted) = ChainIdentity::of(spec) else {
        tracing::warn!(chain = %spec.name, "the chain's genesis is unknown: the store's chain is not checked");
        return Ok(());
    };
    let file = read_file(data_dir)?;
    if let Some(recorded) = file {
        mismatch(
            data_dir,
            (Some(recorded.chain_id), recorded.genesis_hash),
            spec,
            wanted,
        )?;
    }
    let record = storage.meta(Namespace::Chain, CHAIN_IDENTITY_KEY)?;
    if let Some(stored) = stored(storage, record.as_deref())? {
        mismatch(data_dir, stored, spec, wanted)?;
    }
    if file.is_none() {
        write_file(data_dir, wanted)?;
    }
    if record.is_none() {
        let value =
            serde_json::to_vec(&wanted).map_err(|e| ChainIdentityError::Corrupt(e.to_string()))?;
        storage
            .write(WriteBatch {
                meta: vec![meta_set(Namespace::Chain, CHAIN_IDENTITY_KEY, value)].into(),
                ..Default::default()
            })
            .await?;
        tracing::info!(chain = %spec.name, chain_id = wanted.chain_id, genesis = %wanted.genesis_hash, "store bound to its chain");
    }
    Ok(())
}
