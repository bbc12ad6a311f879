//! go-ethereum's own discv4 conformance suite against our node:
//! `devp2p discv4 test --remote <enode> --listen1 127.0.0.1 --listen2 127.0.0.2`
//! (`cmd/devp2p` v1.15.11, installed with
//! `go install github.com/ethereum/go-ethereum/cmd/devp2p@v1.15.11`).
//!
//! Runs when a `devp2p` binary is on PATH or at `~/go/bin/devp2p`; otherwise
//! it prints a notice and passes. Everything stays on the loopback range.

use std::{path::PathBuf, time::Duration};

use hypasis_discovery::{Discovery, DiscoveryConfig, ForkId};
use secp256k1::SecretKey;
use tokio_util::sync::CancellationToken;

/// The tests of `cmd/devp2p/internal/v4test` in go-ethereum v1.15.11.
const EXPECTED: [&str; 14] = [
    "Ping/Basic",
    "Ping/WrongTo",
    "Ping/WrongFrom",
    "Ping/ExtraData",
    "Ping/ExtraDataWrongFrom",
    "Ping/PastExpiration",
    "Ping/WrongPacketType",
    "Ping/BondThenPingWithWrongFrom",
    "Findnode/WithoutEndpointProof",
    "Findnode/BasicFindnode",
    "Findnode/UnsolicitedNeighbors",
    "Findnode/PastExpiration",
    "Amplification/InvalidPongHash",
    "Amplification/WrongIP",
];

fn find_devp2p() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("devp2p"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("HOME")?;
        let candidate = PathBuf::from(home).join("go/bin/devp2p");
        candidate.is_file().then_some(candidate)
    })
}

/// Runs the suite against a fresh node; returns (passed, failed) test names.
async fn run_suite(devp2p: &PathBuf, enable_v5: bool) -> (Vec<String>, Vec<String>, String) {
    let shutdown = CancellationToken::new();
    let config = DiscoveryConfig {
        key: SecretKey::new(&mut rand::rng()),
        listen: "127.0.0.1:0".parse().expect("addr"),
        external_ip: None,
        tcp_port: 30303,
        bootnodes: vec![],
        fork_id: ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0)),
        enable_v5,
    };
    let node = Discovery::start(config, shutdown.clone())
        .await
        .expect("start");
    let run = tokio::process::Command::new(devp2p)
        .args(["discv4", "test", "--remote", &node.enode_url()])
        .args(["--listen1", "127.0.0.1", "--listen2", "127.0.0.2"])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("devp2p finished in time")
        .expect("devp2p runs");
    shutdown.cancel();
    node.stopped().await;

    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for line in stdout.lines() {
        let name = |rest: &str| rest.split(" (").next().unwrap_or(rest).to_string();
        if let Some(rest) = line.strip_prefix("-- OK ") {
            passed.push(name(rest));
        } else if let Some(rest) = line.strip_prefix("-- FAIL ") {
            failed.push(name(rest));
        }
    }
    let log = format!(
        "{stdout}\n{}\nexit: {}",
        String::from_utf8_lossy(&output.stderr),
        output.status
    );
    (passed, failed, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_ethereum_discv4_suite_passes() {
    let Some(devp2p) = find_devp2p() else {
        eprintln!(
            "SKIPPED: no devp2p binary on PATH or at ~/go/bin/devp2p; install it with \
             `go install github.com/ethereum/go-ethereum/cmd/devp2p@v1.15.11`"
        );
        return;
    };
    for enable_v5 in [false, true] {
        let (passed, failed, log) = run_suite(&devp2p, enable_v5).await;
        assert!(
            failed.is_empty(),
            "v5={enable_v5}: failed {failed:?}\n{log}"
        );
        assert_eq!(passed, EXPECTED, "v5={enable_v5}: passed list\n{log}");
        eprintln!(
            "devp2p discv4 test (v5={enable_v5}): {} passed",
            passed.len()
        );
    }
}
