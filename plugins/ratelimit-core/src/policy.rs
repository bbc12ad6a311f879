//! The policy both plugins export: a [`BucketTable`] behind the SDK's
//! [`RateLimiter`] trait, inline (a check never leaves the calling thread),
//! with per-operator overrides allowed or refused.

use std::sync::Arc;

use hypasis_plugin_sdk::{
    ErrorKind, PluginConfig, PluginError, RateLimiter,
    api::{OperatorLimits, OperatorOverride, PluginInstance, RateDecision},
    rate_limit_instance,
};

use crate::{BucketTable, Settings};

/// Whether admins may set per-operator limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrides {
    /// `set_limits` changes an operator's limits (`ratelimit-premium`).
    Allowed,
    /// `set_limits` is refused as unsupported (`ratelimit-token-bucket`).
    Refused,
}

/// A token-bucket policy.
#[derive(Debug)]
pub struct BucketPolicy {
    name: &'static str,
    table: BucketTable,
    overrides: Overrides,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

impl BucketPolicy {
    /// A policy named `name` with `settings`, its buckets full at `now_ms`.
    pub fn new(
        name: &'static str,
        settings: Settings,
        overrides: Overrides,
        now_ms: u64,
    ) -> Result<Self, PluginError> {
        settings
            .check()
            .map_err(|reason| PluginError::new(ErrorKind::Config, format!("{name}: {reason}")))?;
        Ok(BucketPolicy {
            name,
            table: BucketTable::new(settings, now_ms),
            overrides,
        })
    }

    /// The plugin instance for `config` (the host's `ratelimit.*` settings; no options).
    pub fn instance(
        name: &'static str,
        overrides: Overrides,
        config: PluginConfig,
    ) -> Result<PluginInstance, PluginError> {
        let settings: Settings = config.settings()?;
        Ok(rate_limit_instance(BucketPolicy::new(
            name,
            settings,
            overrides,
            now_ms(),
        )?))
    }
}

impl RateLimiter for BucketPolicy {
    const INLINE: bool = true;

    fn check(
        self: Arc<Self>,
        operator: String,
        cost: u32,
        now_ms: u64,
    ) -> impl Future<Output = Result<RateDecision, PluginError>> + Send {
        std::future::ready(Ok(self.table.check(&operator, cost, now_ms)))
    }

    fn set_limits(
        self: Arc<Self>,
        operator: String,
        limits: Option<OperatorLimits>,
    ) -> impl Future<Output = Result<(), PluginError>> + Send {
        std::future::ready(match self.overrides {
            Overrides::Allowed => self
                .table
                .set_override(&operator, limits)
                .map_err(|reason| PluginError::new(ErrorKind::InvalidInput, reason)),
            Overrides::Refused => Err(PluginError::new(
                ErrorKind::Unsupported,
                format!(
                    "{} applies the configured limits to every operator and keeps no per-operator limits (asked for `{operator}`); use ratelimit-premium",
                    self.name
                ),
            )),
        })
    }

    fn overrides(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<Vec<OperatorOverride>, PluginError>> + Send {
        std::future::ready(Ok(self.table.overrides()))
    }

    fn shutdown(self: Arc<Self>) -> impl Future<Output = Result<(), PluginError>> + Send {
        std::future::ready(Ok(()))
    }
}
