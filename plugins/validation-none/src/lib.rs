//! Validation level `none`: every header, body and receipt list must decode
//! and the header's number must be the one claimed; nothing else is
//! checked. The upstream is trusted, so nothing is confirmed. The checks
//! live in `hypasis-validation-core`.

use hypasis_plugin_sdk::{PluginConfig, PluginError, api::PluginInstance};
use hypasis_validation_core::Level;

pub use hypasis_validation_core::LevelPlugin;

/// Creates an instance; takes no options and needs no chain spec.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    hypasis_validation_core::instance(Level::None, config)
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "validation-none",
    kind: Validation,
    description: "Decode only: trust the upstream, check that every block part is well-formed RLP.",
    instantiate: new_instance,
}

/// The plugin's own heap: mimalloc, as in the host. Every block, JSON
/// answer and store entry this plugin builds is allocated and freed here,
/// and glibc's malloc cost several percent of a sync (see
/// docs/BENCHMARKS.md). Not in in-process builds, where the host's
/// allocator applies.
#[cfg(not(feature = "in-process"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
