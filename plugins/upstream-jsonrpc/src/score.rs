//! One endpoint's health: counters, moving averages, the score that folds
//! them together, parking after HTTP 429, and the cooldown of an unhealthy
//! endpoint. Plain data and arithmetic, driven by the caller's clock.
//!
//! score = success × latency part × (1 − penalty), in `[0, 1]`:
//! - success: moving average of the share of calls answered (1 at start);
//! - latency part: `0.5 + 0.5 · ref / (ref + latency)`, so slowness at most halves it;
//! - penalty: each caught lie or reported fault takes a share of what is
//!   left (half for bad data and disagreements, a fifth for slowness), and
//!   halves every `fault_half_life_secs`.

use std::time::{Duration, Instant};

use hypasis_plugin_sdk::api::FaultKind;

use crate::options::Options;

/// Weight of the newest sample in the moving averages.
const ALPHA: f64 = 0.2;

/// The newest head an endpoint reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenHead {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: [u8; 32],
    /// When it was seen.
    pub at: Instant,
}

/// How one request went, for the books.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Answered; `answered` is the share of the calls in it that succeeded
    /// (a batch may carry some JSON-RPC errors).
    Answered {
        /// Round-trip time.
        latency: Duration,
        /// Share of calls that succeeded, in `[0, 1]`.
        answered: f64,
    },
    /// No usable answer at all.
    Failed,
    /// An answer already booked turned out unusable (the data is missing
    /// there): an error, but not another request.
    Unusable,
    /// HTTP 429: parked until the given instant.
    RateLimited {
        /// When it may be asked again.
        until: Instant,
    },
}

/// The health record of one endpoint.
#[derive(Debug, Clone)]
pub struct Health {
    requests: u64,
    errors: u64,
    faults: u64,
    success: f64,
    latency_ms: Option<f64>,
    penalty: f64,
    penalty_at: Instant,
    consecutive_errors: u32,
    cooldown_until: Option<Instant>,
    parked_until: Option<Instant>,
    /// The newest head seen.
    pub head: Option<SeenHead>,
}

impl Health {
    /// A fresh record: full score, nothing seen.
    pub fn new(now: Instant) -> Self {
        Health {
            requests: 0,
            errors: 0,
            faults: 0,
            success: 1.0,
            latency_ms: None,
            penalty: 0.0,
            penalty_at: now,
            consecutive_errors: 0,
            cooldown_until: None,
            parked_until: None,
            head: None,
        }
    }

    /// Books one request.
    pub fn record(&mut self, outcome: Outcome, now: Instant, options: &Options) {
        if outcome != Outcome::Unusable {
            self.requests += 1;
        }
        match outcome {
            Outcome::Answered { latency, answered } => {
                let answered = answered.clamp(0.0, 1.0);
                let millis = latency.as_secs_f64() * 1000.0;
                self.latency_ms = Some(match self.latency_ms {
                    Some(average) => average + ALPHA * (millis - average),
                    None => millis,
                });
                self.success += ALPHA * (answered - self.success);
                if answered < 1.0 {
                    self.errors += 1;
                }
                if answered > 0.0 {
                    self.consecutive_errors = 0;
                    self.cooldown_until = None;
                } else {
                    self.failed(now, options);
                }
            }
            Outcome::Failed | Outcome::Unusable => {
                self.errors += 1;
                self.success -= ALPHA * self.success;
                self.failed(now, options);
            }
            Outcome::RateLimited { until } => {
                self.errors += 1;
                self.success -= ALPHA * self.success;
                self.parked_until =
                    Some(self.parked_until.map_or(until, |parked| parked.max(until)));
            }
        }
    }

    fn failed(&mut self, now: Instant, options: &Options) {
        self.consecutive_errors = self.consecutive_errors.saturating_add(1);
        if self.consecutive_errors >= options.unhealthy_after_errors.max(1) {
            let doublings = self
                .consecutive_errors
                .saturating_sub(options.unhealthy_after_errors.max(1))
                .min(16);
            let cooldown = options
                .unhealthy_cooldown_ms
                .saturating_mul(1 << doublings)
                .min(options.unhealthy_cooldown_max_ms);
            self.cooldown_until = Some(now + Duration::from_millis(cooldown));
        }
    }

    /// Books a lie caught or a fault the host reported.
    pub fn fault(&mut self, kind: FaultKind, now: Instant, options: &Options) {
        self.faults += 1;
        let share = match kind {
            FaultKind::Slow => 0.2,
            // Invalid data, a disagreement, or a reason this plugin does not know.
            _ => 0.5,
        };
        let current = self.penalty_now(now, options);
        self.penalty = current + share * (1.0 - current);
        self.penalty_at = now;
    }

    fn penalty_now(&self, now: Instant, options: &Options) -> f64 {
        let half_life = options.fault_half_life_secs.max(1) as f64;
        let elapsed = now.saturating_duration_since(self.penalty_at).as_secs_f64();
        self.penalty * 0.5f64.powf(elapsed / half_life)
    }

    /// The score in `[0, 1]`.
    pub fn score(&self, now: Instant, options: &Options) -> f64 {
        let reference = options.latency_reference_ms.max(1) as f64;
        let latency = self
            .latency_ms
            .map_or(1.0, |millis| 0.5 + 0.5 * reference / (reference + millis));
        (self.success * latency * (1.0 - self.penalty_now(now, options))).clamp(0.0, 1.0)
    }

    /// Parked after a 429, until the returned instant.
    pub fn parked(&self, now: Instant) -> Option<Instant> {
        self.parked_until.filter(|until| *until > now)
    }

    /// Failed too often in a row, and not yet due for another try.
    pub fn cooling_down(&self, now: Instant) -> bool {
        self.cooldown_until.is_some_and(|until| until > now)
    }

    /// Whether the endpoint is used in the normal course: not parked, not
    /// failing in a row, and scoring at least `min_healthy_score`.
    pub fn healthy(&self, now: Instant, options: &Options) -> bool {
        self.parked(now).is_none()
            && self.consecutive_errors < options.unhealthy_after_errors.max(1)
            && self.score(now, options) >= options.min_healthy_score
    }

    /// Requests sent.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Requests that failed (fully or in part).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Lies caught and faults reported.
    pub fn faults(&self) -> u64 {
        self.faults
    }

    /// Moving average latency in milliseconds (0 before the first answer).
    pub fn latency_ms(&self) -> f64 {
        self.latency_ms.unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(millis: u64) -> Outcome {
        Outcome::Answered {
            latency: Duration::from_millis(millis),
            answered: 1.0,
        }
    }

    #[test]
    fn score_folds_latency_errors_and_faults() {
        let options = Options::default();
        let now = Instant::now();
        let mut fast = Health::new(now);
        let mut slow = Health::new(now);
        for _ in 0..10 {
            fast.record(answered(20), now, &options);
            slow.record(answered(3_000), now, &options);
        }
        assert!(fast.score(now, &options) > 0.95);
        assert!(slow.score(now, &options) < 0.65 && slow.score(now, &options) > 0.5);
        assert!(fast.healthy(now, &options) && slow.healthy(now, &options));

        // Errors in a row make it unhealthy and start a cooldown.
        let mut failing = fast.clone();
        for _ in 0..3 {
            failing.record(Outcome::Failed, now, &options);
        }
        assert!(!failing.healthy(now, &options));
        assert!(failing.cooling_down(now));
        assert!(!failing.cooling_down(now + Duration::from_secs(3)));
        assert_eq!(failing.errors(), 3);
        // One answer ends the streak; the score climbs back.
        for _ in 0..5 {
            failing.record(answered(20), now, &options);
        }
        assert!(failing.healthy(now, &options));

        // A reported fault lowers the score a lot; two make it unhealthy; it is forgiven with time.
        let mut liar = fast.clone();
        liar.fault(FaultKind::InvalidData, now, &options);
        assert!(liar.score(now, &options) < 0.5);
        liar.fault(FaultKind::InvalidData, now, &options);
        assert!(!liar.healthy(now, &options));
        assert_eq!(liar.faults(), 2);
        let later = now + Duration::from_secs(options.fault_half_life_secs * 4);
        assert!(liar.score(later, &options) > 0.8);

        // A 429 parks it until the given time.
        let mut limited = fast.clone();
        limited.record(
            Outcome::RateLimited {
                until: now + Duration::from_secs(2),
            },
            now,
            &options,
        );
        assert!(limited.parked(now).is_some());
        assert!(!limited.healthy(now, &options));
        assert!(limited.parked(now + Duration::from_secs(3)).is_none());
    }

    #[test]
    fn partly_answered_batches_lower_the_score_without_a_streak() {
        let options = Options::default();
        let now = Instant::now();
        let mut health = Health::new(now);
        for _ in 0..20 {
            health.record(
                Outcome::Answered {
                    latency: Duration::from_millis(10),
                    answered: 0.8,
                },
                now,
                &options,
            );
        }
        let score = health.score(now, &options);
        assert!((0.7..0.85).contains(&score), "{score}");
        assert!(health.healthy(now, &options));
    }
}
