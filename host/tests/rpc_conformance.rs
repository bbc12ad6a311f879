//! JSON-RPC conformance: ethereum/execution-apis' test chain
//! (`../shared/fixtures/execution-apis/`, commit 033ca6e6) taken in with
//! `hypasis-sync import`, served by the host, and every `.io` fixture of the
//! methods we serve replayed against it. Each answer must equal the
//! fixture's `<<` line as JSON (object key order aside), as hive's
//! rpc-compat simulator compares them.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use hypasis_sync::{app::Host, config::Config};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The methods whose fixtures must all pass.
const METHODS: &[&str] = &[
    "eth_blockNumber",
    "eth_chainId",
    "net_version",
    "eth_syncing",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockReceipts",
    "eth_getTransactionByHash",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionReceipt",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
];

fn fixtures() -> PathBuf {
    common::workspace_root().join("../shared/fixtures/execution-apis")
}

/// The request/response pairs of one `.io` file.
fn exchanges(file: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut pairs = Vec::new();
    let mut request = None;
    for line in text.lines() {
        if let Some(sent) = line.strip_prefix(">> ") {
            request = Some(sent.to_string());
        } else if let Some(expected) = line.strip_prefix("<< ") {
            let sent = request.take().expect("a << line follows a >> line");
            pairs.push((sent, serde_json::from_str(expected).unwrap()));
        }
    }
    pairs
}

/// Imports the chain into a fresh data dir.
fn import(data: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["import", "--genesis"])
        .arg(fixtures().join("genesis.json"))
        .arg("--chain")
        .arg(fixtures().join("chain.rlp"))
        .arg("--datadir")
        .arg(data)
        .env("HYPASIS_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success(), "import failed");
}

fn serve_config(data: &Path) -> Config {
    let mut config = Config::default();
    config.storage.plugin = "storage-embedded".into();
    config.storage.data_dir = data.to_path_buf();
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config.sync.forward.enabled = false;
    config.sync.backward.enabled = false;
    config.p2p.enabled = false;
    config.metrics.enabled = false;
    config.ratelimit.enabled = false;
    config.api.rest.enabled = false;
    config.api.rpc.listen = "127.0.0.1:0".parse().unwrap();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_apis_fixtures_pass() {
    let data = tempfile::tempdir().unwrap();
    import(data.path());
    let shutdown = CancellationToken::new();
    let host = Host::start(serve_config(data.path()), shutdown.clone())
        .await
        .unwrap();
    let url = format!(
        "http://{}",
        host.api
            .as_ref()
            .and_then(|api| api.rpc)
            .expect("JSON-RPC listens")
    );
    let client = reqwest::Client::new();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for method in METHODS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join(method))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "io"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no fixtures for {method}");
        for file in files {
            let name = format!("{method}/{}", file.file_name().unwrap().to_string_lossy());
            for (request, expected) in exchanges(&file) {
                let answer: Value = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(request.clone())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if answer == expected {
                    passed.push(name.clone());
                } else {
                    failed.push(format!(
                        "{name}\n  sent     {request}\n  expected {expected}\n  got      {answer}"
                    ));
                }
            }
        }
    }
    println!("{} fixtures passed:", passed.len());
    for name in &passed {
        println!("  pass {name}");
    }
    shutdown.cancel();
    host.stop().await.unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failed.len(),
        failed.len() + passed.len(),
        failed.join("\n")
    );
}
