//! `hypasis-sync run --config config/config.example.yaml` syncs from a
//! devnet started separately, with the endpoints given through the
//! environment variables the example file reads.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use hypasis_devnet::{ChainConfig, Devnet, DevnetOptions};
use hypasis_sync::{config::Config, plugins::PluginLoader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_config_syncs_from_a_separate_devnet() {
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill: 3_000,
        upstreams: 2,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/config.example.yaml");
    let plugins = common::built_in_plugin_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["run", "--config", example])
        .current_dir(data.path())
        .env("POLYGON_RPC_1", &devnet.upstream_urls()[0])
        .env("POLYGON_RPC_2", &devnet.upstream_urls()[1])
        .env("ETH_L1_RPC_URL", devnet.l1_url())
        .env("HEIMDALL_URL", devnet.heimdall_url())
        .env("DATA_DIR", data.path().join("data"))
        .env("ENABLE_DEVP2P", "false")
        .env("HYPASIS__PLUGINS__DIR", &plugins)
        .env("HYPASIS__METRICS__ENABLED", "false")
        .env("HYPASIS__API__RPC__LISTEN", "127.0.0.1:0")
        .env("HYPASIS__API__REST__LISTEN", "127.0.0.1:0")
        .env("HYPASIS_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    while !log
        .iter()
        .any(|line: &String| line.contains("backward sync reached its floor"))
    {
        match received.recv_timeout(Duration::from_secs(300)) {
            Ok(line) => log.push(line),
            Err(_) => panic!("sync did not finish; log:\n{}", log.join("\n")),
        }
    }
    assert!(
        log.iter().any(|line| line.contains("sync anchored")),
        "{}",
        log.join("\n")
    );
    // The example's APIs answer (the addresses as logged).
    let listening = |what: &str| -> String {
        let line = log
            .iter()
            .find(|line| line.contains(what))
            .unwrap_or_else(|| panic!("no `{what}` line in:\n{}", log.join("\n")));
        let start = line.find("listen=").expect("a listen field") + "listen=".len();
        line[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ':')
            .to_string()
    };
    let rpc = listening("JSON-RPC serving");
    let rest = listening("REST and the status page serving");
    let client = reqwest::Client::new();
    let number: serde_json::Value = client
        .post(format!("http://{rpc}"))
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(number["result"].is_string(), "{number}");
    let health = client
        .get(format!("http://{rest}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // The store holds the chain from genesis, verified.
    let mut config = Config::default();
    config.plugins.dir = Some(plugins);
    config.storage.plugin = "storage-embedded".into();
    config.storage.data_dir = data.path().join("data");
    let storage = PluginLoader::from_config(&config).storage(&config).unwrap();
    let verified = storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap();
    assert_eq!(
        verified.first().map(|range| range.start),
        Some(0),
        "{verified:?}"
    );
    assert!(verified[0].end >= 2_000, "{verified:?}");
    let genesis = storage.canonical_hashes(&[0]).unwrap()[0];
    assert_eq!(
        genesis.map(alloy_primitives::B256::from),
        Some(devnet.chain().read().by_number(0).unwrap().hash)
    );
    storage.shutdown().await.unwrap();
    devnet.stop().await;
}
