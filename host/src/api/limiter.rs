//! Request limits for the APIs, through the rate-limit policy plugin: each
//! request is charged to its operator (one unit per JSON-RPC call, so a
//! batch costs its length). Rejections are counted in
//! `hypasis_rate_limit_rejected_total`. A failing plugin lets requests
//! through (logged and counted as an error): a broken policy must not take
//! the service down.
//!
//! In a cluster, a request the plugin admits is also charged to the
//! cluster-wide buckets of its operator and of `ratelimit.global_rps`
//! ([`ClusterBudget`]), so limits hold across instances.

use std::{sync::Arc, time::Duration};

use opentelemetry::KeyValue;

use super::operators::OperatorLimitsStore;
use crate::{
    cluster::{Allowance, ClusterBudget},
    metrics::Metrics,
    plugins::RateLimitPlugin,
};

/// The bucket of `ratelimit.global_rps` (no operator id is empty).
const GLOBAL: &str = "";

/// The cluster-wide side of the limits.
#[derive(Clone)]
pub struct ClusterLimits {
    /// The buckets in Redis.
    pub budget: Arc<ClusterBudget>,
    /// Where an operator's override is looked up.
    pub operators: OperatorLimitsStore,
    /// Every operator's allowance without an override.
    pub default: Allowance,
    /// The whole cluster's allowance.
    pub global: Allowance,
}

pub use crate::clock::now_ms;

/// The limiter, or nothing when `ratelimit.enabled` is false.
#[derive(Clone)]
pub struct ApiLimiter {
    plugin: Option<Arc<RateLimitPlugin>>,
    metrics: Metrics,
    cluster: Option<ClusterLimits>,
}

impl ApiLimiter {
    /// A limiter over `plugin`.
    pub fn new(plugin: Option<Arc<RateLimitPlugin>>, metrics: Metrics) -> Self {
        ApiLimiter {
            plugin,
            metrics,
            cluster: None,
        }
    }

    /// The same limiter, also holding requests to `cluster`'s buckets.
    pub fn with_cluster(mut self, cluster: ClusterLimits) -> Self {
        self.cluster = Some(cluster);
        self
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
            Ok(decision) if decision.allowed => self.admit_cluster(api, operator, cost).await,
            Ok(decision) => {
                self.rejected(api);
                Err(Duration::from_millis(decision.retry_after_ms.max(1)))
            }
            Err(error) => {
                self.metrics.error("ratelimit");
                tracing::warn!(%error, "rate-limit plugin failed; request allowed");
                Ok(())
            }
        }
    }

    /// Charges the cluster-wide buckets, when in a cluster.
    async fn admit_cluster(
        &self,
        api: &'static str,
        operator: &str,
        cost: u32,
    ) -> Result<(), Duration> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        let allowance = cluster
            .operators
            .override_of(operator)
            .map_or(cluster.default, |limits| {
                Allowance::new(limits.rps, limits.burst)
            });
        let result = match cluster.budget.admit(operator, allowance, cost).await {
            Ok(()) => cluster.budget.admit(GLOBAL, cluster.global, cost).await,
            refused => refused,
        };
        if result.is_err() {
            self.rejected(api);
        }
        result
    }

    fn rejected(&self, api: &'static str) {
        self.metrics
            .rate_limit_rejected
            .add(1, &[KeyValue::new("api", api)]);
    }
}
