//! The benchmark's workload: deterministic blocks of realistic sizes, and
//! small measuring helpers. Included by `engines.rs`.

use std::path::Path;

use hypasis_plugin_sdk::api::{RawBlock, reexports::abi_stable::std_types::ROption};

/// Blocks per write batch.
pub const BATCH: u64 = 256;
/// Header size, bytes.
pub const HEADER: usize = 600;
/// Body size, bytes.
pub const BODY: usize = 3_000;
/// Receipts size, bytes.
pub const RECEIPTS: usize = 2_000;
/// State-sync receipt size, bytes (every 64th block has one).
pub const STATE_SYNC: usize = 300;
/// Transactions per block.
pub const TXS: usize = 12;
/// Engine cache: the host's default `storage.cache_size`.
pub const CACHE: u64 = 512 << 20;

/// xorshift64*: deterministic filler, fast enough not to matter.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn hash(&mut self) -> [u8; 32] {
        let mut hash = [0u8; 32];
        for chunk in hash.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        hash
    }

    /// RLP-like filler: random words, zero-padded addresses, small numbers.
    fn filler(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let kind = self.next() & 3;
            let word = self.hash();
            match kind {
                0 | 1 => out.extend_from_slice(&word),
                2 => {
                    out.extend_from_slice(&[0; 12]);
                    out.extend_from_slice(&word[..20]);
                }
                _ => {
                    out.extend_from_slice(&[0; 28]);
                    out.extend_from_slice(&word[..4]);
                }
            }
        }
        out.truncate(len);
        out
    }
}

/// The hash of block `number` in the benchmark's chain.
fn block_hash(number: u64) -> [u8; 32] {
    Rng(number.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).hash()
}

pub fn make_batch(rng: &mut Rng, first: u64) -> Vec<RawBlock> {
    (first..first + BATCH)
        .map(|number| RawBlock {
            number,
            hash: block_hash(number),
            header: rng.filler(HEADER).into(),
            body: ROption::RSome(rng.filler(BODY).into()),
            receipts: ROption::RSome(rng.filler(RECEIPTS).into()),
            state_sync: if number % 64 == 0 {
                ROption::RSome(rng.filler(STATE_SYNC).into())
            } else {
                ROption::RNone
            },
            tx_hashes: (0..TXS).map(|_| rng.hash()).collect(),
            ..Default::default()
        })
        .collect()
}

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// CPU seconds used so far by this process (`self`) or thread (`thread-self`).
pub fn cpu_seconds(of: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{of}/stat")).unwrap_or_default();
    // Fields after the command name: state is the first, utime the 12th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok());
    (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / 100.0
}
