//! The cluster: N instances that share one Redis (`cluster.enabled`).
//!
//! Built so far: membership. Each instance keeps a record of itself in
//! Redis (id, region, enode, public URLs, head, version, role), renewed
//! every `cluster.heartbeat_period` and expiring after `member_ttl`; a
//! graceful stop removes it at once. Every instance reads the live list
//! each heartbeat into a [`ClusterView`], which `/api/v1/bootnodes`,
//! `/api/v1/cluster`, `/health` and the metrics read, so no API request
//! waits on Redis. When Redis is unreachable an instance keeps syncing and
//! serving alone and rejoins at the first heartbeat that reaches it; a
//! Redis that lost its data is refilled by the next heartbeats.
//!
//! Operator overrides are shared through Redis too ([`SharedOverrides`],
//! followed by [`crate::api::operator_feed`]), and API limits are token
//! buckets in Redis ([`ClusterBudget`]).
//!
//! Not built yet (issue 3/5): range leases, the sibling exchange over
//! devp2p, the shared upstream budget, the shared cache tier, Sentinel.

pub mod budget;
pub mod member;
pub mod membership;
pub mod overrides;
pub mod pool;
pub mod registry;

pub use budget::{Allowance, ClusterBudget};
pub use member::{Member, Role};
pub use membership::{ClusterView, Membership, RedisState};
pub use overrides::SharedOverrides;
pub use pool::RedisPool;
pub use registry::MemberRegistry;

/// Why a cluster call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `cluster.redis_url` cannot be used.
    #[error("cluster.redis_url: {0}")]
    Url(String),
    /// No connection to Redis (refused, timed out, pool exhausted).
    #[error("Redis unreachable: {0}")]
    Unreachable(String),
    /// Redis answered with an error.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}
