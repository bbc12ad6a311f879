//! Cluster-wide request limits: one token bucket per operator (and one for
//! `ratelimit.global_rps`) in Redis, refilled at the operator's rate up to
//! its burst, shared by every instance. An instance takes tokens in chunks
//! (about [`CHUNK`] of the rate at a time) and spends them locally, so most
//! requests make no Redis round trip; tokens left in a chunk expire after
//! [`RESERVE_LIFE`]. Accuracy: the cluster never admits more than the
//! bucket grants; it can admit less, by what expires unused in instances'
//! reserves (at most a chunk per instance per second).
//!
//! The bucket's state lives only in Redis and is updated by one script
//! with Redis's own clock, so instances' clocks do not matter. When Redis
//! is unreachable, or its value is not a bucket, each instance falls back
//! to its share (the limit divided by the members Redis last listed), in a
//! local bucket; Redis is then not tried again for [`RETRY`], nor while
//! the heartbeat finds it away, so requests do not wait on it.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use opentelemetry::KeyValue;
use parking_lot::Mutex;

use super::{ClusterView, RedisPool};
use crate::metrics::Metrics;

/// How much of the rate one fetch takes.
pub const CHUNK: Duration = Duration::from_millis(50);

/// How long tokens fetched but not spent stay usable.
pub const RESERVE_LIFE: Duration = Duration::from_secs(1);

/// How long a request waits for a token fetch before this instance's
/// share decides (a healthy Redis answers in a few milliseconds).
pub const FETCH_TIMEOUT: Duration = Duration::from_millis(250);

/// How long Redis is not tried after it failed (the heartbeat also marks
/// it away until it answers again).
pub const RETRY: Duration = Duration::from_secs(1);

/// Most operators whose reserves are held at once (older ones are dropped).
const MAX_RESERVES: usize = 100_000;

/// The bucket: KEYS[1]; ARGV: rate per second, burst, tokens wanted, tokens
/// needed at least, key lifetime in ms. Returns {granted, wait_ms}, or
/// {-1, 0} when the key holds something that is not a bucket.
const BUCKET: &str = r"
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if (state[1] and not tokens) or (state[2] and not ts) then
  return {-1, 0}
end
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local grant = 0
local wait = 0
if tokens >= need then
  grant = math.max(need, math.min(want, math.floor(tokens)))
  tokens = tokens - grant
elseif rate > 0 then
  wait = math.ceil((need - tokens) * 1000 / rate)
else
  wait = 1000
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {grant, wait}
";

/// Tokens an instance holds for one bucket.
#[derive(Debug, Clone, Copy)]
struct Reserve {
    tokens: u64,
    fetched: Instant,
}

/// A local token bucket: the fallback share while Redis is away.
#[derive(Debug, Clone, Copy)]
struct LocalBucket {
    tokens: f64,
    at: Instant,
}

/// What a bucket allows: a rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    /// Sustained requests per second.
    pub rps: f64,
    /// Requests allowed at once.
    pub burst: u32,
}

impl Allowance {
    /// `rps` with `burst` at once; a burst of 0 means one second's worth,
    /// as the rate-limit plugins read it.
    pub fn new(rps: f64, burst: u32) -> Self {
        let burst = if burst == 0 {
            rps.ceil().clamp(1.0, f64::from(u32::MAX)) as u32
        } else {
            burst
        };
        Allowance { rps, burst }
    }
}

/// The cluster-wide limits of one instance.
pub struct ClusterBudget {
    redis: RedisPool,
    view: ClusterView,
    script: redis::Script,
    reserves: Mutex<HashMap<String, Reserve>>,
    fallback: Mutex<HashMap<String, LocalBucket>>,
    // Until when Redis is not tried (after a failure), so that requests do
    // not each wait for a Redis that is away.
    skip_until: Mutex<Option<Instant>>,
    metrics: Metrics,
}

impl std::fmt::Debug for ClusterBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterBudget").finish_non_exhaustive()
    }
}

impl ClusterBudget {
    /// Buckets in `redis`; `view` gives the member count for the fallback share.
    pub fn new(redis: RedisPool, view: ClusterView, metrics: Metrics) -> Self {
        ClusterBudget {
            redis,
            view,
            script: redis::Script::new(BUCKET),
            reserves: Mutex::default(),
            fallback: Mutex::default(),
            skip_until: Mutex::default(),
            metrics,
        }
    }

    /// Charges `cost` to bucket `name` (an operator id, or `~global`) under
    /// `allowance`; `Err(wait)` when the cluster is over it.
    pub async fn admit(&self, name: &str, allowance: Allowance, cost: u32) -> Result<(), Duration> {
        let cost = u64::from(cost.max(1));
        if self.spend(name, cost) {
            return Ok(());
        }
        let chunk = (allowance.rps * CHUNK.as_secs_f64()).ceil() as u64;
        let want = chunk.clamp(cost, u64::from(allowance.burst).max(cost));
        let skipping = self
            .skip_until
            .lock()
            .is_some_and(|until| Instant::now() < until)
            || matches!(self.view.redis(), super::RedisState::Down(_));
        let fetched = if skipping {
            Err("Redis is away".to_string())
        } else {
            let fetched = self.fetch(name, allowance, want, cost).await;
            if fetched.is_err() {
                *self.skip_until.lock() = Some(Instant::now() + RETRY);
            }
            fetched
        };
        match fetched {
            Ok((granted, _)) if granted >= cost => {
                self.metrics
                    .cluster_limit_fetches
                    .add(1, &[KeyValue::new("result", "granted")]);
                self.keep(name, granted - cost);
                Ok(())
            }
            Ok((_, wait_ms)) => {
                self.metrics
                    .cluster_limit_fetches
                    .add(1, &[KeyValue::new("result", "denied")]);
                Err(Duration::from_millis(wait_ms.max(1)))
            }
            Err(reason) => {
                self.metrics
                    .cluster_limit_fetches
                    .add(1, &[KeyValue::new("result", "fallback")]);
                tracing::debug!(%reason, bucket = %name, "cluster limit from this instance's share");
                self.local_share(name, allowance, cost)
            }
        }
    }

    /// Spends from this instance's reserve, if it holds enough.
    fn spend(&self, name: &str, cost: u64) -> bool {
        let mut reserves = self.reserves.lock();
        let Some(reserve) = reserves.get_mut(name) else {
            return false;
        };
        if reserve.fetched.elapsed() > RESERVE_LIFE {
            reserves.remove(name);
            return false;
        }
        if reserve.tokens < cost {
            return false;
        }
        reserve.tokens -= cost;
        true
    }

    fn keep(&self, name: &str, tokens: u64) {
        let mut reserves = self.reserves.lock();
        if reserves.len() >= MAX_RESERVES {
            reserves.retain(|_, reserve| reserve.fetched.elapsed() <= RESERVE_LIFE);
            if reserves.len() >= MAX_RESERVES {
                reserves.clear();
            }
        }
        let now = Instant::now();
        let reserve = reserves.entry(name.to_string()).or_insert(Reserve {
            tokens: 0,
            fetched: now,
        });
        if reserve.fetched.elapsed() > RESERVE_LIFE {
            reserve.tokens = 0;
        }
        reserve.tokens += tokens;
        reserve.fetched = now;
    }

    /// One script call: `(granted, wait_ms)`, or why Redis could not decide.
    async fn fetch(
        &self,
        name: &str,
        allowance: Allowance,
        want: u64,
        need: u64,
    ) -> Result<(u64, u64), String> {
        let key = self.redis.key(&format!("limit:{name}"));
        // A bucket untouched for the time it takes to refill is full again: let it go.
        let life_ms = if allowance.rps > 0.0 {
            ((f64::from(allowance.burst.max(1)) / allowance.rps) * 1000.0).ceil() as u64 + 1000
        } else {
            60_000
        }
        .min(86_400_000);
        let script = self.script.clone();
        let answer: (i64, i64) = self
            .redis
            .within(FETCH_TIMEOUT, async move |connection| {
                script
                    .key(&key)
                    .arg(allowance.rps)
                    .arg(allowance.burst.max(1))
                    .arg(want)
                    .arg(need)
                    .arg(life_ms)
                    .invoke_async(connection)
                    .await
            })
            .await
            .map_err(|error| error.to_string())?;
        match answer {
            (-1, _) => {
                self.metrics
                    .cluster_bad_values
                    .add(1, &[KeyValue::new("kind", "limit")]);
                tracing::error!(bucket = %name, "a rate-limit bucket in Redis is not valid; this instance's share applies");
                Err("not a bucket".into())
            }
            (granted, wait) => Ok((granted.max(0) as u64, wait.max(0) as u64)),
        }
    }

    /// This instance's share of `allowance`, while the cluster's bucket
    /// cannot be reached.
    fn local_share(&self, name: &str, allowance: Allowance, cost: u64) -> Result<(), Duration> {
        let members = self.view.last_seen_count() as f64;
        let rate = allowance.rps / members;
        let burst = (f64::from(allowance.burst) / members).max(1.0);
        let mut buckets = self.fallback.lock();
        if buckets.len() >= MAX_RESERVES {
            buckets.clear();
        }
        let now = Instant::now();
        let bucket = buckets.entry(name.to_string()).or_insert(LocalBucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(burst);
        bucket.at = now;
        let cost = cost as f64;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            return Ok(());
        }
        let wait = if rate > 0.0 {
            (cost - bucket.tokens) / rate
        } else {
            1.0
        };
        Err(Duration::from_secs_f64(wait.min(60.0)))
    }
}
