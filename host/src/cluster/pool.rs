//! The connection to the cluster's Redis: a bb8 pool of multiplexed
//! connections for commands, a client for pub/sub, and the key prefix
//! every key is under.

use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use redis::IntoConnectionInfo;

use super::ClusterError;
use crate::config::ClusterConfig;

/// How long one Redis call (connection included) may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

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

/// This cluster's Redis, shared by membership and the shared overrides.
#[derive(Clone)]
pub struct RedisPool {
    pool: bb8::Pool<RedisConnectionManager>,
    client: redis::Client,
    prefix: String,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisPool {
    /// A pool that connects on first use, so a Redis that is down at start
    /// does not stop the host.
    pub fn new(config: &ClusterConfig) -> Result<Self, ClusterError> {
        let info = connection_info(config)?;
        let client = redis::Client::open(info.clone())
            .map_err(|error| ClusterError::Url(error.to_string()))?;
        let manager = RedisConnectionManager::new(info)
            .map_err(|error| ClusterError::Url(error.to_string()))?;
        let pool = bb8::Pool::builder()
            .max_size(config.pool_size.max(1))
            .connection_timeout(REDIS_TIMEOUT)
            .retry_connection(false)
            .build_unchecked(manager);
        Ok(RedisPool {
            pool,
            client,
            prefix: config.key_prefix.clone(),
        })
    }

    /// `<prefix>:<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Runs `call` on a pooled connection, within [`REDIS_TIMEOUT`].
    pub async fn with<T>(
        &self,
        call: impl AsyncFnOnce(&mut redis::aio::MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, ClusterError> {
        self.within(REDIS_TIMEOUT, call).await
    }

    /// Runs `call` on a pooled connection, within `timeout` (connecting included).
    pub async fn within<T>(
        &self,
        timeout: Duration,
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
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ClusterError::Unreachable(format!("no answer within {timeout:?}")))?
    }

    /// A new pub/sub connection subscribed to `channel` (under the prefix).
    pub async fn subscribe(&self, channel: &str) -> Result<redis::aio::PubSub, ClusterError> {
        let channel = self.key(channel);
        let work = async {
            let mut pubsub = self
                .client
                .get_async_pubsub()
                .await
                .map_err(|error| ClusterError::Unreachable(error.to_string()))?;
            pubsub.subscribe(&channel).await?;
            Ok(pubsub)
        };
        tokio::time::timeout(REDIS_TIMEOUT, work)
            .await
            .map_err(|_| ClusterError::Unreachable(format!("no answer within {REDIS_TIMEOUT:?}")))?
    }
}
