//! The write path: one host `WriteBatch` becomes one fjall batch, committed
//! atomically and durably (one journal entry, fsynced before `write` returns).
//!
//! Applying a batch reads the state it changes (which canonical block a
//! number had, which transactions a block indexed). Those reads see the
//! committed state plus the batch's own earlier changes, kept in [`Pending`],
//! so the result is exactly what `storage-memory` gets by applying the same
//! batch in order. Writers are serialised by the store, so the committed
//! state cannot move underneath.

use std::collections::{BTreeMap, HashMap};

use fjall::{PersistMode, Slice};
use hypasis_plugin_sdk::api::{
    H256, IntervalSet, RawBlock, SenderList, WriteBatch, reexports::abi_stable::std_types::ROption,
};

use crate::{
    engine::Inner,
    error::StoreError,
    schema::{self, MAX_NAME_LEN, Table},
};

/// The tables whose keys are `number ++ hash` and hold one block's data.
const BLOCK_TABLES: [Table; 6] = [
    Table::Headers,
    Table::Bodies,
    Table::Receipts,
    Table::StateSyncs,
    Table::BlockTxs,
    Table::BlockSenders,
];

/// The last operation on every key of one table (`None` deletes). Keys are
/// numbers and Keccak hashes, which nobody can aim at one bucket, so
/// foldhash's fast hasher stands in for SipHash.
type TableOps = HashMap<Vec<u8>, Option<Slice>, foldhash::fast::RandomState>;

/// A batch being built: the last operation on every key, per table.
struct Pending<'a> {
    inner: &'a Inner,
    ops: Vec<TableOps>,
    canonical_count: u64,
    sets: BTreeMap<Vec<u8>, IntervalSet>,
}

impl<'a> Pending<'a> {
    /// Sized for `blocks` blocks carrying `transactions` index entries, so
    /// the maps do not rehash while the batch is applied.
    fn new(inner: &'a Inner, blocks: usize, transactions: usize) -> Self {
        let ops = Table::ALL
            .into_iter()
            .map(|table| {
                let expected = match table {
                    Table::Transactions => transactions,
                    Table::Canonical | Table::Numbers => blocks,
                    _ if table.holds_block_data() => blocks,
                    _ => 0,
                };
                TableOps::with_capacity_and_hasher(expected, Default::default())
            })
            .collect();
        Pending {
            inner,
            ops,
            canonical_count: inner
                .canonical_count
                .load(std::sync::atomic::Ordering::Acquire),
            sets: BTreeMap::new(),
        }
    }

    /// The value of `key` as the batch has left it so far.
    fn read(&self, table: Table, key: &[u8]) -> Result<Option<Slice>, StoreError> {
        match self.ops[table as usize].get(key) {
            Some(op) => Ok(op.clone()),
            None => self.inner.get(table, key),
        }
    }

    fn put(&mut self, table: Table, key: &[u8], value: impl Into<Slice>) {
        self.ops[table as usize].insert(key.to_vec(), Some(value.into()));
    }

    fn delete(&mut self, table: Table, key: &[u8]) {
        self.ops[table as usize].insert(key.to_vec(), None);
    }

    /// The number a stored block has, by hash.
    fn number_of(&self, hash: &H256) -> Result<Option<u64>, StoreError> {
        self.read(Table::Numbers, hash)?
            .map(|bytes| schema::decode_number(schema::NUMBERS, hash, &bytes))
            .transpose()
            .map_err(StoreError::from)
    }

    /// The transaction hashes a stored block was indexed with: its
    /// [`Table::BlockTxs`] entry where it has one, else those of its body.
    fn tx_hashes_of(&self, key: &[u8]) -> Result<Vec<H256>, StoreError> {
        if let Some(bytes) = self.read(Table::BlockTxs, key)? {
            return Ok(schema::decode_tx_hashes(key, &bytes)?);
        }
        match self.read(Table::Bodies, key)? {
            Some(body) => Ok(schema::body_tx_hashes(key, &body)?),
            None => Ok(Vec::new()),
        }
    }

    /// Takes a stored block's transactions out of the index, like
    /// `storage-memory` does: by hash, whatever block they now point at.
    fn unindex_transactions(&mut self, hash: &H256) -> Result<(), StoreError> {
        let Some(number) = self.number_of(hash)? else {
            return Ok(());
        };
        let key = schema::block_key(number, hash);
        for tx in self.tx_hashes_of(&key)? {
            self.delete(Table::Transactions, &tx);
        }
        Ok(())
    }

    /// Forgets the canonical chain above `number` and its transaction index.
    fn unwind_above(&mut self, number: u64) -> Result<(), StoreError> {
        let Some(first) = number.checked_add(1) else {
            return Ok(());
        };
        // The batch has changed nothing yet: scan the committed table.
        let mut removed = Vec::new();
        for guard in self
            .inner
            .table(Table::Canonical)
            .range(schema::number_key(first)..)
        {
            let (key, value) = guard.into_inner().map_err(|error| {
                StoreError::engine(
                    "scanning",
                    Table::Canonical,
                    &schema::number_key(first),
                    error,
                )
            })?;
            schema::decode_number(schema::CANONICAL, &key, &key)?;
            let hash = schema::decode_hash(schema::CANONICAL, &key, &value)?;
            removed.push((key, hash));
        }
        for (key, hash) in removed {
            self.delete(Table::Canonical, &key);
            self.canonical_count = self.canonical_count.saturating_sub(1);
            self.unindex_transactions(&hash)?;
        }
        Ok(())
    }

    /// Stores one block and makes it canonical at its number.
    fn block(&mut self, block: RawBlock) -> Result<(), StoreError> {
        let (number, hash) = (block.number, block.hash);
        let number_key = schema::number_key(number);
        let previous = self
            .read(Table::Canonical, &number_key)?
            .map(|bytes| schema::decode_hash(schema::CANONICAL, &number_key, &bytes))
            .transpose()?;
        self.put(Table::Canonical, &number_key, hash.as_slice());
        match previous {
            None => self.canonical_count += 1,
            // A different block replacing the canonical one at this number
            // takes its transactions out of the index first.
            Some(previous) if previous != hash => self.unindex_transactions(&previous)?,
            Some(_) => {}
        }
        // The block replaces whatever was stored under its hash: parts it
        // no longer has must not be served, transactions it no longer
        // lists must not be found.
        if let Some(old_number) = self.number_of(&hash)? {
            self.unindex_transactions(&hash)?;
            let old_key = schema::block_key(old_number, &hash);
            for table in BLOCK_TABLES {
                self.delete(table, &old_key);
            }
        }
        for (index, tx) in block.tx_hashes.iter().enumerate() {
            let index = u32::try_from(index).map_err(|_| {
                StoreError::InvalidInput(format!("block {number}: too many transactions"))
            })?;
            self.put(
                Table::Transactions,
                tx,
                schema::encode_tx_location(number, index).as_slice(),
            );
        }
        self.put(Table::Numbers, &hash, number_key.as_slice());
        let key = schema::block_key(number, &hash);
        self.put(Table::Headers, &key, block.header.as_slice());
        for (table, part) in [
            (Table::Bodies, &block.body),
            (Table::StateSyncs, &block.state_sync),
        ] {
            if let ROption::RSome(bytes) = part {
                self.put(table, &key, bytes.as_slice());
            }
        }
        if let ROption::RSome(bytes) = &block.receipts {
            // Without their blooms, recomputed when read.
            self.put(
                Table::Receipts,
                &key,
                crate::receipt_codec::compact(bytes.as_slice()),
            );
        }
        // The hashes are kept apart only when the body cannot give them back.
        let from_body = block
            .body
            .as_ref()
            .into_option()
            .and_then(|body| crate::rlp_items::body_tx_hashes(body));
        if from_body.as_deref() != Some(block.tx_hashes.as_slice()) {
            self.put(
                Table::BlockTxs,
                &key,
                schema::encode_tx_hashes(&block.tx_hashes),
            );
        }
        if !block.senders.is_empty() {
            self.senders_checked(number, &key, block.senders.len(), block.tx_hashes.len())?;
            self.put(
                Table::BlockSenders,
                &key,
                schema::encode_senders(&block.senders),
            );
        }
        Ok(())
    }

    /// Refuses a sender list whose length is not the block's transaction count.
    fn senders_checked(
        &self,
        number: u64,
        key: &[u8],
        senders: usize,
        transactions: usize,
    ) -> Result<(), StoreError> {
        if senders == transactions {
            return Ok(());
        }
        Err(StoreError::InvalidInput(format!(
            "block {number} (key {}): {senders} senders for {transactions} transactions",
            schema::printable(key)
        )))
    }

    /// Stores the recovered senders of a block stored earlier (or in this batch).
    fn senders(&mut self, list: SenderList) -> Result<(), StoreError> {
        let hash = list.block.hash;
        let Some(number) = self.number_of(&hash)? else {
            return Err(StoreError::InvalidInput(format!(
                "senders for block {} ({}), which is not stored",
                list.block.number,
                schema::printable(&hash)
            )));
        };
        let key = schema::block_key(number, &hash);
        let transactions = self.tx_hashes_of(&key)?.len();
        self.senders_checked(number, &key, list.senders.len(), transactions)?;
        if !list.senders.is_empty() {
            self.put(
                Table::BlockSenders,
                &key,
                schema::encode_senders(&list.senders),
            );
        }
        Ok(())
    }

    /// The interval set under `key` as the batch has left it so far.
    fn set(&mut self, key: Vec<u8>) -> Result<&mut IntervalSet, StoreError> {
        if !self.sets.contains_key(&key) {
            let set = match self.inner.get(Table::Intervals, &key)? {
                Some(bytes) => IntervalSet::from_ranges(schema::decode_ranges(&key, &bytes)?),
                None => IntervalSet::new(),
            };
            self.sets.insert(key.clone(), set);
        }
        let printable = schema::printable(&key);
        self.sets
            .get_mut(&key)
            .ok_or_else(|| StoreError::InvalidInput(format!("interval set `{printable}` vanished")))
    }

    /// Commits everything as one atomic, durable batch.
    fn commit(mut self) -> Result<(), StoreError> {
        for (key, set) in std::mem::take(&mut self.sets) {
            if set.is_empty() {
                self.delete(Table::Intervals, &key);
            } else {
                self.put(Table::Intervals, &key, schema::encode_ranges(set.ranges()));
            }
        }
        let count = self.canonical_count;
        self.put(
            Table::State,
            schema::STATE_CANONICAL_COUNT,
            count.to_be_bytes().as_slice(),
        );
        let inner = self.inner;
        let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
        for (table, ops) in Table::ALL.into_iter().zip(self.ops) {
            let keyspace = inner.table(table);
            for (key, op) in ops {
                match op {
                    Some(value) => batch.insert(keyspace, key, value),
                    None => batch.remove(keyspace, key),
                }
            }
        }
        batch.commit().map_err(|source| StoreError::Commit {
            action: "committing a batch",
            source,
        })?;
        inner
            .canonical_count
            .store(count, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

/// The key prefix of a namespace, refusing one this version does not know.
fn prefix_of(space: hypasis_plugin_sdk::api::Namespace) -> Result<u8, StoreError> {
    schema::namespace_prefix(space).ok_or_else(|| {
        StoreError::InvalidInput(format!(
            "namespace {space} is not known to storage-embedded"
        ))
    })
}

/// Refuses, before anything is written, what the store cannot hold.
fn validate(batch: &WriteBatch) -> Result<(), StoreError> {
    for space in batch
        .intervals
        .iter()
        .map(|change| change.space)
        .chain(batch.meta.iter().map(|change| change.space))
    {
        prefix_of(space)?;
    }
    for change in &batch.intervals {
        if change.set.len() > MAX_NAME_LEN {
            return Err(StoreError::InvalidInput(format!(
                "interval set name of {} bytes (at most {MAX_NAME_LEN})",
                change.set.len()
            )));
        }
        if let Some(range) = change
            .add
            .iter()
            .chain(change.remove.iter())
            .find(|range| range.start > range.end)
        {
            return Err(StoreError::InvalidInput(format!(
                "interval set `{}`: range {}..={} is inverted",
                change.set, range.start, range.end
            )));
        }
    }
    if let Some(change) = batch
        .meta
        .iter()
        .find(|change| change.key.len() > MAX_NAME_LEN)
    {
        return Err(StoreError::InvalidInput(format!(
            "meta key of {} bytes (at most {MAX_NAME_LEN})",
            change.key.len()
        )));
    }
    Ok(())
}

/// Applies `batch`: unwind, blocks, intervals, meta, in that order, then
/// one atomic commit. The caller holds the store's writer lock.
pub(crate) fn apply(inner: &Inner, batch: WriteBatch) -> Result<(), StoreError> {
    validate(&batch)?;
    let transactions = batch.blocks.iter().map(|block| block.tx_hashes.len()).sum();
    let mut pending = Pending::new(inner, batch.blocks.len(), transactions);
    if let ROption::RSome(number) = batch.unwind_above {
        pending.unwind_above(number)?;
    }
    for block in batch.blocks {
        pending.block(block)?;
    }
    for list in batch.senders {
        pending.senders(list)?;
    }
    for change in batch.intervals {
        let key = schema::name_key(prefix_of(change.space)?, change.set.as_str());
        let set = pending.set(key)?;
        for range in change.remove {
            set.remove(range);
        }
        for range in change.add {
            set.insert(range);
        }
    }
    for change in batch.meta {
        let key = schema::name_key(prefix_of(change.space)?, change.key.as_str());
        match change.value {
            ROption::RSome(value) => pending.put(Table::Meta, &key, value.as_slice()),
            ROption::RNone => pending.delete(Table::Meta, &key),
        }
    }
    pending.commit()
}
