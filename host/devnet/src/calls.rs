//! What the devnet's L1 and Heimdall were asked, counted, so tests can
//! check how often a host polls them (one poll per configured interval).

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
};

use parking_lot::Mutex;

/// `currentHeaderBlock()`'s selector, hex: one L1 checkpoint poll asks it once.
const CURRENT_HEADER_BLOCK: &str = "ec7e4855";

/// Request counts since start.
#[derive(Debug, Default)]
pub struct CallCounts {
    l1_requests: AtomicU64,
    l1_latest_checkpoint: AtomicU64,
    heimdall: Mutex<HashMap<String, u64>>,
}

impl CallCounts {
    /// Counts one L1 JSON-RPC request body.
    pub fn l1(&self, body: &str) {
        self.l1_requests.fetch_add(1, Ordering::Relaxed);
        let calls = body.matches(CURRENT_HEADER_BLOCK).count() as u64;
        self.l1_latest_checkpoint
            .fetch_add(calls, Ordering::Relaxed);
    }

    /// Counts one Heimdall GET of `path`.
    pub fn heimdall(&self, path: &str) {
        let path = path.split('?').next().unwrap_or(path).to_string();
        *self.heimdall.lock().entry(path).or_default() += 1;
    }

    /// L1 HTTP requests.
    pub fn l1_requests(&self) -> u64 {
        self.l1_requests.load(Ordering::Relaxed)
    }

    /// L1 reads of the newest checkpoint (`currentHeaderBlock()` calls).
    pub fn l1_latest_checkpoint(&self) -> u64 {
        self.l1_latest_checkpoint.load(Ordering::Relaxed)
    }

    /// Heimdall GETs of paths ending with `suffix` (`milestones/latest`).
    pub fn heimdall_ending(&self, suffix: &str) -> u64 {
        self.heimdall
            .lock()
            .iter()
            .filter(|(path, _)| path.trim_end_matches('/').ends_with(suffix))
            .map(|(_, count)| *count)
            .sum()
    }
}
