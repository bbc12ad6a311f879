//! A record of the block parts read from the storage plugin, by hash, kept
//! only while something asks for it: tests use it to prove which paths
//! read the store (a new head reaches its subscribers without a read). Off,
//! it costs one relaxed atomic load per read.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
};

use hypasis_plugin_api::{BlockPart, H256};
use parking_lot::Mutex;

/// Reads of block parts by hash, while recording.
#[derive(Debug, Default)]
pub struct ReadLog {
    recording: AtomicBool,
    reads: Mutex<HashMap<(u8, H256), u32>>,
}

impl ReadLog {
    /// Starts recording, forgetting what was recorded before.
    pub fn start(&self) {
        self.reads.lock().clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording (what was recorded stays readable).
    pub fn stop(&self) {
        self.recording.store(false, Ordering::SeqCst);
    }

    /// Notes a read of `part` of each block in `hashes`.
    pub fn note(&self, part: BlockPart, hashes: &[H256]) {
        if !self.recording.load(Ordering::Relaxed) {
            return;
        }
        let mut reads = self.reads.lock();
        for hash in hashes {
            *reads.entry((part.raw(), *hash)).or_default() += 1;
        }
    }

    /// How many times `part` of block `hash` was read while recording.
    pub fn count(&self, part: BlockPart, hash: &H256) -> u32 {
        self.reads
            .lock()
            .get(&(part.raw(), *hash))
            .copied()
            .unwrap_or(0)
    }

    /// How many part reads were recorded in all.
    pub fn total(&self) -> u64 {
        self.reads
            .lock()
            .values()
            .map(|&count| u64::from(count))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_on() {
        let log = ReadLog::default();
        let hash = [7u8; 32];
        log.note(BlockPart::Header, &[hash]);
        assert_eq!(log.total(), 0);
        log.start();
        log.note(BlockPart::Header, &[hash, hash]);
        log.note(BlockPart::Body, &[hash]);
        log.stop();
        log.note(BlockPart::Header, &[hash]);
        assert_eq!(log.count(BlockPart::Header, &hash), 2);
        assert_eq!(log.count(BlockPart::Body, &hash), 1);
        assert_eq!(log.count(BlockPart::Receipts, &hash), 0);
        assert_eq!(log.total(), 3);
    }
}
