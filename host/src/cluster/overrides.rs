//! Per-operator overrides shared by the cluster: one hash
//! (`<prefix>:operator-limits`, field = operator id, value = its limits as
//! the admin API stores them) and a channel of the same name on which every
//! change is announced with the operator's id. The hash is the cluster's
//! copy; each instance also keeps its own in its store, so that a Redis
//! that lost its data is seeded again from the instances.
//!
//! The hash holds a marker field ([`PRESENT`]) so that "no overrides" and
//! "Redis lost the hash" can be told apart. Values are opaque bytes here;
//! [`crate::api::operators`] decodes and checks them.

use std::collections::BTreeMap;

use super::{ClusterError, RedisPool};

/// The hash and the channel, under the prefix.
pub const NAME: &str = "operator-limits";

/// The marker field: the hash exists. Empty, which no operator id is.
pub const PRESENT: &str = "";

/// The overrides in the cluster's Redis.
#[derive(Debug, Clone)]
pub struct SharedOverrides {
    redis: RedisPool,
}

impl SharedOverrides {
    /// The overrides in `redis`.
    pub fn new(redis: RedisPool) -> Self {
        SharedOverrides { redis }
    }

    /// Sets (`Some`) or removes (`None`) `operator`'s value and announces
    /// it, in one transaction.
    pub async fn publish(&self, operator: &str, value: Option<&[u8]>) -> Result<(), ClusterError> {
        let key = self.redis.key(NAME);
        let operator = operator.to_string();
        let value = value.map(<[u8]>::to_vec);
        self.redis
            .with(async move |connection| {
                let mut pipe = redis::pipe();
                pipe.atomic();
                pipe.cmd("HSET").arg(&key).arg(PRESENT).arg(1).ignore();
                match &value {
                    Some(value) => pipe
                        .cmd("HSET")
                        .arg(&key)
                        .arg(&operator)
                        .arg(value)
                        .ignore(),
                    None => pipe.cmd("HDEL").arg(&key).arg(&operator).ignore(),
                };
                pipe.cmd("PUBLISH").arg(&key).arg(&operator).ignore();
                pipe.query_async::<()>(connection).await
            })
            .await
    }

    /// Every override, or `None` when Redis has no hash (never written, or
    /// its data was lost).
    pub async fn load(&self) -> Result<Option<BTreeMap<String, Vec<u8>>>, ClusterError> {
        let key = self.redis.key(NAME);
        let mut all: BTreeMap<String, Vec<u8>> = self
            .redis
            .with(async move |connection| {
                redis::cmd("HGETALL")
                    .arg(&key)
                    .query_async(connection)
                    .await
            })
            .await?;
        Ok(all.remove(PRESENT).map(|_| all))
    }

    /// One operator's value.
    pub async fn get(&self, operator: &str) -> Result<Option<Vec<u8>>, ClusterError> {
        let key = self.redis.key(NAME);
        let operator = operator.to_string();
        self.redis
            .with(async move |connection| {
                redis::cmd("HGET")
                    .arg(&key)
                    .arg(&operator)
                    .query_async(connection)
                    .await
            })
            .await
    }

    /// Writes `entries` as the cluster's overrides if Redis has none (the
    /// first instance to find the hash missing seeds it); returns whether
    /// this call did.
    pub async fn seed(&self, entries: &BTreeMap<String, Vec<u8>>) -> Result<bool, ClusterError> {
        let key = self.redis.key(NAME);
        let entries = entries.clone();
        self.redis
            .with(async move |connection| {
                let created: bool = redis::cmd("HSETNX")
                    .arg(&key)
                    .arg(PRESENT)
                    .arg(1)
                    .query_async(connection)
                    .await?;
                if created && !entries.is_empty() {
                    let mut cmd = redis::cmd("HSET");
                    cmd.arg(&key);
                    for (operator, value) in &entries {
                        cmd.arg(operator).arg(value);
                    }
                    cmd.query_async::<()>(connection).await?;
                }
                Ok(created)
            })
            .await
    }

    /// A connection that receives the id of every operator changed from now on.
    pub async fn subscribe(&self) -> Result<redis::aio::PubSub, ClusterError> {
        self.redis.subscribe(NAME).await
    }
}
