//! Failover: an operation is tried on the best endpoint, then the next, and
//! so on; once every endpoint failed, further rounds follow after a jittered
//! exponential backoff. Endpoints that lied or lack the data are not asked
//! again within the same request; parked endpoints (HTTP 429) are waited for
//! only when nothing else is left.

use std::{collections::HashSet, future::Future, sync::Arc, time::Instant};

use hypasis_plugin_sdk::{ErrorKind, api::FaultKind, tracing};
use tokio_util::sync::CancellationToken;

use crate::{
    backoff,
    endpoint::Endpoint,
    error::{UpstreamError, summarize},
    pool::Pool,
    score::Outcome,
};

/// What to try where.
pub struct Plan<'a> {
    /// What is asked for, for messages ("blocks 10..=20").
    pub what: &'a str,
    /// Endpoints not to use (redacted names or URLs).
    pub avoid: &'a [String],
    /// A block the endpoint should have (endpoints known to be behind it go last).
    pub need: Option<u64>,
    /// Whether a JSON-RPC error that is not the endpoint's trouble (invalid
    /// params, a revert) is the answer, returned at once (`call`), rather
    /// than a reason to ask another endpoint (`fetch`, whose data any
    /// endpoint should serve).
    pub errors_are_answers: bool,
}

async fn sleep_or_shutdown(
    duration: std::time::Duration,
    shutdown: &CancellationToken,
) -> Result<(), UpstreamError> {
    tokio::select! {
        _ = shutdown.cancelled() => Err(UpstreamError::Shutdown),
        _ = tokio::time::sleep(duration) => Ok(()),
    }
}

/// Runs `op` with failover; returns its value and the endpoint that gave it.
pub async fn run<T, F, Fut>(
    pool: &Pool,
    plan: Plan<'_>,
    shutdown: &CancellationToken,
    op: F,
) -> Result<(T, Arc<Endpoint>), UpstreamError>
where
    F: Fn(Arc<Endpoint>) -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    let options = pool.options();
    let max_park_wait = std::time::Duration::from_millis(options.max_park_wait_ms);
    let avoided = |endpoint: &Endpoint| plan.avoid.iter().any(|name| endpoint.matches(name));
    let mut failures: Vec<UpstreamError> = Vec::new();
    let mut ruled_out: HashSet<usize> = HashSet::new();
    for round in 0..=options.retries {
        if round > 0 {
            sleep_or_shutdown(backoff::delay(round - 1, options), shutdown).await?;
        }
        let mut tried: HashSet<usize> = HashSet::new();
        loop {
            if shutdown.is_cancelled() {
                return Err(UpstreamError::Shutdown);
            }
            let skip = |endpoint: &Endpoint| {
                avoided(endpoint)
                    || ruled_out.contains(&endpoint.index())
                    || tried.contains(&endpoint.index())
            };
            let Some(endpoint) = pool.candidates(&skip, plan.need).into_iter().next() else {
                // Only parked endpoints left: wait for the first if it is soon.
                match pool.earliest_unpark(&skip) {
                    Some(until)
                        if until.saturating_duration_since(Instant::now()) <= max_park_wait =>
                    {
                        sleep_or_shutdown(
                            until.saturating_duration_since(Instant::now()),
                            shutdown,
                        )
                        .await?;
                        continue;
                    }
                    _ => break,
                }
            };
            tried.insert(endpoint.index());
            match op(Arc::clone(&endpoint)).await {
                Ok(value) => return Ok((value, endpoint)),
                Err(UpstreamError::Shutdown) => return Err(UpstreamError::Shutdown),
                // An answer any endpoint would give (a revert, bad params).
                Err(error) if plan.errors_are_answers && !error.is_endpoint_trouble() => {
                    return Err(error);
                }
                Err(error) => {
                    if matches!(error, UpstreamError::BadData { .. }) {
                        pool.fault(&endpoint, FaultKind::InvalidData, &error.to_string());
                    } else if matches!(
                        error,
                        UpstreamError::Missing { .. } | UpstreamError::Unsupported { .. }
                    ) {
                        // Answered, but without what was asked: less useful than the others.
                        endpoint.record(Outcome::Unusable, options);
                        tracing::debug!(endpoint = endpoint.name(), %error, what = plan.what, "failing over");
                    } else {
                        tracing::debug!(endpoint = endpoint.name(), %error, what = plan.what, "failing over");
                    }
                    if error.rules_out_endpoint() || !error.is_endpoint_trouble() {
                        ruled_out.insert(endpoint.index());
                    }
                    failures.push(error);
                }
            }
        }
        let left = |endpoint: &Endpoint| avoided(endpoint) || ruled_out.contains(&endpoint.index());
        if pool.candidates(&left, plan.need).is_empty() && pool.earliest_unpark(&left).is_none() {
            break;
        }
    }
    if failures.is_empty() {
        let skip = |endpoint: &Endpoint| avoided(endpoint) || ruled_out.contains(&endpoint.index());
        return Err(match pool.earliest_unpark(&skip) {
            Some(until) => UpstreamError::Summary {
                kind: ErrorKind::RateLimited,
                message: format!(
                    "{}: every usable endpoint is rate limited; the first is back in {} ms",
                    plan.what,
                    until.saturating_duration_since(Instant::now()).as_millis()
                ),
            },
            None => UpstreamError::NoEndpoint(format!(
                "{}: every endpoint is avoided or serves another chain",
                plan.what
            )),
        });
    }
    Err(summarize(plan.what, &failures))
}
