//! The open engine: the fjall database and one keyspace per table, with
//! the point and range reads that both the read path (`store.rs`) and the
//! write path (`write.rs`) use.

use std::sync::atomic::AtomicU64;

use fjall::{Database, Keyspace, Readable, Slice, Snapshot};
use hypasis_plugin_sdk::api::{
    H256,
    reexports::abi_stable::std_types::{ROption, RVec},
};

use crate::{
    error::StoreError,
    part_reads::NumberCache,
    schema::{self, Table},
};

/// The open engine.
pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) tables: Vec<Keyspace>,
    /// Canonical numbers stored; mirrors `state/canonical_count`.
    pub(crate) canonical_count: AtomicU64,
    /// Numbers of recently named blocks, for [`crate::part_reads`].
    pub(crate) numbers: NumberCache,
}

impl Inner {
    /// The keyspace of `table`.
    pub(crate) fn table(&self, table: Table) -> &Keyspace {
        &self.tables[table as usize]
    }

    /// A point read of the latest committed state.
    pub(crate) fn get(&self, table: Table, key: &[u8]) -> Result<Option<Slice>, StoreError> {
        self.table(table)
            .get(key)
            .map_err(|error| StoreError::engine("reading", table, key, error))
    }

    /// A point read in `snapshot`.
    pub(crate) fn get_in(
        &self,
        snapshot: &Snapshot,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Slice>, StoreError> {
        snapshot
            .get(self.table(table), key)
            .map_err(|error| StoreError::engine("reading", table, key, error))
    }

    /// Appends the canonical hashes of `first .. first + count` (consecutive,
    /// no overflow) to `hashes`, with one range scan.
    pub(crate) fn canonical_run(
        &self,
        snapshot: &Snapshot,
        first: u64,
        count: usize,
        hashes: &mut RVec<ROption<H256>>,
    ) -> Result<(), StoreError> {
        let start = hashes.len();
        hashes.extend(std::iter::repeat_n(ROption::RNone, count));
        let last = first + (count as u64 - 1);
        let from = schema::number_key(first);
        let range = snapshot.range(
            self.table(Table::Canonical),
            from..=schema::number_key(last),
        );
        for guard in range {
            let (key, value) = guard
                .into_inner()
                .map_err(|error| StoreError::engine("scanning", Table::Canonical, &from, error))?;
            let number = schema::decode_number(schema::CANONICAL, &key, &key)?;
            let hash = schema::decode_hash(schema::CANONICAL, &key, &value)?;
            let slot = number
                .checked_sub(first)
                .and_then(|offset| usize::try_from(offset).ok())
                .and_then(|offset| hashes.get_mut(start + offset));
            match slot {
                Some(slot) => {
                    // The bodies of the headers served next are asked by hash.
                    self.numbers.insert(hash, number);
                    *slot = ROption::RSome(hash);
                }
                None => {
                    return Err(schema::Malformed {
                        table: schema::CANONICAL,
                        key: schema::printable(&key),
                        problem: format!("scan of {first}..={last} returned it"),
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// The number stored for `hash` in [`Table::Numbers`], in `snapshot`.
    pub(crate) fn number_in(
        &self,
        snapshot: &Snapshot,
        hash: &H256,
    ) -> Result<Option<u64>, StoreError> {
        self.get_in(snapshot, Table::Numbers, hash)?
            .map(|bytes| schema::decode_number(schema::NUMBERS, hash, &bytes))
            .transpose()
            .map_err(StoreError::from)
    }
}
