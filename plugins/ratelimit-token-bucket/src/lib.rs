//! Rate-limit policy `ratelimit-token-bucket`: every operator gets
//! `ratelimit.per_operator_rps` with a burst of `ratelimit.burst`, and all
//! operators together `ratelimit.global_rps`. Limits are the configured
//! ones only: per-operator overrides are refused (that is
//! `ratelimit-premium`). The buckets live in `hypasis-ratelimit-core`.

use hypasis_plugin_sdk::{PluginConfig, PluginError, api::PluginInstance};
use hypasis_ratelimit_core::{BucketPolicy, Overrides};

/// Creates an instance from the host's `ratelimit.*` settings; takes no options.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    BucketPolicy::instance("ratelimit-token-bucket", Overrides::Refused, config)
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "ratelimit-token-bucket",
    kind: RateLimit,
    description: "Token buckets: per_operator_rps and burst for each operator, global_rps for all together; no per-operator overrides.",
    instantiate: new_instance,
}
