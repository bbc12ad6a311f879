//! Per-peer request limits: every eth request (GetBlockHeaders,
//! GetBlockBodies, GetReceipts, GetPooledTransactions) costs 1.
//!
//! The rate comes from the `RateLimitPolicy` plugin when `ratelimit.enabled`
//! (the operator id is the peer's node id in hex), else from an internal
//! token bucket of `p2p.peer_requests_per_second` (burst: one second's
//! worth). A request over the limit is **throttled**: served after the
//! delay the limiter asks for (at most [`MAX_THROTTLE_DELAY`]), during which
//! nothing else is read from the peer. A running balance counts throttled
//! requests up and unthrottled ones down; a peer whose balance passes its
//! strike limit (five seconds' worth of requests at the rate, at least
//! [`MIN_THROTTLE_STRIKES`]) is **dropped** with `DiscUselessPeer`.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use hypasis_ratelimit_core::Bucket;

use super::protocol::{MAX_THROTTLE_DELAY, MIN_THROTTLE_STRIKES, THROTTLE_STRIKE_SECONDS};
use crate::plugins::RateLimitPlugin;

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Serve it now.
    Now,
    /// Serve it after this delay.
    After(Duration),
    /// Drop the peer: it keeps exceeding its limit.
    Drop,
}

/// The internal limit: ratelimit-core's token bucket, lending (a request
/// finding it empty is served after the debt is repaid), on a monotonic
/// millisecond clock of its own.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    bucket: Bucket,
    origin: Instant,
}

impl TokenBucket {
    /// `rate` requests per second, a burst of one second's worth (at least 1).
    pub fn new(rate: f64, now: Instant) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::MAX
        };
        TokenBucket {
            bucket: Bucket::new(rate, rate.clamp(1.0, 1e9), 0),
            origin: now,
        }
    }

    /// Takes a token at `now`: `None` if one was there, else the wait until
    /// the debt is repaid.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let now_ms = now.saturating_duration_since(self.origin).as_millis() as u64;
        match self.bucket.lend(1.0, now_ms) {
            0 => None,
            wait => Some(Duration::from_millis(wait)),
        }
    }
}

/// Where a peer's limit comes from.
enum Source {
    Plugin {
        plugin: Arc<RateLimitPlugin>,
        operator: String,
    },
    Bucket(TokenBucket),
}

/// One peer's limiter and its throttling balance.
pub struct RequestLimiter {
    source: Source,
    strikes: u32,
    max_strikes: u32,
}

impl RequestLimiter {
    /// The internal token bucket at `rate` requests per second.
    pub fn bucket(rate: f64) -> Self {
        RequestLimiter {
            source: Source::Bucket(TokenBucket::new(rate, Instant::now())),
            strikes: 0,
            max_strikes: max_strikes(rate),
        }
    }

    /// The rate-limit plugin, charging `operator` (the node id in hex);
    /// `rate` (the plugin's per-operator rate) sets the strike limit.
    pub fn plugin(plugin: Arc<RateLimitPlugin>, operator: String, rate: f64) -> Self {
        RequestLimiter {
            source: Source::Plugin { plugin, operator },
            strikes: 0,
            max_strikes: max_strikes(rate),
        }
    }

    /// Charges one request and decides.
    pub async fn admit(&mut self) -> Admission {
        let wait = match &mut self.source {
            Source::Bucket(bucket) => bucket.take(Instant::now()),
            Source::Plugin { plugin, operator } => {
                let now_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_millis() as u64);
                match plugin.check(operator, 1, now_ms).await {
                    Ok(decision) if decision.allowed => None,
                    Ok(decision) => Some(Duration::from_millis(decision.retry_after_ms.max(1))),
                    Err(error) => {
                        // Fail open: a broken policy must not cut Bor nodes off.
                        tracing::warn!(%error, "rate-limit plugin failed; request allowed");
                        None
                    }
                }
            }
        };
        self.decide(wait)
    }

    /// Updates the balance for a request that had to wait `wait`.
    fn decide(&mut self, wait: Option<Duration>) -> Admission {
        match wait {
            None => {
                self.strikes = self.strikes.saturating_sub(1);
                Admission::Now
            }
            Some(wait) => {
                self.strikes += 1;
                if self.strikes > self.max_strikes {
                    Admission::Drop
                } else {
                    Admission::After(wait.min(MAX_THROTTLE_DELAY))
                }
            }
        }
    }
}

/// Throttled requests (net of unthrottled ones) tolerated at `rate`.
fn max_strikes(rate: f64) -> u32 {
    let at_rate = (rate * THROTTLE_STRIKE_SECONDS).ceil();
    if at_rate.is_finite() && at_rate > f64::from(MIN_THROTTLE_STRIKES) {
        at_rate.min(f64::from(u32::MAX / 2)) as u32
    } else {
        MIN_THROTTLE_STRIKES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_lends() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, start);
        for _ in 0..10 {
            assert_eq!(bucket.take(start), None);
        }
        assert_eq!(bucket.take(start), Some(Duration::from_millis(100)));
        assert_eq!(bucket.take(start), Some(Duration::from_millis(200)));
        let later = start + Duration::from_millis(300);
        assert_eq!(bucket.take(later), None);
        assert_eq!(bucket.take(later), Some(Duration::from_millis(100)));
        assert_eq!(bucket.take(later + Duration::from_secs(5)), None);
    }

    #[test]
    fn a_flood_is_throttled_then_dropped() {
        let mut limiter = RequestLimiter::bucket(10.0);
        let start = Instant::now();
        let Source::Bucket(bucket) = &mut limiter.source else {
            unreachable!()
        };
        *bucket = TokenBucket::new(10.0, start);
        let mut decisions = Vec::new();
        for _ in 0..200 {
            let wait = match &mut limiter.source {
                Source::Bucket(bucket) => bucket.take(start),
                Source::Plugin { .. } => unreachable!(),
            };
            decisions.push(limiter.decide(wait));
        }
        assert!(decisions[..10].iter().all(|d| *d == Admission::Now));
        assert!(matches!(decisions[10], Admission::After(_)));
        // 50 strikes (5 s at 10/s) are tolerated, the 51st drops the peer.
        assert!(matches!(decisions[59], Admission::After(d) if d == MAX_THROTTLE_DELAY));
        assert_eq!(decisions[60], Admission::Drop);
    }

    #[test]
    fn served_requests_pay_strikes_back() {
        let mut limiter = RequestLimiter::bucket(1.0);
        assert_eq!(limiter.max_strikes, MIN_THROTTLE_STRIKES);
        for _ in 0..MIN_THROTTLE_STRIKES {
            assert!(matches!(
                limiter.decide(Some(Duration::from_secs(3))),
                Admission::After(d) if d == MAX_THROTTLE_DELAY
            ));
        }
        assert_eq!(limiter.decide(None), Admission::Now);
        assert!(matches!(
            limiter.decide(Some(Duration::from_millis(5))),
            Admission::After(d) if d == Duration::from_millis(5)
        ));
        assert_eq!(
            limiter.decide(Some(Duration::from_millis(5))),
            Admission::Drop
        );
    }
}
