//! Progress lines: each direction's position, rate and ETA every few seconds.

use std::time::{Duration, Instant};

/// Tracks one direction's progress for its log lines.
pub struct ProgressReport {
    direction: &'static str,
    every: Duration,
    last_log: Instant,
    window_start: Instant,
    window_blocks: u64,
}

impl ProgressReport {
    /// A reporter that logs at most every `every`.
    pub fn new(direction: &'static str, every: Duration) -> Self {
        let now = Instant::now();
        ProgressReport {
            direction,
            every,
            last_log: now,
            window_start: now,
            window_blocks: 0,
        }
    }

    /// Records `blocks` stored; logs when due. `at` is the cursor, `remaining`
    /// the blocks still to go (for the ETA).
    pub fn stored(&mut self, blocks: u64, at: u64, remaining: u64) {
        self.window_blocks += blocks;
        if self.last_log.elapsed() < self.every {
            return;
        }
        let seconds = self.window_start.elapsed().as_secs_f64().max(0.001);
        let rate = self.window_blocks as f64 / seconds;
        let eta = if rate > 0.0 {
            Duration::from_secs_f64(remaining as f64 / rate)
        } else {
            Duration::ZERO
        };
        tracing::info!(
            direction = self.direction,
            at,
            remaining,
            rate = format!("{rate:.0} blocks/s"),
            eta = %humantime::format_duration(Duration::from_secs(eta.as_secs())),
            "sync progress"
        );
        self.last_log = Instant::now();
        self.window_start = self.last_log;
        self.window_blocks = 0;
    }
}
