//! Shared by the integration tests: batch builders, a deterministic random
//! source, and an "observation" of everything a store answers, so two stores
//! can be compared call for call.

#![allow(dead_code)]

use std::collections::BTreeSet;

use hypasis_plugin_sdk::{
    PluginError, StorageBackend,
    api::{
        BlockPart, BlockRange, H256, IntervalChange, MetaChange, Namespace, RawBlock, TxLocation,
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

/// A body `[transactions, uncles]` of `txs` typed transactions (opaque
/// EIP-2718 envelopes naming `number`, `variant` and their index), and
/// their hashes.
pub fn real_body(number: u64, variant: u64, txs: u64) -> (RVec<u8>, RVec<H256>) {
    let envelopes: Vec<Vec<u8>> = (0..txs)
        .map(|index| {
            let mut envelope = vec![0x02];
            alloy_rlp::encode_list::<u64, u64>(&[number * 1000 + index, variant], &mut envelope);
            envelope
        })
        .collect();
    let hashes = envelopes
        .iter()
        .map(|envelope| alloy_primitives::keccak256(envelope).0)
        .collect();
    let mut list = Vec::new();
    for envelope in &envelopes {
        alloy_rlp::Encodable::encode(&envelope.as_slice(), &mut list);
    }
    let mut transactions = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: list.len(),
    }
    .encode(&mut transactions);
    transactions.extend_from_slice(&list);
    let mut body = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: transactions.len() + 1,
    }
    .encode(&mut body);
    body.extend_from_slice(&transactions);
    body.push(0xc0);
    (body.into(), hashes)
}

/// Block `number` of fork `variant`, with `txs` transactions and all parts
/// but state sync (present when `variant` is odd); every third block comes
/// with its senders. Three blocks in four have a real body that holds
/// their transactions; the fourth an opaque one, so stores keep its
/// transaction hashes apart.
pub fn block(number: u64, variant: u64, txs: u64) -> RawBlock {
    let block_hash = hash(1, number, variant);
    let part = |tag: u8, len: usize| -> RVec<u8> {
        let mut bytes = vec![tag; len];
        bytes[..8].copy_from_slice(&number.to_be_bytes());
        bytes[8..16].copy_from_slice(&variant.to_be_bytes());
        bytes.into()
    };
    let (body, tx_hashes) = if number % 4 == 3 {
        (
            part(0xb0, 200 + (number % 7) as usize),
            (0..txs)
                .map(|index| hash(2, number * 1000 + index, variant))
                .collect(),
        )
    } else {
        real_body(number, variant, txs)
    };
    RawBlock {
        number,
        hash: block_hash,
        header: part(0xf9, 120),
        body: ROption::RSome(body),
        receipts: ROption::RSome(part(0xc0, 150)),
        state_sync: if variant % 2 == 1 {
            ROption::RSome(part(0x55, 40))
        } else {
            ROption::RNone
        },
        tx_hashes,
        senders: if number.is_multiple_of(3) {
            (0..txs)
                .map(|index| {
                    let mut sender = [0u8; 20];
                    sender[..8].copy_from_slice(&(number * 1000 + index).to_be_bytes());
                    sender[19] = variant as u8;
                    sender
                })
                .collect()
        } else {
            RVec::new()
        },
        ext: Default::default(),
    }
}

pub fn range(start: u64, end: u64) -> BlockRange {
    BlockRange::new(start, end)
}

/// A change to chain interval set `set`.
pub fn intervals(set: &str, add: &[BlockRange], remove: &[BlockRange]) -> IntervalChange {
    IntervalChange {
        space: Namespace::Chain,
        set: RString::from(set),
        add: RVec::from(add.to_vec()),
        remove: RVec::from(remove.to_vec()),
        ext: Default::default(),
    }
}

/// A change to host metadata `key`.
pub fn meta(key: &str, value: Option<&[u8]>) -> MetaChange {
    meta_in(Namespace::Host, key, value)
}

/// A change to metadata `key` of `space`.
pub fn meta_in(space: Namespace, key: &str, value: Option<&[u8]>) -> MetaChange {
    MetaChange {
        space,
        key: RString::from(key),
        value: value.map(|value| RVec::from(value.to_vec())).into(),
        ext: Default::default(),
    }
}

pub fn batch(blocks: Vec<RawBlock>) -> WriteBatch {
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
    pub sets: BTreeSet<(Namespace, String)>,
    pub keys: BTreeSet<(Namespace, String)>,
}

impl Universe {
    /// Records every number, hash, set and key `batch` mentions.
    pub fn learn(&mut self, batch: &WriteBatch) {
        if let ROption::RSome(number) = batch.unwind_above {
            self.numbers.insert(number);
            self.numbers.insert(number.saturating_add(1));
        }
        for block in batch.blocks.iter() {
            self.numbers.insert(block.number);
            self.blocks.insert(block.hash);
            self.txs.extend(block.tx_hashes.iter().copied());
        }
        for list in batch.senders.iter() {
            self.blocks.insert(list.block.hash);
        }
        for change in batch.intervals.iter() {
            self.sets.insert((change.space, change.set.to_string()));
        }
        for change in batch.meta.iter() {
            self.keys.insert((change.space, change.key.to_string()));
        }
    }
}

/// A key in one namespace.
pub type SpacedKey = (Namespace, String);

/// What a store answers about a [`Universe`].
#[derive(Debug, PartialEq, Eq)]
pub struct Observation {
    pub canonical: Vec<(u64, Option<H256>)>,
    pub numbers: Vec<(H256, Option<u64>)>,
    pub parts: Vec<(BlockPart, Vec<Option<Vec<u8>>>)>,
    pub txs: Vec<(H256, Option<TxLocation>)>,
    pub sets: Vec<(SpacedKey, Vec<BlockRange>)>,
    pub meta: Vec<(SpacedKey, Option<Vec<u8>>)>,
    pub blocks: u64,
}

pub fn observe(store: &dyn StorageBackend, universe: &Universe) -> Observation {
    let numbers: Vec<u64> = universe.numbers.iter().copied().collect();
    let canonical = ok(store.canonical_hashes(&numbers));
    // Every block ever written (in hash order, so point reads), then the
    // canonical chain in number order: runs of consecutive numbers, which
    // a store may read with range scans, past side-chain blocks.
    let hashes: Vec<H256> = universe
        .blocks
        .iter()
        .copied()
        .chain(canonical.iter().filter_map(|hash| hash.into_option()))
        .collect();
    let parts = [
        BlockPart::Header,
        BlockPart::Body,
        BlockPart::Receipts,
        BlockPart::StateSync,
        BlockPart::TxHashes,
        BlockPart::Senders,
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
            .map(|(space, set)| {
                (
                    (*space, set.clone()),
                    ok(store.intervals(*space, set)).to_vec(),
                )
            })
            .collect(),
        meta: universe
            .keys
            .iter()
            .map(|(space, key)| {
                let value = ok(store.meta(*space, key)).map(|value| value.to_vec());
                ((*space, key.clone()), value)
            })
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
            let at = at
                .as_ref()
                .map(|at| (at.number, short(&at.block_hash), at.index));
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
