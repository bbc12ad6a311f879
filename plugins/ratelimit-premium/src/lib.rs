//! Rate-limit policy `ratelimit-premium`: the token buckets of
//! `ratelimit-token-bucket` (per operator, and global), plus per-operator
//! limits that an admin sets at run time (`POST /api/v1/operators/{id}/limits`)
//! and that apply from the operator's next request. The host persists the
//! overrides and hands them back after a restart.

use hypasis_plugin_sdk::{PluginConfig, PluginError, api::PluginInstance};
use hypasis_ratelimit_core::{BucketPolicy, Overrides};

/// Creates an instance from the host's `ratelimit.*` settings; takes no options.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    BucketPolicy::instance("ratelimit-premium", Overrides::Allowed, config)
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "ratelimit-premium",
    kind: RateLimit,
    description: "Token buckets per operator and global, with per-operator limits set at run time through the admin API.",
    instantiate: new_instance,
}
