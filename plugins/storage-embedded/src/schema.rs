//! The on-disk key schema: every table, its key and its value, and the
//! functions that build and parse them. Nothing else in the crate knows how a
//! key is laid out.
//!
//! Each table is one fjall keyspace (an LSM tree of its own, all sharing one
//! write-ahead journal, so a batch across tables is atomic). Numbers are
//! 8-byte big-endian so that keys sort by block number: block data is keyed
//! `number ++ hash` (go-ethereum's layout), which makes forward and backward
//! sync append to the trees instead of scattering writes, and keeps one
//! height's blocks (canonical and side forks) next to each other.
//!
//! Bump [`SCHEMA_VERSION`] on any incompatible change; a store written by a
//! newer version is refused on open.

use hypasis_plugin_sdk::api::{BlockRange, H160, H256, Namespace, TxLocation};

/// The schema version this code writes and reads. Version 2 added
/// [`BLOCK_SENDERS`] and the host namespace of [`META`] and [`INTERVALS`]
/// (nothing to rewrite). Version 3 made the [`TRANSACTIONS`] value
/// `number ++ index` (the block hash is the canonical one at that number)
/// and keeps [`BLOCK_TXS`] only where the body cannot give the hashes back;
/// older stores are migrated on open (`migrate.rs`).
pub const SCHEMA_VERSION: u32 = 3;

/// Length of a `number ++ hash` block key.
pub const BLOCK_KEY_LEN: usize = 8 + 32;

/// Length of a [`TRANSACTIONS`] value: `number ++ index`.
pub const TX_LOCATION_LEN: usize = 8 + 4;

/// Length of a [`TRANSACTIONS`] value written by schema versions 1 and 2:
/// `number ++ block hash ++ index`.
pub const LEGACY_TX_LOCATION_LEN: usize = 8 + 32 + 4;

// ---------------------------------------------------------------------------
// `state`: the store's own bookkeeping, never visible to the host.
// ---------------------------------------------------------------------------

/// Table `state`: internal keys ([`STATE_SCHEMA_VERSION`], [`STATE_CANONICAL_COUNT`]).
pub const STATE: &str = "state";

/// `state` key: the schema version the store was created with; value `u32` big-endian.
pub const STATE_SCHEMA_VERSION: &[u8] = b"schema_version";

/// `state` key: how many numbers have a canonical hash; value `u64` big-endian,
/// updated in the same atomic batch as [`CANONICAL`].
pub const STATE_CANONICAL_COUNT: &[u8] = b"canonical_count";

// ---------------------------------------------------------------------------
// Chain index.
// ---------------------------------------------------------------------------

/// Table `canonical`: `number (u64 BE)` → `hash (32 bytes)` of the canonical
/// block at that height. `unwind_above` deletes a suffix of this table.
pub const CANONICAL: &str = "canonical";

/// Table `numbers`: `hash (32 bytes)` → `number (u64 BE)` for every stored
/// block, canonical or not (go-ethereum's `H` prefix). Reads by hash go
/// through it to find the block's `number ++ hash` key.
pub const NUMBERS: &str = "numbers";

// ---------------------------------------------------------------------------
// Block data, keyed `number (u64 BE) ++ hash (32 bytes)`, values stored
// exactly as the host gave them (raw RLP), so serving is a copy.
// ---------------------------------------------------------------------------

/// Table `headers`: block key → header RLP.
pub const HEADERS: &str = "headers";

/// Table `bodies`: block key → body RLP (absent when the block was stored without one).
pub const BODIES: &str = "bodies";

/// Table `receipts`: block key → RLP list of the block's receipts (absent when not stored).
pub const RECEIPTS: &str = "receipts";

/// Table `state_syncs`: block key → Bor's separate state-sync receipt RLP (absent for most blocks).
pub const STATE_SYNCS: &str = "state_syncs";

/// Table `block_txs`: block key → the block's transaction hashes, concatenated
/// (32 bytes each, in body order), so the transaction index can be unwound
/// when the block leaves the canonical chain. Written only when the body
/// does not give them back (a block stored without its body, or hashes that
/// are not the keccak of the body's transactions); otherwise they are
/// recomputed from the body when needed.
pub const BLOCK_TXS: &str = "block_txs";

/// Table `block_senders`: block key → the senders of the block's
/// transactions, concatenated (20 bytes each, in body order), once the
/// host has recovered them.
pub const BLOCK_SENDERS: &str = "block_senders";

// ---------------------------------------------------------------------------
// Transaction index.
// ---------------------------------------------------------------------------

/// Table `transactions`: `tx hash (32 bytes)` → `number (u64 BE) ++ index
/// (u32 BE)`, for canonical blocks only (go-ethereum's `l` prefix, with the
/// index added so no body scan is needed). The block hash is the
/// [`CANONICAL`] one at that number: every entry is removed in the batch
/// that takes its block out of the canonical chain.
pub const TRANSACTIONS: &str = "transactions";

// ---------------------------------------------------------------------------
// Host data.
// ---------------------------------------------------------------------------

/// Table `intervals`: [`name_key`]`(namespace, set name)` → its ranges,
/// ascending and merged, as `start (u64 BE) ++ end (u64 BE)` pairs, 16 bytes each.
pub const INTERVALS: &str = "intervals";

/// Table `meta`: [`name_key`]`(namespace, key)` (the host's UTF-8 key) → value, as given.
pub const META: &str = "meta";

/// The tables, as an index into the store's keyspace handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// [`STATE`].
    State,
    /// [`CANONICAL`].
    Canonical,
    /// [`NUMBERS`].
    Numbers,
    /// [`HEADERS`].
    Headers,
    /// [`BODIES`].
    Bodies,
    /// [`RECEIPTS`].
    Receipts,
    /// [`STATE_SYNCS`].
    StateSyncs,
    /// [`BLOCK_TXS`].
    BlockTxs,
    /// [`BLOCK_SENDERS`].
    BlockSenders,
    /// [`TRANSACTIONS`].
    Transactions,
    /// [`INTERVALS`].
    Intervals,
    /// [`META`].
    Meta,
}

impl Table {
    /// Every table, in index order.
    pub const ALL: [Table; 12] = [
        Table::State,
        Table::Canonical,
        Table::Numbers,
        Table::Headers,
        Table::Bodies,
        Table::Receipts,
        Table::StateSyncs,
        Table::BlockTxs,
        Table::BlockSenders,
        Table::Transactions,
        Table::Intervals,
        Table::Meta,
    ];

    /// The table's name on disk (its keyspace).
    pub const fn name(self) -> &'static str {
        match self {
            Table::State => STATE,
            Table::Canonical => CANONICAL,
            Table::Numbers => NUMBERS,
            Table::Headers => HEADERS,
            Table::Bodies => BODIES,
            Table::Receipts => RECEIPTS,
            Table::StateSyncs => STATE_SYNCS,
            Table::BlockTxs => BLOCK_TXS,
            Table::BlockSenders => BLOCK_SENDERS,
            Table::Transactions => TRANSACTIONS,
            Table::Intervals => INTERVALS,
            Table::Meta => META,
        }
    }

    /// Whether values are large block parts (tuned for size rather than point reads).
    pub const fn holds_block_data(self) -> bool {
        matches!(
            self,
            Table::Headers
                | Table::Bodies
                | Table::Receipts
                | Table::StateSyncs
                | Table::BlockTxs
                | Table::BlockSenders
        )
    }
}

/// Prefix of the [`META`] and [`INTERVALS`] keys of the chain namespace
/// (every key of a version-1 store): the engine refuses empty keys, and
/// the host may use the empty name.
pub const CHAIN_PREFIX: u8 = b'k';

/// Prefix of the [`META`] and [`INTERVALS`] keys of the host namespace.
pub const HOST_PREFIX: u8 = b'h';

/// The longest name ([`META`] key, [`INTERVALS`] set) that can be stored:
/// the engine's key limit less the prefix.
pub const MAX_NAME_LEN: usize = u16::MAX as usize - 1;

/// The key prefix of a namespace, `None` for one this version does not know.
pub fn namespace_prefix(space: Namespace) -> Option<u8> {
    match space {
        Namespace::Chain => Some(CHAIN_PREFIX),
        Namespace::Host => Some(HOST_PREFIX),
        _ => None,
    }
}

/// `prefix ++ name`: the key of a [`META`] entry or an [`INTERVALS`] set.
pub fn name_key(prefix: u8, name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + name.len());
    key.push(prefix);
    key.extend_from_slice(name.as_bytes());
    key
}

/// A key or value that does not have the shape its table requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table `{table}`, key {key}: {problem}")]
pub struct Malformed {
    /// The table.
    pub table: &'static str,
    /// The key, printed (hex or text).
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl Malformed {
    fn new(table: &'static str, key: &[u8], problem: impl Into<String>) -> Self {
        Malformed {
            table,
            key: printable(key),
            problem: problem.into(),
        }
    }
}

/// A key as text if it is printable ASCII, else as `0x…` hex.
pub fn printable(key: &[u8]) -> String {
    if !key.is_empty()
        && key
            .iter()
            .all(|byte| byte.is_ascii_graphic() || *byte == b' ')
    {
        String::from_utf8_lossy(key).into_owned()
    } else {
        let mut text = String::with_capacity(2 + key.len() * 2);
        text.push_str("0x");
        for byte in key {
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }
}

/// A number as a key: 8 bytes big-endian ([`CANONICAL`]).
pub fn number_key(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

/// `number ++ hash`: the key of a block in the block-data tables.
pub fn block_key(number: u64, hash: &H256) -> [u8; BLOCK_KEY_LEN] {
    let mut key = [0u8; BLOCK_KEY_LEN];
    key[..8].copy_from_slice(&number.to_be_bytes());
    key[8..].copy_from_slice(hash);
    key
}

/// Parses an 8-byte big-endian number (a [`CANONICAL`] key, a [`NUMBERS`] value).
pub fn decode_number(table: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64, Malformed> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| Malformed::new(table, key, format!("{} bytes, expected 8", bytes.len())))?;
    Ok(u64::from_be_bytes(array))
}

/// Parses a 32-byte hash (a [`CANONICAL`] value).
pub fn decode_hash(table: &'static str, key: &[u8], bytes: &[u8]) -> Result<H256, Malformed> {
    bytes
        .try_into()
        .map_err(|_| Malformed::new(table, key, format!("{} bytes, expected 32", bytes.len())))
}

/// Encodes a [`TRANSACTIONS`] value: the canonical block's number and the
/// transaction's index in it.
pub fn encode_tx_location(number: u64, index: u32) -> [u8; TX_LOCATION_LEN] {
    let mut value = [0u8; TX_LOCATION_LEN];
    value[..8].copy_from_slice(&number.to_be_bytes());
    value[8..].copy_from_slice(&index.to_be_bytes());
    value
}

/// The receipts list a `receipts` value holds (blooms recomputed for a
/// compact value, see `receipt_codec`).
pub fn decode_receipts(key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    crate::receipt_codec::expand(bytes)
        .ok_or_else(|| Malformed::new(RECEIPTS, key, "a compact receipts value does not parse"))
}

/// Parses a [`TRANSACTIONS`] value into (block number, index).
pub fn decode_tx_location(key: &[u8], bytes: &[u8]) -> Result<(u64, u32), Malformed> {
    let value: &[u8; TX_LOCATION_LEN] = bytes.try_into().map_err(|_| {
        Malformed::new(
            TRANSACTIONS,
            key,
            format!("{} bytes, expected {TX_LOCATION_LEN}", bytes.len()),
        )
    })?;
    let (number, index) = value.split_at(8);
    let number = decode_number(TRANSACTIONS, key, number)?;
    let index: [u8; 4] = index
        .try_into()
        .map_err(|_| Malformed::new(TRANSACTIONS, key, "index of the wrong length"))?;
    Ok((number, u32::from_be_bytes(index)))
}

/// Parses a [`TRANSACTIONS`] value of schema versions 1 and 2.
pub fn decode_legacy_tx_location(key: &[u8], bytes: &[u8]) -> Result<TxLocation, Malformed> {
    let value: &[u8; LEGACY_TX_LOCATION_LEN] = bytes.try_into().map_err(|_| {
        Malformed::new(
            TRANSACTIONS,
            key,
            format!("{} bytes, expected {LEGACY_TX_LOCATION_LEN}", bytes.len()),
        )
    })?;
    let number = decode_number(TRANSACTIONS, key, &value[..8])?;
    let block_hash = decode_hash(TRANSACTIONS, key, &value[8..40])?;
    let mut index = [0u8; 4];
    index.copy_from_slice(&value[40..]);
    Ok(TxLocation::new(
        number,
        block_hash,
        u32::from_be_bytes(index),
    ))
}

/// Encodes a [`BLOCK_TXS`] value.
pub fn encode_tx_hashes(hashes: &[H256]) -> Vec<u8> {
    hashes.concat()
}

/// Parses a [`BLOCK_TXS`] value.
pub fn decode_tx_hashes(key: &[u8], bytes: &[u8]) -> Result<Vec<H256>, Malformed> {
    if !bytes.len().is_multiple_of(32) {
        return Err(Malformed::new(
            BLOCK_TXS,
            key,
            format!("{} bytes, not a multiple of 32", bytes.len()),
        ));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// The transaction hashes of a body stored without a [`BLOCK_TXS`] entry.
pub fn body_tx_hashes(key: &[u8], body: &[u8]) -> Result<Vec<H256>, Malformed> {
    crate::rlp_items::body_tx_hashes(body).ok_or_else(|| {
        Malformed::new(
            BODIES,
            key,
            "a body stored without its transaction hashes does not parse",
        )
    })
}

/// Encodes a [`BLOCK_SENDERS`] value.
pub fn encode_senders(senders: &[H160]) -> Vec<u8> {
    senders.concat()
}

/// Encodes an [`INTERVALS`] value.
pub fn encode_ranges(ranges: &[BlockRange]) -> Vec<u8> {
    let mut value = Vec::with_capacity(ranges.len() * 16);
    for range in ranges {
        value.extend_from_slice(&range.start.to_be_bytes());
        value.extend_from_slice(&range.end.to_be_bytes());
    }
    value
}

/// Parses an [`INTERVALS`] value, checking that the ranges are ascending,
/// well formed and merged.
pub fn decode_ranges(key: &[u8], bytes: &[u8]) -> Result<Vec<BlockRange>, Malformed> {
    if !bytes.len().is_multiple_of(16) {
        return Err(Malformed::new(
            INTERVALS,
            key,
            format!("{} bytes, not a multiple of 16", bytes.len()),
        ));
    }
    let mut ranges: Vec<BlockRange> = Vec::with_capacity(bytes.len() / 16);
    for pair in bytes.chunks_exact(16) {
        let (start, end) = pair.split_at(8);
        let start = decode_number(INTERVALS, key, start)?;
        let end = decode_number(INTERVALS, key, end)?;
        let after_previous = ranges
            .last()
            .is_none_or(|previous| previous.end.checked_add(1).is_some_and(|next| next < start));
        if start > end || !after_previous {
            return Err(Malformed::new(
                INTERVALS,
                key,
                format!("range {start}..={end} is inverted, unsorted or unmerged"),
            ));
        }
        ranges.push(BlockRange::new(start, end));
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_keys_sort_by_number_then_hash() {
        let a = block_key(255, &[0xff; 32]);
        let b = block_key(256, &[0x00; 32]);
        assert!(a < b);
        assert_eq!(block_key(1, &[7; 32])[..8], number_key(1));
    }

    #[test]
    fn values_round_trip() {
        let encoded = encode_tx_location(96_930_000, 41);
        assert_eq!(decode_tx_location(b"k", &encoded), Ok((96_930_000, 41)));
        let hashes = vec![[1; 32], [2; 32]];
        assert_eq!(
            decode_tx_hashes(b"k", &encode_tx_hashes(&hashes)),
            Ok(hashes)
        );
        let ranges = vec![BlockRange::new(0, 9), BlockRange::new(11, 11)];
        assert_eq!(decode_ranges(b"k", &encode_ranges(&ranges)), Ok(ranges));
    }

    #[test]
    fn malformed_values_name_table_and_key() {
        let error = decode_tx_location(&[0xab, 0xcd], &[0; 3]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "table `transactions`, key 0xabcd: 3 bytes, expected 12"
        );
        let mut legacy = vec![0, 0, 0, 0, 0, 0, 1, 0];
        legacy.extend_from_slice(&[9; 32]);
        legacy.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(
            decode_legacy_tx_location(b"k", &legacy),
            Ok(TxLocation::new(256, [9; 32], 7))
        );
        assert!(decode_tx_location(b"k", &legacy).is_err());
        let unmerged = encode_ranges(&[BlockRange::new(0, 9), BlockRange::new(10, 12)]);
        assert!(decode_ranges(b"verified", &unmerged).is_err());
        let inverted = encode_ranges(&[BlockRange::new(5, 4)]);
        assert!(decode_ranges(b"verified", &inverted).is_err());
        assert!(decode_hash(CANONICAL, b"x", &[0; 31]).is_err());
    }
}
