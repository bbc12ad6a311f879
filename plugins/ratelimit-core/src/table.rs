//! Every operator's bucket, the global bucket and the per-operator
//! overrides, behind one lock (a check is a few hundred nanoseconds of
//! arithmetic, far below what contention on it would cost).

use std::collections::HashMap;

use hypasis_plugin_sdk::api::{OperatorLimits, OperatorOverride, RateDecision};
use parking_lot::Mutex;
use serde::Deserialize;

use crate::Bucket;

/// The limits the host configures (`ratelimit.per_operator_rps`,
/// `ratelimit.global_rps`, `ratelimit.burst`), passed to the plugin as its
/// settings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Sustained requests per second per operator.
    pub per_operator_rps: f64,
    /// Sustained requests per second over all operators.
    pub global_rps: f64,
    /// Requests an operator may make at once above its rate (0: one
    /// second's worth).
    pub burst: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            per_operator_rps: 100.0,
            global_rps: 10_000.0,
            burst: 200,
        }
    }
}

impl Settings {
    /// Refuses limits that cannot be a rate.
    pub fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("per_operator_rps", self.per_operator_rps),
            ("global_rps", self.global_rps),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(format!("{name} must be a number >= 0, not {value}"));
            }
        }
        Ok(())
    }

    /// An operator's limits when no override applies.
    pub fn default_limits(&self) -> OperatorLimits {
        OperatorLimits::new(self.per_operator_rps, self.burst)
    }
}

/// A bucket's capacity for `limits`: the burst, or one second's worth.
fn capacity(limits: &OperatorLimits) -> f64 {
    if limits.burst > 0 {
        f64::from(limits.burst)
    } else {
        limits.rps.max(1.0)
    }
}

/// How long a denied request that can never pass (a rate of 0) is told to wait.
const NEVER_RETRY_MS: u64 = 60_000;

/// Buckets are forgotten (when full) once this many operators are tracked,
/// so that a flood of one-off clients cannot grow memory without bound.
const PRUNE_ABOVE: usize = 100_000;

#[derive(Debug)]
struct OperatorBucket {
    limits: OperatorLimits,
    bucket: Bucket,
}

#[derive(Debug)]
struct State {
    operators: HashMap<String, OperatorBucket>,
    global: Bucket,
    overrides: HashMap<String, OperatorLimits>,
}

/// The state of one policy instance.
#[derive(Debug)]
pub struct BucketTable {
    settings: Settings,
    state: Mutex<State>,
}

impl BucketTable {
    /// An empty table with these limits.
    pub fn new(settings: Settings, now_ms: u64) -> Self {
        let global_capacity = settings.global_rps.max(f64::from(settings.burst)).max(1.0);
        BucketTable {
            settings,
            state: Mutex::new(State {
                operators: HashMap::new(),
                global: Bucket::new(settings.global_rps, global_capacity, now_ms),
                overrides: HashMap::new(),
            }),
        }
    }

    /// The configured limits.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Charges `cost` to `operator` and the global bucket at `now_ms` if
    /// both hold it; otherwise charges nothing and says how long to wait.
    pub fn check(&self, operator: &str, cost: u32, now_ms: u64) -> RateDecision {
        let cost = f64::from(cost.max(1));
        let mut state = self.state.lock();
        let limits = state
            .overrides
            .get(operator)
            .cloned()
            .unwrap_or_else(|| self.settings.default_limits());
        if state.operators.len() >= PRUNE_ABOVE && !state.operators.contains_key(operator) {
            state
                .operators
                .retain(|_, entry| !entry.bucket.is_full(now_ms));
        }
        let State {
            operators, global, ..
        } = &mut *state;
        let entry = operators
            .entry(operator.to_string())
            .or_insert_with(|| OperatorBucket {
                bucket: Bucket::new(limits.rps, capacity(&limits), now_ms),
                limits: limits.clone(),
            });
        if entry.limits != limits {
            // Limits changed since this bucket was made: start afresh under the new ones.
            *entry = OperatorBucket {
                bucket: Bucket::new(limits.rps, capacity(&limits), now_ms),
                limits: limits.clone(),
            };
        }
        let own = entry.bucket.wait_ms(cost, now_ms);
        let everyone = global.wait_ms(cost, now_ms);
        if own == 0 && everyone == 0 {
            entry.bucket.take(cost);
            global.take(cost);
            return RateDecision {
                allowed: true,
                retry_after_ms: 0,
                limits,
                ext: Default::default(),
            };
        }
        let wait = own.max(everyone);
        RateDecision {
            allowed: false,
            retry_after_ms: if wait == u64::MAX {
                NEVER_RETRY_MS
            } else {
                wait
            },
            limits,
            ext: Default::default(),
        }
    }

    /// Sets or removes `operator`'s own limits; its bucket restarts full
    /// under them at its next request.
    pub fn set_override(
        &self,
        operator: &str,
        limits: Option<OperatorLimits>,
    ) -> Result<(), String> {
        if let Some(limits) = &limits
            && (!limits.rps.is_finite() || limits.rps < 0.0)
        {
            return Err(format!("rps must be a number >= 0, not {}", limits.rps));
        }
        let mut state = self.state.lock();
        match limits {
            Some(limits) => state.overrides.insert(operator.to_string(), limits),
            None => state.overrides.remove(operator),
        };
        Ok(())
    }

    /// Every override in force, sorted by operator.
    pub fn overrides(&self) -> Vec<OperatorOverride> {
        let state = self.state.lock();
        let mut list: Vec<OperatorOverride> = state
            .overrides
            .iter()
            .map(|(operator, limits)| OperatorOverride {
                operator: operator.as_str().into(),
                limits: limits.clone(),
                ext: Default::default(),
            })
            .collect();
        list.sort_by(|a, b| a.operator.cmp(&b.operator));
        list
    }

    /// Operators with a bucket right now.
    pub fn tracked(&self) -> usize {
        self.state.lock().operators.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(per_operator: f64, global: f64, burst: u32) -> BucketTable {
        BucketTable::new(
            Settings {
                per_operator_rps: per_operator,
                global_rps: global,
                burst,
            },
            0,
        )
    }

    /// Requests from `operator` every `step_ms` for `seconds`; returns how many went ahead.
    fn offer(table: &BucketTable, operator: &str, step_ms: u64, seconds: u64, start: u64) -> u64 {
        (0..seconds * 1000 / step_ms)
            .filter(|tick| table.check(operator, 1, start + tick * step_ms).allowed)
            .count() as u64
    }

    #[test]
    fn an_operator_gets_its_burst_then_its_rate() {
        let limits = table(10.0, 1_000.0, 5);
        // 1,000 requests a second for 10 s: the burst of 5, then 10 a second.
        let accepted = offer(&limits, "a", 1, 10, 0);
        assert!((104..=106).contains(&accepted), "{accepted}");
        // At most the one token accrued since the last request is there.
        let mut denied = limits.check("a", 1, 10_000);
        if denied.allowed {
            denied = limits.check("a", 1, 10_000);
        }
        assert!(!denied.allowed);
        assert!(denied.retry_after_ms > 0 && denied.retry_after_ms <= 100);
        assert_eq!(
            denied.limits,
            OperatorLimits {
                rps: 10.0,
                burst: 5,
                ext: Default::default(),
            }
        );
    }

    #[test]
    fn the_global_bucket_caps_everyone_together() {
        let limits = table(100.0, 50.0, 0);
        // Two operators at 100 a second each for 10 s share 50 a second.
        let mut accepted = 0;
        for tick in 0..1_000u64 {
            for operator in ["a", "b"] {
                accepted += u64::from(limits.check(operator, 1, tick * 10).allowed);
            }
        }
        // 50 at once (the global capacity) plus 50 a second for the rest.
        assert!((540..=551).contains(&accepted), "{accepted}");
    }

    #[test]
    fn a_denied_request_takes_nothing() {
        let limits = table(1.0, 1_000.0, 1);
        assert!(limits.check("a", 1, 0).allowed);
        for _ in 0..100 {
            assert!(!limits.check("a", 1, 500).allowed);
        }
        // The flood took no tokens: one is there a second after the first request.
        assert!(limits.check("a", 1, 1_000).allowed);
    }

    #[test]
    fn overrides_apply_at_once_and_can_be_removed() {
        let limits = table(1.0, 10_000.0, 1);
        assert!(limits.check("vip", 1, 0).allowed);
        assert!(!limits.check("vip", 1, 0).allowed);
        limits
            .set_override(
                "vip",
                Some(OperatorLimits {
                    rps: 100.0,
                    burst: 50,
                    ext: Default::default(),
                }),
            )
            .unwrap();
        let accepted = (0..60)
            .filter(|_| limits.check("vip", 1, 1).allowed)
            .count();
        assert_eq!(accepted, 50);
        assert_eq!(limits.overrides().len(), 1);
        assert_eq!(limits.overrides()[0].operator.as_str(), "vip");
        limits.set_override("vip", None).unwrap();
        assert!(limits.overrides().is_empty());
        assert_eq!(limits.check("vip", 1, 2).limits.rps, 1.0);
        assert!(
            limits
                .set_override(
                    "x",
                    Some(OperatorLimits {
                        rps: f64::NAN,
                        burst: 1,
                        ext: Default::default(),
                    })
                )
                .is_err()
        );
    }

    #[test]
    fn a_zero_rate_blocks_with_a_finite_retry() {
        let limits = table(0.0, 10.0, 1);
        assert!(limits.check("a", 1, 0).allowed);
        let denied = limits.check("a", 1, 0);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after_ms, NEVER_RETRY_MS);
    }

    #[test]
    fn idle_operators_are_forgotten_when_there_are_too_many() {
        let limits = table(10.0, 1e12, 10);
        for index in 0..PRUNE_ABOVE {
            limits.check(&format!("op{index}"), 1, 0);
        }
        assert_eq!(limits.tracked(), PRUNE_ABOVE);
        // A second later every bucket is full again: a newcomer prunes them.
        limits.check("newcomer", 1, 1_000);
        assert_eq!(limits.tracked(), 1);
    }
}
