//! Prints each table's size on disk in a stopped store, per block:
//! `cargo run --release -p hypasis-storage-embedded --example table_sizes -- <store dir>`
//! (the store dir is `<data_dir>/blocks`).

use hypasis_plugin_sdk::StorageBackend;
use hypasis_storage_embedded::{EmbeddedStore, StoreOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: table_sizes <store dir>")?;
    let store = EmbeddedStore::open(&StoreOptions {
        path: path.into(),
        cache_size: 64 << 20,
    })?;
    let blocks = StorageBackend::stats(&store)?.blocks.max(1);
    let sizes = store.table_sizes()?;
    let total: u64 = sizes.iter().map(|(_, bytes, _)| bytes).sum();
    println!("| table | bytes | entries | bytes/block |");
    println!("|---|---|---|---|");
    for (name, bytes, entries) in sizes {
        println!(
            "| {name} | {bytes} | {entries} | {:.0} |",
            bytes as f64 / blocks as f64
        );
    }
    println!(
        "| all tables ({blocks} blocks) | {total} | | {:.0} |",
        total as f64 / blocks as f64
    );
    Ok(())
}
