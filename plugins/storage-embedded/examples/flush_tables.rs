//! Flushes a stopped store's memtables (replayed from its journal) into
//! disk tables and compacts them, so a benchmark reads the store as it is
//! long after ingest rather than from memory:
//! `cargo run --release -p hypasis-storage-embedded --example flush_tables -- <store dir>`
//! (the store dir is `<data_dir>/blocks`).

use hypasis_plugin_sdk::StorageBackend;
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: flush_tables <store dir>")?;
    let store = EmbeddedStore::open(&StoreOptions {
        path: path.into(),
        cache_size: 64 << 20,
    })?;
    store.flush_and_compact()?;
    StorageBackend::shutdown(&store)?;
    println!("flushed and compacted");
    Ok(())
}
