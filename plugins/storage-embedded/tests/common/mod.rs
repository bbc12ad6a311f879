//! Shared by the integration tests: batch builders, a deterministic random
//! source, and an "observation" of everything a store answers, so two stores
//! can be compared call for call.

#![allow(dead_code)]

use std::collections::BTreeSet;

use hypasis_plugin_sdk::{
    PluginError, StorageBackend,
    api::{
        BlockPart, BlockRange, H256, IntervalChange, MetaChange, RawBlock, StoredBlock, TxLocation,
        WriteBatch,
        reexports::abi_stable::std_types::{ROption, RString, RVec},
    },
};
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions};

/// xorshift64: deterministic, seedable.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A hash naming `(tag, a, b)`: distinct inputs give distinct hashes.
pub fn hash(tag: u8, a: u64, b: u64) -> H256 {
    let mut hash = [0u8; 32];
    hash[0] = tag;
    hash[8..16].copy_from_slice(&a.to_be_bytes());
    hash[16..24].copy_from_slice(&b.to_be_bytes());
    hash[31] = tag ^ 0x5a;
    hash
}

/// Block `number` of fork `variant`, with `txs` transactions and all parts
/// but state sync (present when `variant` is odd).
pub fn block(number: u64, variant: u64, txs: u64) -> StoredBlock {
    let block_hash = hash(1, number, variant);
    let part = |tag: u8, len: usize| -> RVec<u8> {
        let mut bytes = vec![tag; len];
        bytes[..8].copy_from_slice(&number.to_be_bytes());
        bytes[8..16].copy_from_slice(&variant.to_be_bytes());
        bytes.into()
    };
    StoredBlock {
        block: RawBlock {
            number,
            hash: block_hash,
            header: part(0xf9, 120),
            body: ROption::RSome(part(0xb0, 200 + (number % 7) as usize)),
            receipts: ROption::RSome(part(0xc0, 150)),
            state_sync: if variant % 2 == 1 {
                ROption::RSome(part(0x55, 40))
            } else {
                ROption::RNone
            },
            tx_hashes: Default::default(),
        },
        tx_hashes: (0..txs)
            .map(|index| hash(2, number * 1000 + index, variant))
            .collect(),
    }
}

pub fn range(start: u64, end: u64) -> BlockRange {
    BlockRange::new(start, end)
}

pub fn intervals(set: &str, add: &[BlockRange], remove: &[BlockRange]) -> IntervalChange {
    IntervalChange {
        set: RString::from(set),
        add: RVec::from(add.to_vec()),
        remove: RVec::from(remove.to_vec()),
    }
}

pub fn meta(key: &str, value: Option<&[u8]>) -> MetaChange {
    MetaChange {
        key: RString::from(key),
        value: value.map(|value| RVec::from(value.to_vec())).into(),
    }
}

pub fn batch(blocks: Vec<StoredBlock>) -> WriteBatch {
    WriteBatch {
        blocks: RVec::from(blocks),
        ..WriteBatch::default()
    }
}

/// Opens an embedded store in `dir` with a small cache.
pub fn open_embedded(dir: &std::path::Path) -> EmbeddedStore {
    match EmbeddedStore::open(&StoreOptions {
        path: dir.to_path_buf(),
        cache_size: 8 << 20,
    }) {
        Ok(store) => store,
        Err(error) => panic!("open {}: {error}", dir.display()),
    }
}

pub fn ok<T>(result: Result<T, PluginError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{error}"),
    }
}

/// Everything the tests ask a store about.
#[derive(Debug, Default, Clone)]
pub struct Universe {
    pub numbers: BTreeSet<u64>,
    pub blocks: BTreeSet<H256>,
    pub txs: BTreeSet<H256>,
    pub sets: BTreeSet<String>,
    pub keys: BTreeSet<String>,
}

impl Universe {
    /// Records every number, hash, set and key `batch` mentions.
    pub fn learn(&mut self, batch: &WriteBatch) {
        if let ROption::RSome(number) = batch.unwind_above {
            self.numbers.insert(number);
            self.numbers.insert(number.saturating_add(1));
        }
        for stored in batch.blocks.iter() {
            self.numbers.insert(stored.block.number);
            self.blocks.insert(stored.block.hash);
            self.txs.extend(stored.tx_hashes.iter().copied());
        }
        for change in batch.intervals.iter() {
            self.sets.insert(change.set.to_string());
        }
        for change in batch.meta.iter() {
            self.keys.insert(change.key.to_string());
        }
    }
}

/// What a store answers about a [`Universe`].
#[derive(Debug, PartialEq, Eq)]
pub struct Observation {
    pub canonical: Vec<(u64, Option<H256>)>,
    pub numbers: Vec<(H256, Option<u64>)>,
    pub parts: Vec<(BlockPart, Vec<Option<Vec<u8>>>)>,
    pub txs: Vec<(H256, Option<TxLocation>)>,
    pub sets: Vec<(String, Vec<BlockRange>)>,
    pub meta: Vec<(String, Option<Vec<u8>>)>,
    pub blocks: u64,
}

pub fn observe(store: &dyn StorageBackend, universe: &Universe) -> Observation {
    let numbers: Vec<u64> = universe.numbers.iter().copied().collect();
    let canonical = ok(store.canonical_hashes(&numbers));
    let hashes: Vec<H256> = universe.blocks.iter().copied().collect();
    let parts = [
        BlockPart::Header,
        BlockPart::Body,
        BlockPart::Receipts,
        BlockPart::StateSync,
    ]
    .into_iter()
    .map(|part| {
        let found = ok(store.parts(part, &hashes));
        let found = found
            .into_iter()
            .map(|bytes| bytes.into_option().map(|bytes| bytes.to_vec()))
            .collect();
        (part, found)
    })
    .collect();
    Observation {
        canonical: numbers
            .iter()
            .copied()
            .zip(canonical.into_iter().map(ROption::into_option))
            .collect(),
        numbers: hashes
            .iter()
            .map(|hash| (*hash, ok(store.block_number(hash))))
            .collect(),
        parts,
        txs: universe
            .txs
            .iter()
            .map(|tx| (*tx, ok(store.transaction(tx))))
            .collect(),
        sets: universe
            .sets
            .iter()
            .map(|set| (set.clone(), ok(store.intervals(set)).to_vec()))
            .collect(),
        meta: universe
            .keys
            .iter()
            .map(|key| (key.clone(), ok(store.meta(key)).map(|value| value.to_vec())))
            .collect(),
        blocks: ok(store.stats()).blocks,
    }
}

fn short(bytes: &[u8]) -> String {
    let hex: String = bytes
        .iter()
        .take(12)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{} bytes 0x{hex}…", bytes.len())
}

impl Observation {
    /// One line per answer, short enough to read in a failure message.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (number, hash) in &self.canonical {
            lines.push(format!(
                "canonical {number}: {:?}",
                hash.map(|hash| short(&hash))
            ));
        }
        for (hash, number) in &self.numbers {
            lines.push(format!("block_number {}: {number:?}", short(hash)));
        }
        for (part, found) in &self.parts {
            for (index, bytes) in found.iter().enumerate() {
                let bytes = bytes.as_ref().map(|bytes| short(bytes));
                lines.push(format!("parts {part:?} #{index}: {bytes:?}"));
            }
        }
        for (tx, at) in &self.txs {
            let at = at.map(|at| (at.number, short(&at.block_hash), at.index));
            lines.push(format!("transaction {}: {at:?}", short(tx)));
        }
        for (set, ranges) in &self.sets {
            lines.push(format!("intervals {set:?}: {ranges:?}"));
        }
        for (key, value) in &self.meta {
            lines.push(format!(
                "meta {key:?}: {:?}",
                value.as_ref().map(|v| short(v))
            ));
        }
        lines.push(format!("stats.blocks: {}", self.blocks));
        lines
    }
}

/// Asserts two observations agree, printing only the first differences.
pub fn assert_same(found: &Observation, expected: &Observation, context: &str) {
    if found == expected {
        return;
    }
    let (found, expected) = (found.lines(), expected.lines());
    let differences: Vec<String> = found
        .iter()
        .zip(expected.iter())
        .filter(|(found, expected)| found != expected)
        .take(8)
        .map(|(found, expected)| format!("  found    {found}\n  expected {expected}"))
        .collect();
    panic!(
        "{context}: the store disagrees with the reference ({} vs {} answers)\n{}",
        found.len(),
        expected.len(),
        differences.join("\n")
    );
}
