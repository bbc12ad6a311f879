//! The real sync: Bor v2.2.11 node A makes a private chain (one signer,
//! no Heimdall, transactions in every block, logs in a third of them); our
//! host syncs it from A's JSON-RPC as its upstream (validation `light`) and
//! serves it; Bor node B, with the same genesis, discovery off and our enode
//! as its only peer, syncs to A's head. B's hashes and receipts must equal
//! A's for every block, B's only peer must be us, and our metrics must show
//! that we served every header and body. Then Bor node C syncs the same
//! chain from A directly, in the same run, and both times are printed.
//!
//! Needs Bor's node (`target/go-tools/bor`, built by .ci/run from
//! `../shared/bor/`, or `HYPASIS_BOR`). `HYPASIS_BOR_SYNC_BLOCKS` sets the
//! chain's length (default 1,000; the benchmark in docs/BENCHMARKS.md uses
//! more).

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::bor::{BorNode, PrivateChain, bor_binary, enode_key, free_port};
use serde_json::{Value, json};

/// Our host, `run` as a subprocess; killed on drop.
struct OurHost {
    child: Child,
    rpc: String,
    metrics: String,
    enode: String,
    log: std::path::PathBuf,
}

impl Drop for OurHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OurHost {
    /// Starts `run` on the private chain, syncing from `upstream` with the
    /// genesis as its anchor.
    fn start(chain: &PrivateChain, upstream: &str, genesis_hash: &str) -> OurHost {
        let dir = chain.dir.path().join("hypasis");
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("data");
        let (rpc_port, metrics_port) = (free_port(), free_port());
        let config = format!(
            "chain: custom\n\
             genesis_file: {genesis}\n\
             cloud:\n  external_ip: 127.0.0.1\n\
             plugins:\n  dir: {plugins}\n\
             p2p:\n  listen_addr: 127.0.0.1:0\n  discovery: false\n\
             ratelimit:\n  enabled: false\n\
             sync:\n  anchor: {{number: 0, hash: \"{genesis_hash}\"}}\n  head_poll_interval: 200ms\n  \
             forward: {{validation_level: light}}\n  backward: {{enabled: false}}\n\
             storage:\n  plugin: storage-embedded\n  data_dir: {data}\n\
             upstream:\n  endpoints: [\"{upstream}\"]\n\
             api:\n  rpc: {{listen: \"127.0.0.1:{rpc_port}\"}}\n  rest: {{enabled: false}}\n\
             metrics:\n  listen: \"127.0.0.1:{metrics_port}\"\n",
            genesis = chain.genesis.display(),
            plugins = common::built_in_plugin_dir().display(),
            data = data.display(),
        );
        let config_path = dir.join("hypasis.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.join("hypasis.log");
        let child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
            .args(["run", "--config"])
            .arg(&config_path)
            .env("HYPASIS_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let enode = common::ethtest::wait_for_enode(&data, &log);
        OurHost {
            child,
            rpc: format!("http://127.0.0.1:{rpc_port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            enode,
            log,
        }
    }

    async fn block_number(&self, client: &reqwest::Client) -> Option<u64> {
        let answer: Value = client
            .post(&self.rpc)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        u64::from_str_radix(answer["result"].as_str()?.trim_start_matches("0x"), 16).ok()
    }

    /// The value of a counter series in our /metrics page.
    async fn metric(&self, client: &reqwest::Client, series: &str) -> u64 {
        let page = client
            .get(&self.metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no series {series} in:\n{page}"))
    }

    fn log_tail(&self) -> String {
        common::bor::file_tail(&self.log, 40)
    }
}

/// Sends transactions to A until its head reaches `blocks` (A seals a block
/// whenever transactions are pending; one to three go into each).
async fn make_chain(a: &BorNode, chain: &PrivateChain, blocks: u64) -> u64 {
    let client = reqwest::Client::new();
    let mut nonce = 0u64;
    let mut head = a.block_number(&client).await;
    let deadline = Instant::now() + Duration::from_secs(blocks / 2 + 120);
    while head < blocks {
        for _ in 0..1 + head % 3 {
            let raw = chain.transaction(nonce);
            a.call(&client, "eth_sendRawTransaction", json!([raw]))
                .await;
            nonce += 1;
        }
        loop {
            let now = a.block_number(&client).await;
            let pending = a
                .call(
                    &client,
                    "eth_getTransactionCount",
                    json!([chain.address, "pending"]),
                )
                .await;
            let mined = a
                .call(
                    &client,
                    "eth_getTransactionCount",
                    json!([chain.address, "latest"]),
                )
                .await;
            if now > head && pending == mined {
                head = now;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "A stopped sealing at block {now}; log:\n{}",
                a.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    head
}

/// Waits for a profile download still running when its sync is done.
struct ProfileGuard(Option<std::process::Child>);

impl Drop for ProfileGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.wait();
        }
    }
}

/// Connects `node` to `peer` only and waits until it reaches `head`;
/// returns the time from the connection to the head, and the part of it
/// before Bor's downloader started.
async fn sync_to(node: &BorNode, peer: &str, head: u64, peer_key: &str) -> (Duration, Duration) {
    let client = reqwest::Client::new();
    let added = node.call(&client, "admin_addPeer", json!([peer])).await;
    assert_eq!(added, json!(true), "admin_addPeer {peer}");
    let start = Instant::now();
    // A CPU profile of the sync, when asked for: where B's time goes.
    let profile = node
        .pprof
        .as_ref()
        .zip(std::env::var_os("HYPASIS_BOR_PPROF_DIR"))
        .map(|(pprof, dir)| {
            let seconds = std::env::var("HYPASIS_BOR_PPROF_SECONDS").unwrap_or("10".into());
            let url = format!("{pprof}/debug/pprof/profile?seconds={seconds}");
            let out = std::path::Path::new(&dir).join(format!("bor-{}.cpu", node.name));
            eprintln!("profiling {} into {}", node.name, out.display());
            std::process::Command::new("curl")
                .args(["-sSf", "-o"])
                .arg(out)
                .arg(url)
                .spawn()
                .expect("curl")
        });
    let _profile = ProfileGuard(profile);
    let mut started = None;
    let deadline = start + Duration::from_secs(300);
    loop {
        let peers = node.peer_keys(&client).await;
        assert!(
            peers.iter().all(|key| key == peer_key),
            "{} has peers other than {peer}: {peers:?}",
            node.name
        );
        if started.is_none() && node.log_text().contains("Block synchronisation started") {
            started = Some(start.elapsed());
        }
        if node.block_number(&client).await >= head {
            return (start.elapsed(), started.unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "{} did not reach block {head} in 300 s (at {}); log:\n{}",
            node.name,
            node.block_number(&client).await,
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every block's hash and receipts on `node` equal A's.
async fn assert_same_chain(a: &BorNode, node: &BorNode, head: u64) {
    let client = reqwest::Client::new();
    for number in 0..=head {
        let tag = json!(format!("{number:#x}"));
        let theirs = node
            .call(&client, "eth_getBlockByNumber", json!([tag, false]))
            .await;
        let ours = a
            .call(&client, "eth_getBlockByNumber", json!([tag, false]))
            .await;
        assert_eq!(
            theirs["hash"], ours["hash"],
            "block {number} on {}",
            node.name
        );
        let theirs = node
            .call(&client, "eth_getBlockReceipts", json!([tag]))
            .await;
        let ours = a.call(&client, "eth_getBlockReceipts", json!([tag])).await;
        assert_eq!(theirs, ours, "receipts of block {number} on {}", node.name);
    }
}

fn blocks_to_make() -> u64 {
    std::env::var("HYPASIS_BOR_SYNC_BLOCKS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_bor_node_syncs_the_chain_from_us_alone() {
    let bor = bor_binary();
    let chain = PrivateChain::new(&bor);
    let client = reqwest::Client::new();
    let a = BorNode::start(&bor, &chain, "A", true, 4).await;
    let made = Instant::now();
    let head = make_chain(&a, &chain, blocks_to_make()).await;
    let made = made.elapsed();
    let genesis = a
        .call(&client, "eth_getBlockByNumber", json!(["0x0", false]))
        .await;
    let genesis_hash = genesis["hash"].as_str().unwrap().to_string();
    let spec = hypasis_import::genesis_file(Path::new(&chain.genesis))
        .unwrap()
        .spec;
    assert_eq!(
        spec.genesis_hash.map(|hash| format!("{hash:#x}")),
        Some(genesis_hash.clone()),
        "our genesis block of Bor's genesis file is Bor's"
    );

    // Our host syncs A's chain from its JSON-RPC.
    let ours = OurHost::start(&chain, &a.http, &genesis_hash);
    let synced = Instant::now();
    let deadline = synced + Duration::from_secs(180);
    while ours.block_number(&client).await != Some(head) {
        assert!(
            Instant::now() < deadline,
            "our host did not reach block {head}; log:\n{}",
            ours.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let synced = synced.elapsed();

    // B syncs from us alone.
    let b = BorNode::start(&bor, &chain, "B", false, 1).await;
    let (from_us, from_us_wait) = sync_to(&b, &ours.enode, head, &enode_key(&ours.enode)).await;
    assert_same_chain(&a, &b, head).await;
    let a_key = enode_key(&a.enode(&client).await);
    assert!(
        !a.peer_keys(&client)
            .await
            .contains(&enode_key(&b.enode(&client).await)),
        "A must never have met B"
    );
    let headers = ours
        .metric(&client, "hypasis_p2p_served_items_total{kind=\"headers\"}")
        .await;
    let bodies = ours
        .metric(&client, "hypasis_p2p_served_items_total{kind=\"bodies\"}")
        .await;
    assert!(
        headers >= head && bodies >= head,
        "B reached block {head} but we served {headers} headers and {bodies} bodies"
    );
    drop(b);

    // C syncs from A directly, for comparison.
    let c = BorNode::start(&bor, &chain, "C", false, 1).await;
    let (from_a, from_a_wait) = sync_to(&c, &a.enode(&client).await, head, &a_key).await;
    assert_same_chain(&a, &c, head).await;

    println!(
        "bor sync of {head} blocks (A made them in {made:.1?}; our host synced them in {synced:.1?}):\n\
         | B syncing from | to A's head | of which before Bor's downloader started |\n\
         |---|---|---|\n\
         | hypasis-sync (served {headers} headers, {bodies} bodies) | {from_us:.2?} | {from_us_wait:.2?} |\n\
         | A (Bor) | {from_a:.2?} | {from_a_wait:.2?} |"
    );
}
