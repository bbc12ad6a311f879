//! The host's metrics: OpenTelemetry instruments exported in Prometheus
//! text format on `metrics.listen` (`/metrics`). Names follow the operator
//! guide (`hypasis_forward_sync_blocks_total`, …).

use std::sync::Arc;

use opentelemetry::{
    KeyValue,
    metrics::{Counter, Gauge, Histogram, MeterProvider},
};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio_util::sync::CancellationToken;
use warp::Filter;

/// Histogram bounds for request latencies, in seconds (50 µs to 5 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0,
];

/// The `kind` labels of `hypasis_errors_total`.
pub const ERROR_KINDS: &[&str] = &[
    "anchor",
    "forward",
    "backward",
    "senders",
    "checkpoints",
    "ratelimit",
    "p2p_storage",
];

/// The `kind` labels of `hypasis_p2p_requests_total`: the eth requests we serve.
pub const P2P_REQUEST_KINDS: &[&str] = &["headers", "bodies", "receipts", "pooled_transactions"];

/// Every instrument the host records.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    _provider: Arc<SdkMeterProvider>,
    /// Blocks stored by forward sync.
    pub forward_blocks: Counter<u64>,
    /// Blocks stored by backward sync.
    pub backward_blocks: Counter<u64>,
    /// Blocks between the best upstream head and the forward cursor.
    pub head_lag: Gauge<u64>,
    /// Blocks stored and confirmed by a checkpoint, anchor or seals.
    pub verified_blocks: Gauge<u64>,
    /// Blocks stored but not yet confirmed.
    pub unconfirmed_blocks: Gauge<u64>,
    /// Upstream requests, by endpoint.
    pub upstream_requests: Counter<u64>,
    /// Upstream errors, by endpoint.
    pub upstream_errors: Counter<u64>,
    /// Upstream latency in milliseconds, by endpoint.
    pub upstream_latency: Histogram<f64>,
    /// Batches rejected by validation, by direction and field.
    pub rejected_batches: Counter<u64>,
    /// Errors, by kind.
    pub errors: Counter<u64>,
    /// devp2p peers connected (eth handshake done), by client (`bor/v2.2.11`).
    pub connected_peers: Gauge<u64>,
    /// eth requests served, by kind (`headers`, `bodies`, `receipts`, `pooled_transactions`).
    pub p2p_requests: Counter<u64>,
    /// Items (headers, bodies, receipt lists) sent in eth responses, by kind.
    pub p2p_served_items: Counter<u64>,
    /// eth message payload bytes (uncompressed), by direction (`in`, `out`).
    pub p2p_bytes: Counter<u64>,
    /// devp2p disconnects, by reason and by whom (`local`, `remote`).
    pub p2p_disconnects: Counter<u64>,
    /// eth requests delayed by the per-peer rate limit.
    pub p2p_throttled: Counter<u64>,
    /// Peers banned, by offence (`invalid_message`, `flooding`).
    pub p2p_bans: Counter<u64>,
    /// Bans in force.
    pub p2p_banned_peers: Gauge<u64>,
    /// JSON-RPC calls answered, by method and outcome (`ok`, `error`, `rate_limited`).
    pub rpc_requests: Counter<u64>,
    /// JSON-RPC call latency in seconds, by method.
    pub rpc_latency: Histogram<f64>,
    /// REST requests answered, by route and status code.
    pub rest_requests: Counter<u64>,
    /// REST request latency in seconds, by route.
    pub rest_latency: Histogram<f64>,
    /// Requests refused by the rate-limit policy, by API (`rpc`, `rest`).
    pub rate_limit_rejected: Counter<u64>,
    /// Response-cache hits over lookups since start.
    pub cache_hit_ratio: Gauge<f64>,
    /// Live cluster members this instance knows, itself included.
    pub cluster_members: Gauge<u64>,
    /// 1 when the last heartbeat reached Redis, else 0.
    pub cluster_redis_up: Gauge<u64>,
    /// Round trip of a heartbeat's write to Redis, in seconds.
    pub cluster_redis_rtt: Histogram<f64>,
    /// Values read from Redis that were not valid, by kind (`member`,
    /// `operator_limits`, `limit`).
    pub cluster_bad_values: Counter<u64>,
    /// Token fetches from the cluster-wide limit buckets, by result
    /// (`granted`, `denied`, `fallback` to this instance's share).
    pub cluster_limit_fetches: Counter<u64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh set of instruments with their own registry.
    pub fn new() -> Result<Self, String> {
        let registry = Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .scope_info_enabled(false)
            .without_target_info()
            .build()
            .map_err(|error| error.to_string())?;
        let provider = SdkMeterProvider::builder().with_reader(exporter).build();
        let meter = provider.meter("hypasis");
        let metrics = Metrics {
            forward_blocks: meter
                .u64_counter("hypasis_forward_sync_blocks")
                .with_description("Blocks stored by forward sync")
                .build(),
            backward_blocks: meter
                .u64_counter("hypasis_backward_sync_blocks")
                .with_description("Blocks stored by backward sync")
                .build(),
            head_lag: meter
                .u64_gauge("hypasis_sync_head_lag_blocks")
                .with_description("Blocks between the upstream head and the forward cursor")
                .build(),
            verified_blocks: meter
                .u64_gauge("hypasis_verified_blocks")
                .with_description("Blocks stored and confirmed")
                .build(),
            unconfirmed_blocks: meter
                .u64_gauge("hypasis_unconfirmed_blocks")
                .with_description("Blocks stored, awaiting a checkpoint")
                .build(),
            upstream_requests: meter
                .u64_counter("hypasis_upstream_requests")
                .with_description("Upstream requests by endpoint")
                .build(),
            upstream_errors: meter
                .u64_counter("hypasis_upstream_errors")
                .with_description("Upstream errors by endpoint")
                .build(),
            upstream_latency: meter
                .f64_histogram("hypasis_upstream_latency_ms")
                .with_description("Upstream request latency by endpoint")
                .build(),
            rejected_batches: meter
                .u64_counter("hypasis_rejected_batches")
                .with_description("Batches rejected by validation")
                .build(),
            errors: meter
                .u64_counter("hypasis_errors")
                .with_description("Errors by kind")
                .build(),
            connected_peers: meter
                .u64_gauge("hypasis_connected_peers_total")
                .with_description("devp2p peers connected, by client")
                .build(),
            p2p_requests: meter
                .u64_counter("hypasis_p2p_requests")
                .with_description("eth requests served, by kind")
                .build(),
            p2p_served_items: meter
                .u64_counter("hypasis_p2p_served_items")
                .with_description(
                    "headers, bodies and receipt lists sent in eth responses, by kind",
                )
                .build(),
            p2p_bytes: meter
                .u64_counter("hypasis_p2p_bytes")
                .with_description("eth payload bytes, by direction")
                .build(),
            p2p_disconnects: meter
                .u64_counter("hypasis_p2p_disconnects")
                .with_description("devp2p disconnects, by reason and side")
                .build(),
            p2p_throttled: meter
                .u64_counter("hypasis_p2p_throttled_requests")
                .with_description("eth requests delayed by the per-peer rate limit")
                .build(),
            p2p_bans: meter
                .u64_counter("hypasis_p2p_bans")
                .with_description("Peers banned, by offence")
                .build(),
            p2p_banned_peers: meter
                .u64_gauge("hypasis_p2p_banned_peers")
                .with_description("Peer bans in force")
                .build(),
            rpc_requests: meter
                .u64_counter("hypasis_rpc_requests")
                .with_description("JSON-RPC calls answered, by method and outcome")
                .build(),
            rpc_latency: meter
                .f64_histogram("hypasis_rpc_request_duration_seconds")
                .with_description("JSON-RPC call latency, by method")
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build(),
            rest_requests: meter
                .u64_counter("hypasis_rest_requests")
                .with_description("REST requests answered, by route and status")
                .build(),
            rest_latency: meter
                .f64_histogram("hypasis_rest_request_duration_seconds")
                .with_description("REST request latency, by route")
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build(),
            rate_limit_rejected: meter
                .u64_counter("hypasis_rate_limit_rejected")
                .with_description("Requests refused by the rate-limit policy, by API")
                .build(),
            cache_hit_ratio: meter
                .f64_gauge("hypasis_cache_hit_ratio")
                .with_description("Response-cache hits over lookups since start")
                .build(),
            cluster_members: meter
                .u64_gauge("hypasis_cluster_members")
                .with_description("Live cluster members known, this one included")
                .build(),
            cluster_redis_up: meter
                .u64_gauge("hypasis_cluster_redis_up")
                .with_description("1 when the last heartbeat reached Redis")
                .build(),
            cluster_redis_rtt: meter
                .f64_histogram("hypasis_cluster_redis_rtt_seconds")
                .with_description("Round trip of a heartbeat's write to Redis")
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build(),
            cluster_bad_values: meter
                .u64_counter("hypasis_cluster_bad_values")
                .with_description("Values read from Redis that were not valid, by kind")
                .build(),
            cluster_limit_fetches: meter
                .u64_counter("hypasis_cluster_limit_fetches")
                .with_description(
                    "Token fetches from the cluster-wide limit buckets in Redis, by result",
                )
                .build(),
            registry,
            _provider: Arc::new(provider),
        };
        metrics.start_at_zero();
        Ok(metrics)
    }

    /// Puts every unlabelled and fixed-label series on the page at 0, so
    /// dashboards and alerts see them before the first event.
    fn start_at_zero(&self) {
        self.forward_blocks.add(0, &[]);
        self.backward_blocks.add(0, &[]);
        for kind in ERROR_KINDS {
            self.errors.add(0, &[KeyValue::new("kind", *kind)]);
        }
        for api in ["rpc", "rest"] {
            self.rate_limit_rejected
                .add(0, &[KeyValue::new("api", api)]);
        }
        self.cache_hit_ratio.record(0.0, &[]);
        // The unlabelled series counts every peer (see p2p/peers.rs).
        self.connected_peers.record(0, &[]);
        self.head_lag.record(0, &[]);
        self.verified_blocks.record(0, &[]);
        self.unconfirmed_blocks.record(0, &[]);
        self.p2p_throttled.add(0, &[]);
        self.p2p_banned_peers.record(0, &[]);
        for offence in ["invalid_message", "flooding"] {
            self.p2p_bans.add(0, &[KeyValue::new("reason", offence)]);
        }
        for kind in P2P_REQUEST_KINDS {
            self.p2p_requests.add(0, &[KeyValue::new("kind", *kind)]);
            self.p2p_served_items
                .add(0, &[KeyValue::new("kind", *kind)]);
        }
        for direction in ["in", "out"] {
            self.p2p_bytes
                .add(0, &[KeyValue::new("direction", direction)]);
        }
    }

    /// Counts one error of `kind` (one of [`ERROR_KINDS`]).
    pub fn error(&self, kind: &'static str) {
        debug_assert!(ERROR_KINDS.contains(&kind), "unknown error kind {kind}");
        self.errors.add(1, &[KeyValue::new("kind", kind)]);
    }

    /// Counts one eth request of `kind` served (one of [`P2P_REQUEST_KINDS`]).
    pub fn p2p_request(&self, kind: &'static str) {
        debug_assert!(
            P2P_REQUEST_KINDS.contains(&kind),
            "unknown p2p request kind {kind}"
        );
        self.p2p_requests.add(1, &[KeyValue::new("kind", kind)]);
    }

    /// Counts `items` sent in one eth response to a request of `kind`.
    pub fn p2p_served(&self, kind: &'static str, items: usize) {
        self.p2p_served_items
            .add(items as u64, &[KeyValue::new("kind", kind)]);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Serves `/metrics` on `listener` until `shutdown`.
    pub async fn serve(self, listener: tokio::net::TcpListener, shutdown: CancellationToken) {
        let metrics = self.clone();
        let route = warp::path!("metrics").and(warp::get()).map(move || {
            let mut response = warp::reply::Response::new(metrics.render().into());
            response.headers_mut().insert(
                warp::http::header::CONTENT_TYPE,
                warp::http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        });
        warp::serve(route)
            .incoming(listener)
            .graceful(async move { shutdown.cancelled().await })
            .run()
            .await;
    }
}
