//! Turns what the upstream plugin and the store report into metrics, every
//! few seconds: requests, errors and latency per endpoint; verified and
//! unconfirmed coverage.

use std::{collections::HashMap, time::Duration};

use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use super::services::{SyncServices, pause};

/// Runs until `shutdown`.
pub async fn run(services: SyncServices, every: Duration, shutdown: CancellationToken) {
    // The plugin reports running totals; counters take the increase.
    let mut seen: HashMap<String, (u64, u64)> = HashMap::new();
    loop {
        for endpoint in services.upstream.endpoints() {
            let name = endpoint.name.to_string();
            let labels = [KeyValue::new("endpoint", name.clone())];
            let (requests, errors) = seen.get(&name).copied().unwrap_or((0, 0));
            services
                .metrics
                .upstream_requests
                .add(endpoint.requests.saturating_sub(requests), &labels);
            services
                .metrics
                .upstream_errors
                .add(endpoint.errors.saturating_sub(errors), &labels);
            if endpoint.requests > requests {
                services
                    .metrics
                    .upstream_latency
                    .record(endpoint.latency_ms, &labels);
            }
            seen.insert(
                name,
                (endpoint.requests.max(requests), endpoint.errors.max(errors)),
            );
        }
        let coverage = services.ledger.coverage();
        services
            .metrics
            .verified_blocks
            .record(coverage.verified.count(), &[]);
        services.metrics.unconfirmed_blocks.record(
            coverage.unconfirmed.count() + coverage.unlinked.count(),
            &[],
        );
        if !pause(every, &shutdown).await {
            return;
        }
    }
}
