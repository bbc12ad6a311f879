//! Membership in Redis: one key per member (`<prefix>:member:<id>`, its
//! record, expiring after `cluster.member_ttl` unless renewed) and an index
//! of ids (`<prefix>:members`, a sorted set scored by expiry) so members are
//! listed without `KEYS` or `SCAN`. The key's TTL is the authority: an id
//! whose key expired is not a member, whatever the index says.

use std::time::{Duration, Instant};

use super::{
    ClusterError, RedisPool,
    member::{Member, MemberError},
};

/// Most members listed (a bound on one answer, far above any real cluster).
const MAX_MEMBERS: isize = 1024;

/// A value read from Redis that is not a member: the id and why.
pub type Rejected = (String, MemberError);

/// The cluster's member list in Redis.
#[derive(Debug, Clone)]
pub struct MemberRegistry {
    redis: RedisPool,
}

impl MemberRegistry {
    /// The member list in `redis`.
    pub fn new(redis: RedisPool) -> Self {
        MemberRegistry { redis }
    }

    fn member_key(&self, id: &str) -> String {
        self.redis.key(&format!("member:{id}"))
    }

    fn index_key(&self) -> String {
        self.redis.key("members")
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
        self.redis
            .with(async move |connection| {
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
        self.redis
            .with(async move |connection| {
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
            .redis
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
            .redis
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
