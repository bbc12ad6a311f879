//! What one plugin call costs across the ABI, next to the same call made
//! in-process on the same plugin code.
//!
//! Run: `cargo bench -p hypasis-sync --bench plugin_call`
//! (it first builds the workspace plugins in release mode).

use std::{path::PathBuf, process::Command, sync::Arc};

use abi_stable::std_types::{ROption, RVec};
use alloy_consensus::Header;
use alloy_rlp::Encodable;
use criterion::{Criterion, criterion_group, criterion_main};
use hypasis_plugin_api::{Direction, RawBlock, ValidationRequest, WriteBatch};
use hypasis_plugin_sdk::{StorageBackend, ValidationLevel};
use hypasis_storage_memory::MemoryStore;
use hypasis_sync::{
    config::{Config, ValidationLevelName},
    plugins::PluginLoader,
};
use hypasis_validation_core::Level;
use hypasis_validation_none::LevelPlugin;

fn release_plugin_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--workspace", "--lib"])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the plugins failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release")
}

fn request() -> ValidationRequest {
    let header = Header {
        number: 1_000,
        gas_limit: 30_000_000,
        timestamp: 1_700_000_000,
        ..Default::default()
    };
    let mut bytes = Vec::new();
    header.encode(&mut bytes);
    ValidationRequest {
        direction: Direction::Forward,
        blocks: vec![RawBlock {
            number: 1_000,
            hash: [1; 32],
            header: bytes.into(),
            body: ROption::RNone,
            receipts: ROption::RNone,
            state_sync: ROption::RNone,
            tx_hashes: Default::default(),
            senders: Default::default(),
            ext: Default::default(),
        }]
        .into(),
        parent: ROption::RNone,
        child: ROption::RNone,
        anchors: RVec::new(),
        checkpoints: RVec::new(),
        spans: RVec::new(),
        ext: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let dir = release_plugin_dir();
    let data = tempfile::tempdir().expect("temp dir");
    let loader = PluginLoader::new(dir, data.path().to_path_buf(), 2);
    let mut config = Config::default();
    config.storage.plugin = "storage-memory".into();
    let storage = loader.storage(&config).expect("storage-memory loads");
    let validation = loader
        .validation("bench", ValidationLevelName::None, "bench")
        .expect("validation-none loads");
    let native_store = Arc::new(MemoryStore::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let request = request();
    let decode_only = LevelPlugin::new(Level::None, hypasis_polygon::ChainSpec::mainnet());

    let mut group = c.benchmark_group("sync call: validate one header (validation-none)");
    group.bench_function("in-process", |b| {
        b.iter(|| decode_only.validate(&request).expect("valid"))
    });
    group.bench_function("across the ABI", |b| {
        b.iter(|| validation.validate(&request).expect("valid"))
    });
    group.finish();

    let mut group = c.benchmark_group("sync call: stats() (storage-memory)");
    group.bench_function("in-process", |b| {
        b.iter(|| native_store.stats().expect("stats"))
    });
    group.bench_function("across the ABI", |b| {
        b.iter(|| storage.stats().expect("stats"))
    });
    group.finish();

    let mut group = c.benchmark_group("async call: write(empty batch) (storage-memory)");
    group.bench_function("in-process, direct", |b| {
        b.iter(|| native_store.write(WriteBatch::default()).expect("write"))
    });
    // Awaited from inside a running task, as the host's sync engine does.
    group.bench_function("in-process, awaited on the host's blocking pool", |b| {
        b.iter_custom(|iterations| {
            let store = Arc::clone(&native_store);
            runtime.block_on(async move {
                let start = std::time::Instant::now();
                for _ in 0..iterations {
                    let store = Arc::clone(&store);
                    tokio::task::spawn_blocking(move || store.write(WriteBatch::default()))
                        .await
                        .expect("join")
                        .expect("write");
                }
                start.elapsed()
            })
        })
    });
    group.bench_function(
        "across the ABI, awaited (FfiFuture on the plugin's runtime)",
        |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = std::time::Instant::now();
                    for _ in 0..iterations {
                        storage.write(WriteBatch::default()).await.expect("write");
                    }
                    start.elapsed()
                })
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
