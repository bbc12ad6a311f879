//! Migrations of stores written by older schema versions, run on open
//! before the store is used. Each step commits in bounded batches, each
//! atomic, and the schema version is stamped only after the last one: a
//! migration cut short (a crash, `kill -9`) leaves a store of the old
//! version that the next open migrates again from the start, skipping
//! what is already done.

use std::ops::Bound;

use fjall::{PersistMode, Slice};

use crate::{engine::Inner, error::StoreError, schema, schema::Table};

/// Entries rewritten per committed batch.
const CHUNK: usize = 50_000;

/// Brings a store of schema version `found` up to [`schema::SCHEMA_VERSION`].
pub(crate) fn run(inner: &Inner, found: u32) -> Result<(), StoreError> {
    // 1 → 2 added an empty table and a namespace without keys: nothing to do.
    if found < 3 {
        let rewritten = compact_tx_locations(inner)?;
        let dropped = drop_derivable_tx_hashes(inner)?;
        hypasis_plugin_sdk::tracing::info!(
            transactions = rewritten,
            block_hash_lists = dropped,
            "store migrated to schema 3: compact transaction index"
        );
    }
    Ok(())
}

/// The next `CHUNK` entries of `table` after `after` (from the start when `None`).
fn chunk(
    inner: &Inner,
    table: Table,
    after: Option<&Slice>,
) -> Result<Vec<(Slice, Slice)>, StoreError> {
    let from = match after {
        Some(key) => Bound::Excluded(key.to_vec()),
        None => Bound::Unbounded,
    };
    let mut entries = Vec::with_capacity(CHUNK);
    for guard in inner
        .table(table)
        .range::<Vec<u8>, _>((from, Bound::Unbounded))
        .take(CHUNK)
    {
        let entry = guard
            .into_inner()
            .map_err(|error| StoreError::engine("scanning", table, b"", error))?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Runs `step` over every entry of `table`, committing what it adds to a
/// batch once per chunk. Returns how many entries `step` changed.
fn rewrite(
    inner: &Inner,
    table: Table,
    action: &'static str,
    mut step: impl FnMut(
        &Inner,
        &mut fjall::OwnedWriteBatch,
        &Slice,
        &Slice,
    ) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    let mut changed = 0u64;
    let mut scanned = 0u64;
    let mut after: Option<Slice> = None;
    loop {
        let entries = chunk(inner, table, after.as_ref())?;
        let Some((last, _)) = entries.last() else {
            return Ok(changed);
        };
        let last = last.clone();
        let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
        for (key, value) in &entries {
            if step(inner, &mut batch, key, value)? {
                changed += 1;
            }
        }
        batch
            .commit()
            .map_err(|source| StoreError::Commit { action, source })?;
        scanned += entries.len() as u64;
        hypasis_plugin_sdk::tracing::info!(table = table.name(), scanned, changed, "{action}");
        after = Some(last);
    }
}

/// Rewrites `number ++ block hash ++ index` values as `number ++ index`.
fn compact_tx_locations(inner: &Inner) -> Result<u64, StoreError> {
    rewrite(
        inner,
        Table::Transactions,
        "migrating the transaction index",
        |inner, batch, key, value| {
            if value.len() == schema::TX_LOCATION_LEN {
                return Ok(false);
            }
            let location = schema::decode_legacy_tx_location(key, value)?;
            batch.insert(
                inner.table(Table::Transactions),
                key.clone(),
                schema::encode_tx_location(location.number, location.index),
            );
            Ok(true)
        },
    )
}

/// Deletes the `block_txs` entries that the block's body gives back.
fn drop_derivable_tx_hashes(inner: &Inner) -> Result<u64, StoreError> {
    rewrite(
        inner,
        Table::BlockTxs,
        "migrating the blocks' transaction hashes",
        |inner, batch, key, value| {
            let Some(body) = inner.get(Table::Bodies, key)? else {
                return Ok(false);
            };
            let stored = schema::decode_tx_hashes(key, value)?;
            if crate::rlp_items::body_tx_hashes(&body).as_deref() != Some(stored.as_slice()) {
                return Ok(false);
            }
            batch.remove(inner.table(Table::BlockTxs), key.clone());
            Ok(true)
        },
    )
}

#[cfg(test)]
mod tests {
    use hypasis_plugin_sdk::{
        StorageBackend,
        api::{H256, RawBlock, TxLocation, WriteBatch, reexports::abi_stable::std_types::ROption},
    };

    use super::*;
    use crate::{EmbeddedStore, StoreOptions};

    /// A body of `count` typed transactions naming `number`, and their hashes.
    fn body(number: u64, count: u64) -> (Vec<u8>, Vec<H256>) {
        let envelopes: Vec<Vec<u8>> = (0..count)
            .map(|index| {
                let mut envelope = vec![0x02];
                alloy_rlp::encode_list::<u64, u64>(&[number, index], &mut envelope);
                envelope
            })
            .collect();
        let hashes = envelopes
            .iter()
            .map(|envelope| alloy_primitives::keccak256(envelope).0)
            .collect();
        let strings: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
        let mut transactions = Vec::new();
        alloy_rlp::encode_list::<&[u8], [u8]>(&strings, &mut transactions);
        let mut body = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: transactions.len() + 1,
        }
        .encode(&mut body);
        body.extend_from_slice(&transactions);
        body.push(0xc0);
        (body, hashes)
    }

    fn open(dir: &std::path::Path) -> EmbeddedStore {
        EmbeddedStore::open(&StoreOptions {
            path: dir.to_path_buf(),
            cache_size: 4 << 20,
        })
        .expect("open")
    }

    fn entries(store: &EmbeddedStore, table: Table) -> Vec<(Slice, Slice)> {
        store.with(|inner| chunk(inner, table, None)).expect("scan")
    }

    #[test]
    fn a_schema_2_store_is_migrated_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(dir.path());
        let mut blocks = Vec::new();
        let mut all_txs = Vec::new();
        for number in 0..20u64 {
            let (body, tx_hashes) = body(number, number % 4);
            all_txs.extend(tx_hashes.iter().copied());
            blocks.push(RawBlock {
                number,
                hash: [number as u8 + 1; 32],
                header: vec![0xc0].into(),
                body: ROption::RSome(body.into()),
                tx_hashes: tx_hashes.into(),
                ..Default::default()
            });
        }
        // One block without its body: its hashes must stay apart.
        blocks[5].body = ROption::RNone;
        store
            .write(WriteBatch {
                blocks: blocks.clone().into(),
                ..Default::default()
            })
            .expect("write");
        // Bodies that give their hashes back keep no list.
        let lists = entries(&store, Table::BlockTxs);
        assert_eq!(lists.len(), 1, "only the body-less block keeps its list");
        let expected: Vec<Option<TxLocation>> = all_txs
            .iter()
            .map(|tx| store.transaction(tx).expect("lookup"))
            .collect();
        assert!(expected.iter().all(Option::is_some));

        // Rewrite it as schema 2 wrote it: 44-byte locations, every list kept.
        store
            .with(|inner| {
                let mut batch = inner.db.batch().durability(Some(PersistMode::SyncAll));
                for (tx, location) in all_txs.iter().zip(&expected) {
                    let location = location.clone().expect("found");
                    let mut legacy = location.number.to_be_bytes().to_vec();
                    legacy.extend_from_slice(&location.block_hash);
                    legacy.extend_from_slice(&location.index.to_be_bytes());
                    batch.insert(inner.table(Table::Transactions), tx.as_slice(), legacy);
                }
                for block in &blocks {
                    let key = schema::block_key(block.number, &block.hash);
                    batch.insert(
                        inner.table(Table::BlockTxs),
                        key.as_slice(),
                        schema::encode_tx_hashes(&block.tx_hashes),
                    );
                }
                batch.insert(
                    inner.table(Table::State),
                    schema::STATE_SCHEMA_VERSION,
                    2u32.to_be_bytes(),
                );
                batch.commit().map_err(|source| StoreError::Commit {
                    action: "test",
                    source,
                })
            })
            .expect("downgrade");
        store.shutdown().expect("shutdown");
        drop(store);

        let store = open(dir.path());
        let version = store
            .with(|inner| inner.get(Table::State, schema::STATE_SCHEMA_VERSION))
            .expect("read")
            .expect("stamped");
        assert_eq!(version.as_ref(), schema::SCHEMA_VERSION.to_be_bytes());
        assert!(
            entries(&store, Table::Transactions)
                .iter()
                .all(|(_, value)| value.len() == schema::TX_LOCATION_LEN)
        );
        let lists = entries(&store, Table::BlockTxs);
        assert_eq!(lists.len(), 1);
        assert_eq!(
            lists[0].0.as_ref(),
            schema::block_key(5, &blocks[5].hash).as_slice()
        );
        let found: Vec<Option<TxLocation>> = all_txs
            .iter()
            .map(|tx| store.transaction(tx).expect("lookup"))
            .collect();
        assert_eq!(found, expected);
        let hashes: Vec<H256> = blocks.iter().map(|block| block.hash).collect();
        let lists = store
            .parts(hypasis_plugin_sdk::api::BlockPart::TxHashes, &hashes)
            .expect("parts");
        for (block, list) in blocks.iter().zip(lists) {
            let want = (!block.tx_hashes.is_empty()).then(|| block.tx_hashes.concat());
            assert_eq!(list.into_option().map(|list| list.to_vec()), want);
        }
    }
}
