//! The host's own records in the block store, each in the namespace that
//! owns it (see [`Namespace`]): facts about the stored chain (verified
//! coverage, cached L1 checkpoints, an import's served chain) in
//! `Chain`; this host's bookkeeping (the sync anchor, operator limits) in
//! `Host`. Every metadata change and interval change the host writes is
//! built here, so no key lands in the wrong namespace.

use abi_stable::std_types::{ROption, RVec};
use hypasis_plugin_api::{BlockRange, IntervalChange, MetaChange, Namespace};

use crate::plugins::{PluginCallError, StoragePlugin};

/// Sets metadata `key` of `space` to `value`.
pub fn meta_set(space: Namespace, key: &str, value: Vec<u8>) -> MetaChange {
    MetaChange {
        space,
        key: key.into(),
        value: ROption::RSome(RVec::from(value)),
        ext: Default::default(),
    }
}

/// Deletes metadata `key` of `space`.
pub fn meta_delete(space: Namespace, key: &str) -> MetaChange {
    MetaChange {
        space,
        key: key.into(),
        value: ROption::RNone,
        ext: Default::default(),
    }
}

/// Removes `remove` from, then adds `add` to, the chain interval set `set`.
pub fn interval_change(set: &str, add: Vec<BlockRange>, remove: Vec<BlockRange>) -> IntervalChange {
    IntervalChange {
        space: Namespace::Chain,
        set: set.into(),
        add: add.into(),
        remove: remove.into(),
        ext: Default::default(),
    }
}

/// Reads host metadata `key`; a store written before namespaces (schema
/// version 1) kept it among the chain's keys, where it is looked up when
/// the host namespace has none (the next write puts it in its place).
pub fn host_meta(storage: &StoragePlugin, key: &str) -> Result<Option<Vec<u8>>, PluginCallError> {
    match storage.meta(Namespace::Host, key)? {
        Some(value) => Ok(Some(value)),
        None => storage.meta(Namespace::Chain, key),
    }
}
