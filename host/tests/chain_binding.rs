//! A store is bound to its chain: a data dir filled for one genesis is
//! refused, with both chains named and not one byte changed, when a host or
//! `import` is pointed at it with another genesis.

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use alloy_primitives::{B256, keccak256};
use hypasis_devnet::Devnet;
use hypasis_sync::app::Host;
use tokio_util::sync::CancellationToken;

/// keccak256 of every file under `dir`, by relative path.
fn file_hashes(dir: &Path) -> BTreeMap<PathBuf, B256> {
    let mut hashes = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                hashes.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    keccak256(bytes),
                );
            }
        }
    }
    hashes
}

fn host_config(devnet: &Devnet, data: &Path) -> hypasis_sync::config::Config {
    let mut config = hypasis_sync::devnet_host::config_for(devnet, data);
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config.api.rpc.enabled = false;
    config.api.rest.enabled = false;
    config.metrics.enabled = false;
    config.p2p.enabled = false;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_on_another_chains_store_is_refused_and_changes_nothing() {
    let first = common::api::seeded_devnet(1, 600).await;
    let data = tempfile::tempdir().unwrap();
    let host = Host::start(host_config(&first, data.path()), CancellationToken::new())
        .await
        .unwrap();
    let status = host.sync_status.clone().unwrap();
    common::api::wait_until("the first chain to sync", Duration::from_secs(120), || {
        let status = status.read();
        status.backward_done && status.forward.is_some_and(|head| head >= 512)
    })
    .await;
    host.stop().await.unwrap();
    let first_genesis = first.spec().genesis_hash.unwrap();
    drop(first);

    let before = file_hashes(data.path());
    let second = common::api::seeded_devnet(2, 600).await;
    let second_genesis = second.spec().genesis_hash.unwrap();
    assert_ne!(first_genesis, second_genesis);
    let error = match Host::start(host_config(&second, data.path()), CancellationToken::new()).await
    {
        Ok(_) => panic!("a store of another chain was accepted"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains(&format!("{first_genesis:#x}")), "{error}");
    assert!(error.contains(&format!("{second_genesis:#x}")), "{error}");
    assert!(error.contains("Nothing was changed"), "{error}");
    assert_eq!(
        file_hashes(data.path()),
        before,
        "the refused start changed the store"
    );

    // Without chain.json (a store from before it existed), the store's own
    // record refuses it too, once open.
    std::fs::remove_file(data.path().join("chain.json")).unwrap();
    let error = match Host::start(host_config(&second, data.path()), CancellationToken::new()).await
    {
        Ok(_) => panic!("a store of another chain was accepted without chain.json"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains(&format!("{first_genesis:#x}")), "{error}");
    assert!(!data.path().join("chain.json").exists());
    drop(second);

    // Its own chain opens it, with its blocks, and binds the file again.
    let first = common::api::seeded_devnet(1, 600).await;
    assert_eq!(first.spec().genesis_hash, Some(first_genesis));
    let host = Host::start(host_config(&first, data.path()), CancellationToken::new())
        .await
        .unwrap();
    assert!(
        host.head
            .as_ref()
            .unwrap()
            .head()
            .is_some_and(|head| head.number >= 512)
    );
    host.stop().await.unwrap();
    assert!(data.path().join("chain.json").exists());
}

fn import(genesis: &Path, chain: &Path, datadir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["import", "--genesis"])
        .arg(genesis)
        .arg("--chain")
        .arg(chain)
        .arg("--datadir")
        .arg(datadir)
        .env("HYPASIS__PLUGINS__DIR", common::built_in_plugin_dir())
        .output()
        .unwrap()
}

#[test]
fn import_into_another_chains_store_is_refused_and_changes_nothing() {
    let testdata = common::workspace_root().join("testdata");
    let data = tempfile::tempdir().unwrap();
    let datadir = data.path().join("data");
    let ethtest = testdata.join("ethtest");
    let first = import(
        &ethtest.join("genesis.json"),
        &ethtest.join("chain.rlp"),
        &datadir,
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = file_hashes(&datadir);
    let apis = testdata.join("execution-apis");
    let second = import(
        &apis.join("genesis.json"),
        &apis.join("chain.rlp"),
        &datadir,
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second import was accepted");
    assert!(
        stderr.contains("holds chain id 3503995874084926"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was changed"), "{stderr}");
    assert_eq!(
        file_hashes(&datadir),
        before,
        "the refused import changed the store"
    );
    // The same chain imports again into its own store.
    let again = import(
        &ethtest.join("genesis.json"),
        &ethtest.join("chain.rlp"),
        &datadir,
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
