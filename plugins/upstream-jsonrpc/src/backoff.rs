//! Jittered exponential backoff.

use std::{
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use crate::options::Options;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random number in `[0, 1)`; seeded per process by std's hasher keys.
fn unit_random() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The pause before retry number `attempt` (0 for the first): the base
/// doubled per attempt, capped at the maximum, then drawn uniformly from its
/// upper half so that clients do not retry in step.
pub fn delay(attempt: u32, options: &Options) -> Duration {
    let ceiling = options
        .backoff_base_ms
        .saturating_mul(1u64 << attempt.min(20))
        .min(options.backoff_max_ms) as f64;
    Duration::from_secs_f64(ceiling * (0.5 + 0.5 * unit_random()) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        let options = Options {
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            ..Options::default()
        };
        for _ in 0..50 {
            let first = delay(0, &options);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = delay(2, &options);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(delay(30, &options) <= Duration::from_millis(1_000));
        }
        let draws: Vec<Duration> = (0..10).map(|_| delay(3, &options)).collect();
        assert!(draws.iter().any(|draw| *draw != draws[0]), "jittered");
    }
}
