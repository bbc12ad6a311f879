//! `api.*`, `ratelimit.*`, `connection_pool.*` and `metrics.*`: what this
//! instance serves and the limits it serves under.

use std::{net::SocketAddr, time::Duration};

use serde::{Deserialize, Serialize};

use crate::config::units::{ByteSize, Secret};

/// `ratelimit.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Apply limits at all.
    pub enabled: bool,
    /// The rate-limit policy plugin.
    pub plugin: String,
    /// Sustained requests per second per operator (PER_OPERATOR_RPS).
    pub per_operator_rps: f64,
    /// Sustained requests per second over all operators (GLOBAL_RPS).
    pub global_rps: f64,
    /// Burst allowance above the sustained rate.
    pub burst: u32,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            plugin: "ratelimit-token-bucket".into(),
            per_operator_rps: 100.0,
            global_rps: 10_000.0,
            burst: 200,
            options: serde_json::Value::Null,
        }
    }
}

/// `connection_pool.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionPoolConfig {
    /// Most open API connections (MAX_CONNECTIONS).
    pub max_connections: u32,
    /// Idle connections kept per upstream host.
    pub max_idle_per_host: u32,
    /// Close upstream connections idle this long.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Give up on a request after this long.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for ConnectionPoolConfig {
    fn default() -> Self {
        ConnectionPoolConfig {
            max_connections: 1000,
            max_idle_per_host: 32,
            idle_timeout: Duration::from_secs(90),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// `api.rpc.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcApiConfig {
    /// Serve JSON-RPC.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
    /// Most calls in one batch.
    pub max_batch: u32,
    /// Most bytes in one request body.
    pub max_request_size: ByteSize,
    /// Fetch blocks the store lacks from upstream (marked unverified).
    pub proxy_unknown: bool,
}

impl Default for RpcApiConfig {
    fn default() -> Self {
        RpcApiConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8545)),
            max_batch: 100,
            max_request_size: ByteSize(5 << 20),
            proxy_unknown: false,
        }
    }
}

/// `api.rest.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestApiConfig {
    /// Serve REST and the status page.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
}

impl Default for RestApiConfig {
    fn default() -> Self {
        RestApiConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
        }
    }
}

/// `api.*`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// JSON-RPC.
    pub rpc: RpcApiConfig,
    /// REST and status page.
    pub rest: RestApiConfig,
    /// HS256 key for admin JWTs (JWT_SECRET); admin endpoints are off without it.
    pub jwt_secret: Secret,
}

/// `metrics.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics.
    pub enabled: bool,
    /// Listen address; keep it off the public interface.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}
