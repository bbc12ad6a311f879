//! Interop against go-ethereum's own conformance suites (peers we did not
//! write): go-ethereum v1.15.11's `devp2p rlpx eth-test` against `serve` on
//! the suite's chain, and `devp2p discv4 test` against its discovery.
//!
//! Needs the `devp2p` tool of that release: `.ci/run` installs it
//! (`go install github.com/ethereum/go-ethereum/cmd/devp2p@v1.15.11`); set
//! `HYPASIS_DEVP2P` to use another path. Without it the tests fail and say so.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// go-ethereum's eth-test chain of release v1.15.11 (genesis.json, chain.rlp).
fn ethtest_chain() -> PathBuf {
    common::workspace_root().join("../shared/fixtures/go-ethereum-ethtest-v1.15.11")
}

/// The `devp2p` binary: `HYPASIS_DEVP2P`, else Go's bin directories.
fn devp2p_tool() -> PathBuf {
    if let Some(path) = std::env::var_os("HYPASIS_DEVP2P") {
        return PathBuf::from(path);
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

/// `hypasis-sync serve` on an imported copy of the eth-test chain; killed on drop.
struct Served {
    child: Child,
    enode: String,
    _data: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn serve_ethtest_chain() -> Served {
    let plugins = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let datadir = data.path().join("data");
    let chain = ethtest_chain();
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
            .args(["import", "--genesis"])
            .arg(chain.join("genesis.json"))
            .arg("--chain")
            .arg(chain.join("chain.rlp"))
            .arg("--datadir")
            .arg(&datadir)
            .env("HYPASIS__PLUGINS__DIR", &plugins),
    );
    let config = data.path().join("serve.yaml");
    std::fs::write(
        &config,
        format!(
            "storage:\n  plugin: storage-embedded\nplugins:\n  dir: {}\nratelimit:\n  enabled: false\nmetrics:\n  enabled: false\napi:\n  rpc:\n    enabled: false\n  rest:\n    enabled: false\n",
            plugins.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(data.path().join("serve.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["serve", "--p2p-listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--datadir")
        .arg(&datadir)
        .env("HYPASIS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let enode = wait_for_enode(&datadir, &data.path().join("serve.log"));
    Served {
        child,
        enode,
        _data: data,
    }
}

fn wait_for_enode(datadir: &Path, log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let file = datadir.join("enode.txt");
    loop {
        if let Ok(enode) = std::fs::read_to_string(&file)
            && enode.starts_with("enode://")
            && !enode.trim_end().ends_with(":0")
        {
            return enode.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "serve wrote no enode.txt; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Results of a go-ethereum test run: (`OK`/`FAIL`, test name) per test.
fn results(output: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
        .filter_map(|line| {
            let rest = line.strip_prefix("-- ")?;
            let (verdict, rest) = rest.split_once(' ')?;
            let name = rest.split(" (").next()?.to_string();
            matches!(verdict, "OK" | "FAIL").then(|| (verdict.to_string(), name))
        })
        .collect()
}

fn assert_all_passed(output: &Output, expected: &[&str]) {
    let results = results(output);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for name in expected {
        assert!(
            results
                .iter()
                .any(|(verdict, test)| verdict == "OK" && test == name),
            "{name} did not pass:\n{log}"
        );
    }
    assert!(
        results.iter().all(|(verdict, _)| verdict == "OK"),
        "a test failed:\n{log}"
    );
}

/// The eth-test cases this node must pass; the transaction tests of the
/// suite need an engine API to build blocks and are out of scope (we
/// neither relay nor accept transactions).
const ETH_TESTS: [&str; 8] = [
    "Status",
    "GetBlockHeaders",
    "GetNonexistentBlockHeaders",
    "SimultaneousRequests",
    "SameRequestID",
    "ZeroRequestID",
    "GetBlockBodies",
    "MaliciousHandshake",
];

#[test]
fn go_ethereum_eth_test_passes_against_serve() {
    let tool = devp2p_tool();
    let served = serve_ethtest_chain();
    let pattern = format!("^({})$", ETH_TESTS.join("|"));
    let output = Command::new(tool)
        .args(["rlpx", "eth-test", "--chain"])
        .arg(ethtest_chain())
        .args(["--node", &served.enode])
        // The selected tests never reach the engine API; the suite wants the flags.
        .args(["--engineapi", "http://127.0.0.1:1"])
        .args(["--jwtsecret", &format!("0x{}", "00".repeat(32))])
        .args(["--run", &pattern])
        .output()
        .unwrap();
    assert_all_passed(&output, &ETH_TESTS);
    // Every selected test ran (a renamed test would otherwise be skipped).
    assert_eq!(results(&output).len(), ETH_TESTS.len());
}

#[test]
fn go_ethereum_discv4_test_passes_against_serve() {
    let tool = devp2p_tool();
    let served = serve_ethtest_chain();
    let output = Command::new(tool)
        .args(["discv4", "test", "-remote", &served.enode])
        .args(["-listen1", "127.0.0.1", "-listen2", "127.0.0.2"])
        .output()
        .unwrap();
    let results = results(&output);
    assert!(results.len() >= 14, "too few discv4 tests ran: {results:?}");
    assert_all_passed(&output, &["Ping/Basic", "Findnode/BasicFindnode"]);
}
