//! Interop against go-ethereum's own conformance suites (peers we did not
//! write): go-ethereum v1.15.11's `devp2p rlpx eth-test` against `serve` on
//! the suite's chain, and `devp2p discv4 test` against its discovery.
//!
//! Needs the `devp2p` tool of that release: `.ci/run` installs it
//! (`go install github.com/ethereum/go-ethereum/cmd/devp2p@v1.15.11`); set
//! `HYPASIS_DEVP2P` to use another path. Without it the tests fail and say so.

mod common;

use std::{path::PathBuf, process::Command};

use common::ethtest::{self, assert_all_passed, results, serve_ethtest_chain};

/// The `devp2p` binary: `HYPASIS_DEVP2P`, target/go-tools/devp2p, else
/// Go's bin directories.
fn devp2p_tool() -> PathBuf {
    if let Some(path) = ethtest::go_tool("HYPASIS_DEVP2P", "devp2p") {
        return path;
    }
    let mut candidates = Vec::new();
    if let Ok(output) = Command::new("go").args(["env", "GOBIN", "GOPATH"]).output() {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines = text.lines();
        if let Some(gobin) = lines.next().filter(|line| !line.is_empty()) {
            candidates.push(PathBuf::from(gobin).join("devp2p"));
        }
        if let Some(gopath) = lines.next().filter(|line| !line.is_empty()) {
            candidates.push(PathBuf::from(gopath).join("bin/devp2p"));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join("go/bin/devp2p"));
    }
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "go-ethereum's devp2p tool is not installed: run \
                 `go install github.com/ethereum/go-ethereum/cmd/devp2p@v1.15.11` \
                 (.ci/run does) or set HYPASIS_DEVP2P"
            )
        })
}

#[test]
fn go_ethereum_eth_test_passes_against_serve() {
    let tool = devp2p_tool();
    // A go-ethereum genesis: go-ethereum's fork-id rules by default.
    let served = serve_ethtest_chain::<&str>(&[]);
    ethtest::run_eth_test(&tool, &served.enode, &ethtest::BLOCK_SERVING_TESTS);
}

#[test]
fn go_ethereum_discv4_test_passes_against_serve() {
    let tool = devp2p_tool();
    let served = serve_ethtest_chain::<&str>(&[]);
    let output = Command::new(tool)
        .args(["discv4", "test", "-remote", &served.enode])
        .args(["-listen1", "127.0.0.1", "-listen2", "127.0.0.2"])
        .output()
        .unwrap();
    let results = results(&output);
    assert!(results.len() >= 14, "too few discv4 tests ran: {results:?}");
    assert_all_passed(&output, &["Ping/Basic", "Findnode/BasicFindnode"]);
}
