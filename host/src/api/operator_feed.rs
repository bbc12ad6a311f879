//! Keeps this instance's operator overrides equal to the cluster's: a
//! pub/sub subscription applies each announced change as it comes (well
//! within a second), and a full comparison with Redis at every (re)connect
//! and every `cluster.heartbeat_interval` catches what a lost connection
//! missed. When Redis has no overrides hash at all (a Redis that lost its
//! data), the first instance with a stored map seeds it from that map. A value in Redis that does
//! not decode is logged and counted, never applied.

use std::{collections::BTreeMap, time::Duration};

use futures_util::StreamExt;
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::operators::{Limits, OperatorLimitsError, OperatorLimitsStore};
use crate::{
    cluster::{ClusterError, SharedOverrides},
    metrics::Metrics,
};

/// Longest wait before subscribing again after Redis went away.
const RECONNECT: Duration = Duration::from_secs(2);

/// Why one pass of the feed stopped.
#[derive(Debug, thiserror::Error)]
enum FeedError {
    #[error(transparent)]
    Redis(#[from] ClusterError),
    #[error(transparent)]
    Local(#[from] OperatorLimitsError),
    #[error("the subscription closed")]
    Closed,
}

/// The task that follows the cluster's overrides.
pub struct OperatorFeed {
    operators: OperatorLimitsStore,
    shared: SharedOverrides,
    period: Duration,
    metrics: Metrics,
}

impl OperatorLimitsStore {
    /// The feed keeping this store equal to the cluster's copy, when in a
    /// cluster; it compares in full every `period`.
    pub fn feed(&self, period: Duration, metrics: Metrics) -> Option<OperatorFeed> {
        Some(OperatorFeed {
            operators: self.clone(),
            shared: self.shared()?.clone(),
            period,
            metrics,
        })
    }
}

impl OperatorFeed {
    /// Follows until `shutdown`, reconnecting while Redis is away.
    pub async fn run(self, shutdown: CancellationToken) {
        // Whether the last pass got as far as a full comparison (Some), or
        // nothing has run yet (None): a warning once per outage.
        let mut following = None;
        loop {
            let error = tokio::select! {
                () = shutdown.cancelled() => return,
                error = self.follow(&mut following) => error,
            };
            if following != Some(false) {
                tracing::warn!(%error, "cluster: operator overrides not followed until Redis answers");
            }
            following = Some(false);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.period.min(RECONNECT)) => {}
            }
        }
    }

    /// One connection: subscribe, compare in full, then apply changes as
    /// they are announced. Returns why it stopped.
    async fn follow(&self, following: &mut Option<bool>) -> FeedError {
        let mut pubsub = match self.shared.subscribe().await {
            Ok(pubsub) => pubsub,
            Err(error) => return error.into(),
        };
        if let Err(error) = self.resync().await {
            return error;
        }
        if *following == Some(false) {
            tracing::info!("cluster: operator overrides followed again");
        }
        *following = Some(true);
        let mut messages = pubsub.on_message();
        let mut ticker = tokio::time::interval(self.period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            let result = tokio::select! {
                message = messages.next() => match message {
                    None => return FeedError::Closed,
                    Some(message) => match message.get_payload::<String>() {
                        Ok(operator) => self.apply(operator.as_str()).await,
                        Err(error) => {
                            self.bad_value("(announcement)", &error.to_string());
                            Ok(())
                        }
                    },
                },
                _ = ticker.tick() => self.resync().await,
            };
            if let Err(error) = result {
                return error;
            }
        }
    }

    fn bad_value(&self, operator: &str, error: &str) {
        self.metrics
            .cluster_bad_values
            .add(1, &[KeyValue::new("kind", "operator_limits")]);
        tracing::error!(%operator, %error, "an operator override in Redis is not valid; ignored");
    }

    /// Applies the cluster's current value for `operator`.
    async fn apply(&self, operator: &str) -> Result<(), FeedError> {
        let limits = match self.shared.get(operator).await? {
            None => None,
            Some(bytes) => match Limits::decode_shared(&bytes) {
                Ok(limits) => Some(limits),
                Err(error) => {
                    self.bad_value(operator, &error);
                    return Ok(());
                }
            },
        };
        if self.operators.override_of(operator) != limits {
            self.operators.apply_local(operator, limits).await?;
            tracing::info!(%operator, ?limits, "operator limits changed by another instance");
        }
        Ok(())
    }

    /// Makes this instance's map equal to the cluster's, or seeds the
    /// cluster's from it when Redis has none.
    async fn resync(&self) -> Result<(), FeedError> {
        let local = self.operators.load()?;
        let Some(remote) = self.shared.load().await? else {
            // Nothing to seed from here: another instance may have some.
            if local.is_empty() {
                return Ok(());
            }
            let encoded: BTreeMap<String, Vec<u8>> = local
                .iter()
                .map(|(operator, limits)| (operator.clone(), limits.encode_shared()))
                .collect();
            if self.shared.seed(&encoded).await? {
                tracing::info!(
                    operators = encoded.len(),
                    "cluster: Redis had no operator overrides; seeded them from this instance's store"
                );
            }
            return Ok(());
        };
        let mut wanted = BTreeMap::new();
        let mut unreadable = Vec::new();
        for (operator, bytes) in &remote {
            match Limits::decode_shared(bytes) {
                Ok(limits) => {
                    wanted.insert(operator.clone(), limits);
                }
                Err(error) => {
                    self.bad_value(operator, &error);
                    unreadable.push(operator.clone());
                }
            }
        }
        for (operator, limits) in &wanted {
            if local.get(operator) != Some(limits) {
                self.operators.apply_local(operator, Some(*limits)).await?;
            }
        }
        // An operator whose cluster value is unreadable keeps what it has here.
        for operator in local.keys() {
            if !wanted.contains_key(operator) && !unreadable.contains(operator) {
                self.operators.apply_local(operator, None).await?;
            }
        }
        Ok(())
    }
}
