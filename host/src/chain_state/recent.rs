//! The headers of the newest settled blocks, kept by the chain state so
//! that what announces a new head (WebSocket `newHeads`) has its header
//! without reading the store: sync hands each settled block's decoded
//! header over when it pushes the head.

use std::{collections::VecDeque, sync::Arc};

use alloy_consensus::Header;
use alloy_primitives::B256;

/// How many of the newest canonical headers are kept (a WebSocket
/// subscriber is sent at most this many for one head change).
pub const KEPT_HEADERS: usize = 64;

/// One kept header.
#[derive(Debug, Clone)]
struct Kept {
    number: u64,
    hash: B256,
    header: Arc<Header>,
}

/// The newest canonical headers, a linked run ending at the head.
#[derive(Debug, Default)]
pub struct RecentHeaders {
    kept: VecDeque<Kept>,
}

impl RecentHeaders {
    /// Adds the head's header. A header that does not extend the newest
    /// kept one (a gap, or another parent) starts the run again.
    pub fn push(&mut self, number: u64, hash: B256, header: Arc<Header>) {
        let extends = self
            .kept
            .back()
            .is_some_and(|last| last.number + 1 == number && last.hash == header.parent_hash);
        if !extends {
            self.kept.clear();
        }
        self.kept.push_back(Kept {
            number,
            hash,
            header,
        });
        while self.kept.len() > KEPT_HEADERS {
            self.kept.pop_front();
        }
    }

    /// Forgets the headers above `number` (`hash`) after a reorg; all of
    /// them when `number` is not the kept block `hash`.
    pub fn unwind_to(&mut self, number: u64, hash: B256) {
        while self.kept.back().is_some_and(|last| last.number > number) {
            self.kept.pop_back();
        }
        if self
            .kept
            .back()
            .is_some_and(|last| last.number != number || last.hash != hash)
        {
            self.kept.clear();
        }
    }

    /// The kept canonical header of block `number`, with its hash.
    pub fn get(&self, number: u64) -> Option<(B256, Arc<Header>)> {
        let first = self.kept.front()?.number;
        let index = usize::try_from(number.checked_sub(first)?).ok()?;
        self.kept
            .get(index)
            .map(|kept| (kept.hash, Arc::clone(&kept.header)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(number: u64, parent: B256) -> (B256, Arc<Header>) {
        let header = Header {
            number,
            parent_hash: parent,
            ..Header::default()
        };
        (header.hash_slow(), Arc::new(header))
    }

    #[test]
    fn keeps_a_linked_run_of_the_newest_and_forgets_unwound_ones() {
        let mut recent = RecentHeaders::default();
        let mut parent = B256::ZERO;
        let mut hashes = Vec::new();
        for number in 0..100 {
            let (hash, header) = header(number, parent);
            recent.push(number, hash, header);
            hashes.push(hash);
            parent = hash;
        }
        assert!(recent.get(35).is_none(), "only the newest are kept");
        assert_eq!(recent.get(36).map(|(hash, _)| hash), Some(hashes[36]));
        assert_eq!(recent.get(99).unwrap().1.number, 99);
        assert!(recent.get(100).is_none());

        recent.unwind_to(90, hashes[90]);
        assert!(recent.get(91).is_none());
        assert_eq!(recent.get(90).map(|(hash, _)| hash), Some(hashes[90]));

        // A header that does not link (another parent) starts again.
        let (hash, header) = header(91, B256::repeat_byte(7));
        recent.push(91, hash, header);
        assert!(recent.get(90).is_none());
        assert_eq!(recent.get(91).map(|(hash, _)| hash), Some(hash));

        // Unwinding to a block that is not kept forgets everything.
        recent.unwind_to(91, B256::repeat_byte(9));
        assert!(recent.get(91).is_none());
    }
}
