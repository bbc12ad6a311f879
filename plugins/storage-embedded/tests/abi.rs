//! The built shared library loads through the plugin ABI, the way the host
//! loads it, and works: write, read back, stats, shutdown, reopen.

use hypasis_plugin_sdk::api::Namespace;
mod common;

use std::{
    future::Future,
    path::PathBuf,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
};

use common::*;
use hypasis_plugin_sdk::api::{
    BlockPart, PluginKind, PluginModuleRef, StorageBox,
    reexports::abi_stable::{
        library::lib_header_from_path,
        std_types::{RSlice, RStr},
    },
};

/// Polls a future to completion on this thread.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The cdylib cargo built beside this test binary.
fn library() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|error| panic!("{error}"));
    let deps = exe
        .parent()
        .unwrap_or_else(|| panic!("no parent of {}", exe.display()));
    let name = "libhypasis_storage_embedded.so";
    [deps.join(name), deps.join("..").join(name)]
        .into_iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} not built next to {}", deps.display()))
}

fn instantiate(module: PluginModuleRef, data_dir: &std::path::Path) -> StorageBox {
    let envelope = serde_json::json!({
        "plugin": "storage-embedded",
        "instance": "storage",
        "data_dir": data_dir,
        "settings": { "cache_size": 16 << 20 },
        "options": { "path": "store" },
    })
    .to_string();
    match (module.instantiate())(RStr::from_str(&envelope)).into_result() {
        Ok(instance) => {
            let kind = instance.kind;
            match instance.storage.into_option() {
                Some(storage) => storage,
                None => panic!("instantiate gave a {kind} plugin"),
            }
        }
        Err(error) => panic!("instantiate: {error}"),
    }
}

#[test]
fn loads_and_serves_through_the_abi() {
    let path = library();
    let header = lib_header_from_path(&path).unwrap_or_else(|error| panic!("{error}"));
    let module = header
        .init_root_module::<PluginModuleRef>()
        .unwrap_or_else(|error| panic!("{error}"));
    let info = (module.info())();
    assert_eq!(info.name.as_str(), "storage-embedded");
    assert_eq!(info.kind, PluginKind::Storage);

    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let blocks: Vec<_> = (0..10).map(|number| block(number, 1, 2)).collect();
    let hashes: Vec<_> = blocks.iter().map(|stored| stored.hash).collect();
    let storage = instantiate(module, dir.path());
    let mut first = batch(blocks.clone());
    first.meta = vec![meta("sync/forward", Some(b"9"))].into();
    ok(block_on(storage.write(first)).into_result());
    let canonical = ok(storage
        .canonical_hashes(RSlice::from_slice(&[0, 9, 10]))
        .into_result());
    assert_eq!(
        canonical
            .iter()
            .map(|hash| hash.into_option())
            .collect::<Vec<_>>(),
        vec![Some(hashes[0]), Some(hashes[9]), None]
    );
    let states = ok(storage
        .parts(BlockPart::StateSync, RSlice::from_slice(&hashes[..2]))
        .into_result());
    assert_eq!(
        states[1].as_ref().into_option(),
        blocks[1].state_sync.as_ref().into_option()
    );
    let stats = ok(storage.stats().into_result());
    assert_eq!(stats.blocks, 10);
    assert!(stats.bytes > 0);
    ok(block_on(storage.shutdown()).into_result());
    drop(storage);

    // The same directory, a new instance: the data is there.
    let storage = instantiate(module, dir.path());
    let headers = ok(storage
        .parts(BlockPart::Header, RSlice::from_slice(&hashes[9..]))
        .into_result());
    assert_eq!(headers[0].as_ref().into_option(), Some(&blocks[9].header));
    let progress = ok(storage
        .meta(Namespace::Host, RStr::from_str("sync/forward"))
        .into_result());
    assert_eq!(
        progress.into_option().map(|value| value.to_vec()),
        Some(b"9".to_vec())
    );
    assert!(dir.path().join("store").is_dir());
    ok(block_on(storage.shutdown()).into_result());
}
