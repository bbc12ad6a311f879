//! Damaged data and stores from the future are refused with clear errors,
//! never a panic.

use hypasis_plugin_sdk::api::Namespace;
mod common;

use std::path::Path;

use common::*;
use hypasis_plugin_sdk::{
    ErrorKind, StorageBackend,
    api::{BlockPart, WriteBatch},
};
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions, schema};

/// Writes `value` under `key` of `table` behind the store's back.
fn tamper(dir: &Path, table: &str, key: &[u8], value: &[u8]) {
    let db = fjall::Database::builder(dir)
        .open()
        .unwrap_or_else(|error| panic!("{error}"));
    let keyspace = db
        .keyspace(table, fjall::KeyspaceCreateOptions::default)
        .unwrap_or_else(|error| panic!("{error}"));
    keyspace
        .insert(key, value)
        .unwrap_or_else(|error| panic!("{error}"));
    db.persist(fjall::PersistMode::SyncAll)
        .unwrap_or_else(|error| panic!("{error}"));
}

fn seeded(dir: &Path) {
    let store = open_embedded(dir);
    let mut first = batch((0..4).map(|number| block(number, 0, 2)).collect());
    first.intervals = vec![intervals("verified", &[range(0, 3)], &[])].into();
    ok(store.write(first));
    ok(store.shutdown());
}

#[test]
fn damaged_values_are_corrupt_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    seeded(dir.path());
    let victim = block(2, 0, 2);
    tamper(
        dir.path(),
        schema::CANONICAL,
        &schema::number_key(1),
        b"short",
    );
    tamper(dir.path(), schema::NUMBERS, &victim.hash, b"\x01");
    tamper(
        dir.path(),
        schema::TRANSACTIONS,
        &victim.tx_hashes[0],
        b"bad",
    );
    tamper(
        dir.path(),
        schema::INTERVALS,
        &schema::name_key(schema::CHAIN_PREFIX, "verified"),
        &[0; 17],
    );
    let store = open_embedded(dir.path());
    let cases = [
        (
            store.canonical_hashes(&[0, 1]).err(),
            "table `canonical`, key 0x0000000000000001",
        ),
        (
            store.parts(BlockPart::Header, &[victim.hash]).err(),
            "table `numbers`, key 0x01000000000000000000000000000002",
        ),
        (store.block_number(&victim.hash).err(), "table `numbers`"),
        (
            store.transaction(&victim.tx_hashes[0]).err(),
            "table `transactions`",
        ),
        (
            store.intervals(Namespace::Chain, "verified").err(),
            "table `intervals`, key kverified",
        ),
    ];
    for (error, expected) in cases {
        let error = error.unwrap_or_else(|| panic!("no error for {expected}"));
        assert_eq!(error.kind, ErrorKind::Corrupt, "{error}");
        assert!(error.message.contains(expected), "{error} lacks {expected}");
    }
    // A write that must read the damaged interval set fails, and changes nothing.
    let write = WriteBatch {
        intervals: vec![intervals("verified", &[range(9, 9)], &[])].into(),
        meta: vec![meta("untouched", Some(b"x"))].into(),
        ..WriteBatch::default()
    };
    let failed = store.write(write).err().map(|error| error.kind);
    assert_eq!(failed, Some(ErrorKind::Corrupt));
    assert_eq!(ok(store.meta(Namespace::Host, "untouched")), None);
    // Undamaged data still reads.
    assert!(ok(store.canonical_hashes(&[3]))[0].is_some());
    ok(store.shutdown());
}

#[test]
fn a_store_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    seeded(dir.path());
    tamper(
        dir.path(),
        schema::STATE,
        schema::STATE_SCHEMA_VERSION,
        &(schema::SCHEMA_VERSION + 1).to_be_bytes(),
    );
    let opened = EmbeddedStore::open(&StoreOptions {
        path: dir.path().to_path_buf(),
        cache_size: 1 << 20,
    });
    let error = hypasis_plugin_sdk::PluginError::from(
        opened
            .err()
            .unwrap_or_else(|| panic!("a newer schema opened")),
    );
    assert_eq!(error.kind, ErrorKind::Config);
    assert!(
        error
            .message
            .contains(&format!("schema version {}", schema::SCHEMA_VERSION + 1)),
        "{error}"
    );
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let store = open_embedded(dir.path());
    let second = EmbeddedStore::open(&StoreOptions {
        path: dir.path().to_path_buf(),
        cache_size: 1 << 20,
    });
    let error = hypasis_plugin_sdk::PluginError::from(
        second.err().unwrap_or_else(|| panic!("opened twice")),
    );
    assert_eq!(error.kind, ErrorKind::Config, "{error}");
    ok(store.shutdown());
    // After shutdown the directory is free again.
    let again = open_embedded(dir.path());
    ok(again.shutdown());
}

#[test]
fn invalid_batches_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let store = open_embedded(dir.path());
    let mut inverted = batch(vec![block(0, 0, 1)]);
    inverted.intervals = vec![intervals("verified", &[range(5, 4)], &[])].into();
    let error = store.write(inverted).err().map(|error| error.kind);
    assert_eq!(error, Some(ErrorKind::InvalidInput));
    assert_eq!(ok(store.stats()).blocks, 0);
    ok(store.shutdown());
}
