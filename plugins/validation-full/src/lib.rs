//! Validation level `full`: Light, plus receipt blooms from their logs and Bor consensus: seals, difficulty, sprint-end validator lists and timestamps against the spans.
//! The checks live in `hypasis-validation-core`; this crate exports them.

use hypasis_plugin_sdk::{PluginConfig, PluginError, api::PluginInstance};
use hypasis_validation_core::Level;

/// Creates an instance; needs the chain spec, takes no options.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    hypasis_validation_core::instance(Level::Full, config)
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "validation-full",
    kind: Validation,
    description: "Light, plus receipt blooms from their logs and Bor consensus: seals, difficulty, sprint-end validator lists and timestamps against the spans.",
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
