//! Blocks stored per second over the last hour, for the status page's
//! chart: a sample of both directions' totals every
//! [`SAMPLE_INTERVAL`], the last [`SAMPLES`] kept.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::sync::SyncStatus;

/// Time between samples.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(10);

/// Samples kept: one hour.
pub const SAMPLES: usize = 360;

/// One point of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatePoint {
    /// When (unix seconds).
    pub time: u64,
    /// Forward blocks/s over the interval before it.
    pub forward: f64,
    /// Backward blocks/s over the interval before it.
    pub backward: f64,
}

#[derive(Debug, Default)]
struct Totals {
    time_ms: u64,
    forward: u64,
    backward: u64,
}

/// The ring of samples.
#[derive(Debug, Default)]
pub struct RateHistory {
    points: Mutex<VecDeque<RatePoint>>,
    last: Mutex<Option<Totals>>,
}

impl RateHistory {
    /// Records both totals at `time_ms`; the rate is taken against the previous record.
    pub fn record(&self, time_ms: u64, forward: u64, backward: u64) {
        let mut last = self.last.lock();
        if let Some(previous) = last.as_ref()
            && time_ms > previous.time_ms
        {
            let seconds = (time_ms - previous.time_ms) as f64 / 1000.0;
            let point = RatePoint {
                time: time_ms / 1000,
                forward: forward.saturating_sub(previous.forward) as f64 / seconds,
                backward: backward.saturating_sub(previous.backward) as f64 / seconds,
            };
            let mut points = self.points.lock();
            if points.len() == SAMPLES {
                points.pop_front();
            }
            points.push_back(point);
        }
        *last = Some(Totals {
            time_ms,
            forward,
            backward,
        });
    }

    /// The points, oldest first.
    pub fn points(&self) -> Vec<RatePoint> {
        self.points.lock().iter().copied().collect()
    }

    /// The newest point.
    pub fn latest(&self) -> Option<RatePoint> {
        self.points.lock().back().copied()
    }

    /// Samples `status` every [`SAMPLE_INTERVAL`] until `shutdown`.
    pub async fn run(
        self: Arc<Self>,
        status: Arc<RwLock<SyncStatus>>,
        shutdown: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(SAMPLE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let (forward, backward) = {
                let status = status.read();
                (status.forward_blocks, status.backward_blocks)
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as u64);
            self.record(now, forward, backward);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_deltas_and_an_hour_is_kept() {
        let history = RateHistory::default();
        history.record(0, 0, 0);
        history.record(10_000, 500, 1_000);
        assert_eq!(
            history.latest(),
            Some(RatePoint {
                time: 10,
                forward: 50.0,
                backward: 100.0
            })
        );
        for step in 2..(SAMPLES as u64 + 10) {
            history.record(step * 10_000, 500 * step, 1_000 * step);
        }
        assert_eq!(history.points().len(), SAMPLES);
        assert_eq!(history.points()[0].time, 100);
    }
}
