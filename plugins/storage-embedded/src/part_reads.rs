//! Reading one block part of many blocks (`StorageBackend::parts`) with as
//! few LSM lookups as the request allows.
//!
//! A served request names blocks by hash, and the block-data tables are
//! keyed `number ++ hash`, so each block costs a `numbers` lookup and then
//! a lookup of the part: two point reads, each a filter check, an index
//! seek and a data-block search in every level. Peers ask for runs of
//! consecutive blocks (Bor's downloader: 192 headers, then their bodies 128
//! at a time), so here
//! - a block's number comes from [`NumberCache`] when a recent scan of the
//!   canonical index or an earlier lookup named it (the headers a peer was
//!   just sent are the bodies it asks for next), and
//! - a run of consecutive numbers is read with one range scan of the part's
//!   table, whose keys are in number order, instead of one point read each;
//!   values of other blocks at those numbers (side chains) are skipped
//!   without being read from their blob files.

use fjall::{Readable, Slice, Snapshot};
use hypasis_plugin_sdk::api::H256;

use crate::{
    engine::Inner,
    error::StoreError,
    schema::{self, Table},
};

/// Consecutive numbers from which a read scans a range instead of reading
/// each key.
pub(crate) const MIN_SCAN_RUN: usize = 8;

/// Entries of [`NumberCache`]: 2^18 blocks (~12 MiB), a few hundred
/// requests' worth, so a peer's bodies follow its headers in the cache.
const NUMBER_CACHE_ENTRIES: usize = 1 << 18;

/// Recently looked-up `hash → number` pairs. A hash names one block, whose
/// number never changes, so an entry is never stale: a block removed since
/// is simply not found under `number ++ hash`. It only saves the `numbers`
/// lookup of [`read_parts`]; [`Inner::number_in`] still answers
/// `block_number` from the table.
pub(crate) struct NumberCache(quick_cache::sync::Cache<H256, u64>);

impl NumberCache {
    /// An empty cache of [`NUMBER_CACHE_ENTRIES`].
    pub(crate) fn new() -> Self {
        NumberCache(quick_cache::sync::Cache::new(NUMBER_CACHE_ENTRIES))
    }

    /// Remembers that `hash` is block `number`.
    pub(crate) fn insert(&self, hash: H256, number: u64) {
        self.0.insert(hash, number);
    }

    fn get(&self, hash: &H256) -> Option<u64> {
        self.0.get(hash)
    }
}

impl Inner {
    /// The number of `hash`: from the cache, or from [`Table::Numbers`]
    /// (and then cached).
    fn cached_number_in(
        &self,
        snapshot: &Snapshot,
        hash: &H256,
    ) -> Result<Option<u64>, StoreError> {
        if let Some(number) = self.numbers.get(hash) {
            return Ok(Some(number));
        }
        let number = self.number_in(snapshot, hash)?;
        if let Some(number) = number {
            self.numbers.insert(*hash, number);
        }
        Ok(number)
    }
}

/// A block's key in the block-data tables and its value in the table read
/// (`None`: that part is not stored).
pub(crate) type PartRead = ([u8; schema::BLOCK_KEY_LEN], Option<Slice>);

/// The key and stored value of `table` for each of `hashes`, in order
/// (`None`: no block of that hash is stored).
pub(crate) fn read_parts(
    inner: &Inner,
    snapshot: &Snapshot,
    table: Table,
    hashes: &[H256],
) -> Result<Vec<Option<PartRead>>, StoreError> {
    let numbers = hashes
        .iter()
        .map(|hash| inner.cached_number_in(snapshot, hash))
        .collect::<Result<Vec<_>, _>>()?;
    let mut values = Vec::with_capacity(hashes.len());
    let mut at = 0;
    while at < hashes.len() {
        let Some(first) = numbers[at] else {
            values.push(None);
            at += 1;
            continue;
        };
        let run = numbers[at..]
            .windows(2)
            .take_while(|pair| matches!(pair, [Some(a), Some(b)] if a.checked_add(1) == Some(*b)))
            .count()
            + 1;
        let run_hashes = &hashes[at..at + run];
        if run >= MIN_SCAN_RUN {
            scan_run(inner, snapshot, table, first, run_hashes, &mut values)?;
        } else {
            for (offset, hash) in run_hashes.iter().enumerate() {
                let key = schema::block_key(first + offset as u64, hash);
                values.push(Some((key, inner.get_in(snapshot, table, &key)?)));
            }
        }
        at += run;
    }
    Ok(values)
}

/// Appends the values of blocks `first ..` (one per hash of `run`) with
/// one range scan of `table`.
fn scan_run(
    inner: &Inner,
    snapshot: &Snapshot,
    table: Table,
    first: u64,
    run: &[H256],
    values: &mut Vec<Option<PartRead>>,
) -> Result<(), StoreError> {
    let start = values.len();
    values.extend(
        run.iter()
            .enumerate()
            .map(|(offset, hash)| Some((schema::block_key(first + offset as u64, hash), None))),
    );
    let last = first + (run.len() as u64 - 1);
    let from = schema::block_key(first, &[0; 32]);
    let range = snapshot.range(
        inner.table(table),
        from..=schema::block_key(last, &[0xff; 32]),
    );
    for guard in range {
        let (key, value) = guard
            .into_inner_if(|key| wanted(key, first, run).is_some())
            .map_err(|error| StoreError::engine("scanning", table, &from, error))?;
        let (Some(value), Some(offset)) = (value, wanted(&key, first, run)) else {
            continue;
        };
        if let Some((_, slot)) = &mut values[start + offset] {
            *slot = Some(value);
        }
    }
    Ok(())
}

/// The position in `run` of the block that `key` (`number ++ hash`) names,
/// if it is one of the run's blocks.
fn wanted(key: &[u8], first: u64, run: &[H256]) -> Option<usize> {
    let number = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let offset = usize::try_from(number.checked_sub(first)?).ok()?;
    (run.get(offset)?.as_slice() == key.get(8..)?).then_some(offset)
}
