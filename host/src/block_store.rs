//! The reads serving makes (devp2p, JSON-RPC), as a trait: the storage plugin in
//! production, an in-memory map in unit tests. Reads are synchronous (the
//! storage interface's serving hot path) and are made inline by the peer
//! task, a bounded number per request.

use abi_stable::std_types::RVec;
use alloy_primitives::B256;
use hypasis_plugin_api::BlockPart;

use crate::plugins::{PluginCallError, StoragePlugin};

/// Stored bytes as the storage plugin hands them over (copied into the
/// response once, never re-encoded).
pub type StoredBytes = RVec<u8>;

/// What serving needs from the block store.
pub trait BlockStore: Send + Sync {
    /// Canonical hashes at `numbers` (`None` where nothing is stored).
    fn canonical_hashes(&self, numbers: &[u64]) -> Result<Vec<Option<B256>>, PluginCallError>;

    /// The number of the stored block `hash`.
    fn block_number(&self, hash: B256) -> Result<Option<u64>, PluginCallError>;

    /// One part of each block in `hashes` (`None` where not stored).
    fn parts(
        &self,
        part: BlockPart,
        hashes: &[B256],
    ) -> Result<Vec<Option<StoredBytes>>, PluginCallError>;

    /// The canonical hash at `number`.
    fn canonical_hash(&self, number: u64) -> Result<Option<B256>, PluginCallError> {
        Ok(self
            .canonical_hashes(&[number])?
            .into_iter()
            .next()
            .flatten())
    }

    /// One part of one block.
    fn part(&self, part: BlockPart, hash: B256) -> Result<Option<StoredBytes>, PluginCallError> {
        Ok(self.parts(part, &[hash])?.into_iter().next().flatten())
    }
}

impl BlockStore for StoragePlugin {
    fn canonical_hashes(&self, numbers: &[u64]) -> Result<Vec<Option<B256>>, PluginCallError> {
        Ok(StoragePlugin::canonical_hashes(self, numbers)?
            .into_iter()
            .map(|hash| hash.map(B256::from))
            .collect())
    }

    fn block_number(&self, hash: B256) -> Result<Option<u64>, PluginCallError> {
        StoragePlugin::block_number(self, &hash.0)
    }

    fn parts(
        &self,
        part: BlockPart,
        hashes: &[B256],
    ) -> Result<Vec<Option<StoredBytes>>, PluginCallError> {
        let hashes: Vec<[u8; 32]> = hashes.iter().map(|hash| hash.0).collect();
        Ok(StoragePlugin::parts(self, part, &hashes)?
            .into_iter()
            .map(|part| part.into_option())
            .collect())
    }
}

/// An in-memory store for unit tests: canonical blocks by number, parts by hash.
#[cfg(test)]
pub mod memory {
    use std::collections::HashMap;

    use alloy_primitives::{B256, U256, keccak256};
    use alloy_rlp::Encodable;

    use super::*;

    /// A chain of headers (and optional other parts) in memory.
    #[derive(Default)]
    pub struct MemoryStore {
        /// Canonical hash by number.
        pub canonical: HashMap<u64, B256>,
        /// Number by hash (canonical or not).
        pub numbers: HashMap<B256, u64>,
        /// Parts by (part, hash).
        pub parts: HashMap<(u8, B256), Vec<u8>>,
    }

    impl MemoryStore {
        /// Blocks `0..count` with legacy headers (difficulty `1 + n % 3`,
        /// timestamp `100 + 2n`), no other parts.
        pub fn chain(count: u64) -> Self {
            let mut store = MemoryStore::default();
            for number in 0..count {
                let header = Self::fake_header(number, 1 + number % 3, 100 + number * 2);
                store.insert(number, header, true);
            }
            store
        }

        /// A legacy header's RLP with these fields (the rest zero).
        pub fn fake_header(number: u64, difficulty: u64, timestamp: u64) -> Vec<u8> {
            let header = legacy_header(number, difficulty, timestamp);
            let mut out = Vec::new();
            header.encode(&mut out);
            out
        }

        /// Stores `header` for `number` and returns its hash.
        pub fn insert(&mut self, number: u64, header: Vec<u8>, canonical: bool) -> B256 {
            let hash = keccak256(&header);
            if canonical {
                self.canonical.insert(number, hash);
            }
            self.numbers.insert(hash, number);
            self.parts.insert((BlockPart::Header.raw(), hash), header);
            hash
        }

        /// Stores one part of block `hash`.
        pub fn set_part(&mut self, part: BlockPart, hash: B256, bytes: Vec<u8>) {
            self.parts.insert((part.raw(), hash), bytes);
        }

        /// The canonical hash at `number`.
        pub fn hash(&self, number: u64) -> B256 {
            self.canonical[&number]
        }

        /// Blocks `from..=to` as sync settles them (the fields `chain` gave them).
        pub fn settled(&self, from: u64, to: u64) -> Vec<crate::chain_state::SettledBlock> {
            (from..=to)
                .map(|number| crate::chain_state::SettledBlock {
                    number,
                    hash: self.hash(number),
                    parent_hash: self.hash(number - 1),
                    difficulty: U256::from(1 + number % 3),
                    timestamp: 100 + number * 2,
                    header: std::sync::Arc::new(
                        hypasis_polygon::decode_header(&self.header(number))
                            .expect("a fake header decodes"),
                    ),
                })
                .collect()
        }

        /// The stored header of canonical block `number`.
        pub fn header(&self, number: u64) -> Vec<u8> {
            self.parts[&(BlockPart::Header.raw(), self.hash(number))].clone()
        }

        /// Removes every part of block `number` (a hole in the store).
        pub fn remove(&mut self, number: u64) {
            if let Some(hash) = self.canonical.remove(&number) {
                self.numbers.remove(&hash);
                self.parts.retain(|(_, h), _| *h != hash);
            }
        }
    }

    /// A real header with the given number, difficulty and timestamp.
    fn legacy_header(number: u64, difficulty: u64, timestamp: u64) -> impl Encodable {
        // A legacy header: 15 fields, the ones that matter set.
        #[derive(alloy_rlp::RlpEncodable)]
        struct LegacyHeader {
            parent_hash: B256,
            ommers_hash: B256,
            beneficiary: alloy_primitives::Address,
            state_root: B256,
            transactions_root: B256,
            receipts_root: B256,
            logs_bloom: alloy_primitives::Bloom,
            difficulty: U256,
            number: u64,
            gas_limit: u64,
            gas_used: u64,
            timestamp: u64,
            extra_data: alloy_primitives::Bytes,
            mix_hash: B256,
            nonce: alloy_primitives::B64,
        }
        LegacyHeader {
            parent_hash: B256::ZERO,
            ommers_hash: B256::ZERO,
            beneficiary: Default::default(),
            state_root: B256::ZERO,
            transactions_root: B256::ZERO,
            receipts_root: crate::p2p::serve::EMPTY_ROOT_HASH,
            logs_bloom: Default::default(),
            difficulty: U256::from(difficulty),
            number,
            gas_limit: 30_000_000,
            gas_used: 0,
            timestamp,
            extra_data: Default::default(),
            mix_hash: B256::ZERO,
            nonce: Default::default(),
        }
    }

    impl BlockStore for MemoryStore {
        fn canonical_hashes(&self, numbers: &[u64]) -> Result<Vec<Option<B256>>, PluginCallError> {
            Ok(numbers
                .iter()
                .map(|number| self.canonical.get(number).copied())
                .collect())
        }

        fn block_number(&self, hash: B256) -> Result<Option<u64>, PluginCallError> {
            Ok(self.numbers.get(&hash).copied())
        }

        fn parts(
            &self,
            part: BlockPart,
            hashes: &[B256],
        ) -> Result<Vec<Option<StoredBytes>>, PluginCallError> {
            Ok(hashes
                .iter()
                .map(|hash| {
                    self.parts
                        .get(&(part.raw(), *hash))
                        .map(|bytes| RVec::from(bytes.clone()))
                })
                .collect())
        }
    }
}
