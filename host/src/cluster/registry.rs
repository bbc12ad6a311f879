//! Membership in Redis: one key per member (`<prefix>:member:<id>`, its
//! record, expiring after `cluster.member_ttl` unless renewed) and an index
//! of ids (`<prefix>:members`, a sorted set scored by expiry) so members are
//! listed without `KEYS` or `SCAN`. The key's TTL is the authority: an id
//! whose key expired is not a member, whatever the index says.

use std::time::{Duration, Instant};

use bb8_redis::RedisConnectionManager;
use redis::IntoConnectionInfo;

use super::{
    ClusterError,
    member::{Member, MemberError},
};
use crate::config::ClusterConfig;

/// Most members listed (a bound on one answer, far above any real cluster).
const MAX_MEMBERS: isize = 1024;

/// How long one Redis call (connection included) may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A value read from Redis that is not a member: the id and why.
pub type Rejected = (String, MemberError);

/// The cluster's member list in Redis.
#[derive(Clone)]
pub struct MemberRegistry {
    pool: bb8::Pool<RedisConnectionManager>,
    prefix: String,
}

impl std::fmt::Debug for MemberRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRegistry")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The connection settings of `cluster.redis_url`, with `cluster.redis_password`
/// when the URL has none.
pub fn connection_info(config: &ClusterConfig) -> Result<redis::ConnectionInfo, ClusterError> {
    let info = config
        .redis_url
        .as_str()
        .into_connection_info()
        .map_err(|error| ClusterError::Url(error.to_string()))?;
    let password = config.redis_password.expose();
    if info.redis_settings().password().is_none() && !password.is_empty() {
        let settings = info.redis_settings().clone().set_password(password);
        return Ok(info.set_redis_settings(settings));
    }
    Ok(info)
}

impl MemberRegistry {
    /// A registry over a connection pool that connects on first use, so a
    /// Redis that is down at start does not stop the host.
    pub fn new(config: &ClusterConfig) -> Result<Self, ClusterError> {
        let manager = RedisConnectionManager::new(connection_info(config)?)
            .map_err(|error| ClusterError::Url(error.to_string()))?;
        let pool = bb8::Pool::builder()
            .max_size(config.pool_size.max(1))
            .connection_timeout(REDIS_TIMEOUT)
            .retry_connection(false)
            .build_unchecked(manager);
        Ok(MemberRegistry {
            pool,
            prefix: config.key_prefix.clone(),
        })
    }

    fn member_key(&self, id: &str) -> String {
        format!("{}:member:{id}", self.prefix)
    }

    fn index_key(&self) -> String {
        format!("{}:members", self.prefix)
    }

    /// Runs `call` on a pooled connection, within [`REDIS_TIMEOUT`].
    async fn with<T>(
        &self,
        call: impl AsyncFnOnce(&mut redis::aio::MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, ClusterError> {
        let work = async {
            let mut connection = self
                .pool
                .get()
                .await
                .map_err(|error| ClusterError::Unreachable(error.to_string()))?;
            call(&mut connection).await.map_err(ClusterError::Redis)
        };
        tokio::time::timeout(REDIS_TIMEOUT, work)
            .await
            .map_err(|_| ClusterError::Unreachable(format!("no answer within {REDIS_TIMEOUT:?}")))?
    }

    /// Writes (or renews) `member` for `ttl`, and drops index entries long
    /// expired; returns the round trip.
    pub async fn register(&self, member: &Member, ttl: Duration) -> Result<Duration, ClusterError> {
        let started = Instant::now();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let expiry = member.heartbeat_ms.saturating_add(ttl_ms);
        // Entries whose key has been gone for a whole TTL (allowing for
        // clocks a TTL apart between members).
        let stale = member.heartbeat_ms.saturating_sub(ttl_ms);
        let key = self.member_key(&member.instance_id);
        let index = self.index_key();
        let value = member.encode();
        let id = member.instance_id.clone();
        self.with(async move |connection| {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&key)
                .arg(&value)
                .arg("PX")
                .arg(ttl_ms)
                .ignore()
                .cmd("ZADD")
                .arg(&index)
                .arg(expiry)
                .arg(&id)
                .ignore()
                .cmd("ZREMRANGEBYSCORE")
                .arg(&index)
                .arg("-inf")
                .arg(format!("({stale}"))
                .ignore()
                .query_async::<()>(connection)
                .await
        })
        .await?;
        Ok(started.elapsed())
    }

    /// Removes `id` at once (a graceful stop).
    pub async fn deregister(&self, id: &str) -> Result<(), ClusterError> {
        let key = self.member_key(id);
        let index = self.index_key();
        let id = id.to_string();
        self.with(async move |connection| {
            redis::pipe()
                .atomic()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .cmd("ZREM")
                .arg(&index)
                .arg(&id)
                .ignore()
                .query_async::<()>(connection)
                .await
        })
        .await
    }

    /// The live members (ordered by id), and the values that are not
    /// member records (each with its id and why).
    pub async fn members(&self) -> Result<(Vec<Member>, Vec<Rejected>), ClusterError> {
        let index = self.index_key();
        let ids: Vec<String> = self
            .with(async move |connection| {
                redis::cmd("ZRANGE")
                    .arg(&index)
                    .arg(0)
                    .arg(MAX_MEMBERS - 1)
                    .query_async(connection)
                    .await
            })
            .await?;
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let keys: Vec<String> = ids.iter().map(|id| self.member_key(id)).collect();
        let values: Vec<Option<Vec<u8>>> = self
            .with(async move |connection| {
                redis::cmd("MGET").arg(&keys).query_async(connection).await
            })
            .await?;
        let mut members = Vec::new();
        let mut rejected = Vec::new();
        for (id, value) in ids.into_iter().zip(values) {
            let Some(value) = value else { continue };
            match Member::decode(&value, &id) {
                Ok(member) => members.push(member),
                Err(error) => rejected.push((id, error)),
            }
        }
        members.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Ok((members, rejected))
    }
}
