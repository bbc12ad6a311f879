//! Request limits for the APIs, through the rate-limit policy plugin: each
//! request is charged to its operator (one unit per JSON-RPC call, so a
//! batch costs its length). Rejections are counted in
//! `hypasis_rate_limit_rejected_total`. A failing plugin lets requests
//! through (logged and counted as an error): a broken policy must not take
//! the service down.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use opentelemetry::KeyValue;

use crate::{metrics::Metrics, plugins::RateLimitPlugin};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// The limiter, or nothing when `ratelimit.enabled` is false.
#[derive(Clone)]
pub struct ApiLimiter {
    plugin: Option<Arc<RateLimitPlugin>>,
    metrics: Metrics,
}

impl ApiLimiter {
    /// A limiter over `plugin`.
    pub fn new(plugin: Option<Arc<RateLimitPlugin>>, metrics: Metrics) -> Self {
        ApiLimiter { plugin, metrics }
    }

    /// The policy plugin, when limits are on.
    pub fn plugin(&self) -> Option<&Arc<RateLimitPlugin>> {
        self.plugin.as_ref()
    }

    /// Charges `cost` to `operator`; `Err(wait)` when over its limit.
    /// `api` labels the rejection metric (`rpc`, `rest`).
    pub async fn admit(
        &self,
        api: &'static str,
        operator: &str,
        cost: u32,
    ) -> Result<(), Duration> {
        let Some(plugin) = &self.plugin else {
            return Ok(());
        };
        match plugin.check(operator, cost, now_ms()).await {
            Ok(decision) if decision.allowed => Ok(()),
            Ok(decision) => {
                self.metrics
                    .rate_limit_rejected
                    .add(1, &[KeyValue::new("api", api)]);
                Err(Duration::from_millis(decision.retry_after_ms.max(1)))
            }
            Err(error) => {
                self.metrics.error("ratelimit");
                tracing::warn!(%error, "rate-limit plugin failed; request allowed");
                Ok(())
            }
        }
    }
}
