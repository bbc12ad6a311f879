//! The response cache (`cache.*`): rendered JSON of stored blocks,
//! transactions and receipts, keyed by block hash, so a hit costs a lookup
//! and a copy instead of decoding RLP and recovering senders.
//!
//! Keys are content addresses (a block hash never names other contents),
//! so entries never go stale: a reorg changes which hash a number maps to,
//! and that mapping is read from the store on every call. Size is bounded
//! by `cache.max_entries` and, when set, `cache.max_size` (bytes of JSON);
//! eviction is quick_cache's (S3-FIFO).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use alloy_primitives::B256;
use serde_json::value::RawValue;

/// What of a block an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rendered {
    /// `eth_getBlockBy*` with transaction hashes.
    BlockHashes,
    /// `eth_getBlockBy*` with full transactions.
    BlockFull,
    /// `eth_getBlockReceipts`.
    Receipts,
    /// One transaction, by index.
    Transaction(u32),
    /// One receipt, by index.
    Receipt(u32),
    /// `eth_getHeaderBy*`.
    Header,
}

/// Weighs an entry by its JSON's length, but at least a `1/max_entries`
/// share of the byte bound: so neither the entry count nor the bytes go
/// over their bound.
#[derive(Debug, Clone, Copy)]
struct EntryWeight {
    floor: u64,
    by_bytes: bool,
}

impl quick_cache::Weighter<(B256, Rendered), Arc<RawValue>> for EntryWeight {
    fn weight(&self, _key: &(B256, Rendered), value: &Arc<RawValue>) -> u64 {
        if self.by_bytes {
            (value.get().len() as u64).max(self.floor)
        } else {
            1
        }
    }
}

type Entries = quick_cache::sync::Cache<(B256, Rendered), Arc<RawValue>, EntryWeight>;

/// The cache, or nothing when `cache.enabled` is false.
pub struct ResponseCache {
    entries: Option<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("enabled", &self.entries.is_some())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl ResponseCache {
    /// A cache of at most `max_entries` (`None`: disabled).
    pub fn new(max_entries: Option<u64>) -> Self {
        Self::bounded(max_entries, None)
    }

    /// A cache of at most `max_entries` holding at most `max_bytes` of
    /// JSON when given (`None` entries: disabled).
    pub fn bounded(max_entries: Option<u64>, max_bytes: Option<u64>) -> Self {
        let entries = max_entries.filter(|entries| *entries > 0).map(|entries| {
            let weight = match max_bytes.filter(|bytes| *bytes > 0) {
                Some(bytes) => (
                    bytes,
                    EntryWeight {
                        floor: (bytes / entries).max(1),
                        by_bytes: true,
                    },
                ),
                None => (
                    entries,
                    EntryWeight {
                        floor: 1,
                        by_bytes: false,
                    },
                ),
            };
            Entries::with_weighter(entries.min(1 << 24) as usize, weight.0, weight.1)
        });
        ResponseCache {
            entries,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Whether caching is on.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The cached rendering, or `render`'s (cached when it succeeds).
    pub fn get_or_render<E>(
        &self,
        hash: B256,
        what: Rendered,
        render: impl FnOnce() -> Result<Arc<RawValue>, E>,
    ) -> Result<Arc<RawValue>, E> {
        let Some(entries) = &self.entries else {
            return render();
        };
        if let Some(hit) = entries.get(&(hash, what)) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = render()?;
        entries.insert((hash, what), Arc::clone(&value));
        Ok(value)
    }

    /// Hits over lookups since start (0 before the first lookup).
    pub fn hit_ratio(&self) -> f64 {
        let hits = self.hits.load(Ordering::Relaxed) as f64;
        let total = hits + self.misses.load(Ordering::Relaxed) as f64;
        if total == 0.0 { 0.0 } else { hits / total }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Entries::len)
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Arc<RawValue> {
        Arc::from(RawValue::from_string(text.to_owned()).unwrap())
    }

    #[test]
    fn hits_skip_rendering_and_count() {
        let cache = ResponseCache::new(Some(10));
        let mut renders = 0;
        for _ in 0..3 {
            let got: Result<_, ()> = cache.get_or_render(B256::ZERO, Rendered::Header, || {
                renders += 1;
                Ok(value("1"))
            });
            assert_eq!(got.unwrap().get(), "1");
        }
        assert_eq!(renders, 1);
        assert!((cache.hit_ratio() - 2.0 / 3.0).abs() < 1e-9);
        // A failed render is not cached.
        let failed: Result<Arc<RawValue>, &str> =
            cache.get_or_render(B256::ZERO, Rendered::Receipts, || Err("no"));
        assert!(failed.is_err());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn disabled_renders_every_time() {
        let cache = ResponseCache::new(None);
        let mut renders = 0;
        for _ in 0..2 {
            let _: Result<_, ()> = cache.get_or_render(B256::ZERO, Rendered::Header, || {
                renders += 1;
                Ok(value("2"))
            });
        }
        assert_eq!(renders, 2);
        assert!(!cache.enabled());
        assert_eq!(cache.hit_ratio(), 0.0);
    }

    #[test]
    fn a_byte_bound_holds_the_bytes_and_the_entry_count_down() {
        let cache = ResponseCache::bounded(Some(1_000), Some(10_000));
        let big = "1".repeat(1_000);
        for index in 0..100u32 {
            let _: Result<_, ()> =
                cache.get_or_render(B256::ZERO, Rendered::Transaction(index), || Ok(value(&big)));
        }
        // 10,000 bytes hold about ten 1,000-byte entries, not a hundred.
        assert!(cache.len() <= 12, "{} entries", cache.len());
        let small = ResponseCache::bounded(Some(5), Some(1 << 30));
        for index in 0..50u32 {
            let _: Result<_, ()> =
                small.get_or_render(B256::ZERO, Rendered::Receipt(index), || Ok(value("1")));
        }
        assert!(small.len() <= 6, "{} entries", small.len());
    }
}
