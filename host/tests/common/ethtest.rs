//! Running a devp2p conformance suite we did not write (go-ethereum's or
//! Bor's `devp2p` tool) against `hypasis-sync serve` on the eth-test chain:
//! finding the tool, importing and serving the chain, reading the verdicts.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// go-ethereum's eth-test chain of release v1.15.11 (genesis.json,
/// chain.rlp); Bor v2.2.11's suite ships a byte-identical copy.
pub fn ethtest_chain() -> PathBuf {
    super::workspace_root().join("../shared/fixtures/go-ethereum-ethtest-v1.15.11")
}

/// The eth-test cases a block-serving node must pass (go-ethereum's
/// v1.15.11 suite; Bor's adds `MaliciousStatus`). The suites' transaction
/// tests need an engine API to build blocks and are out of scope (we
/// neither relay nor accept transactions).
pub const BLOCK_SERVING_TESTS: [&str; 8] = [
    "Status",
    "GetBlockHeaders",
    "GetNonexistentBlockHeaders",
    "SimultaneousRequests",
    "SameRequestID",
    "ZeroRequestID",
    "GetBlockBodies",
    "MaliciousHandshake",
];

/// A Go tool: the path in `env_var`, else `file` under target/go-tools/
/// (where .ci/run builds them), else `None`.
pub fn go_tool(env_var: &str, file: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    let cached = super::target_dir().join("go-tools").join(file);
    cached.is_file().then_some(cached)
}

/// `hypasis-sync serve` on an imported copy of the eth-test chain; killed on drop.
pub struct Served {
    child: Child,
    /// Its enode URL (from enode.txt).
    pub enode: String,
    _data: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command`, failing the test with its output if it fails.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Imports the eth-test chain (with `import_args` added to `import`) and
/// serves it over devp2p only.
pub fn serve_ethtest_chain<I: AsRef<OsStr>>(import_args: &[I]) -> Served {
    let plugins = super::built_in_plugin_dir();
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
            .args(import_args)
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

/// Waits (up to 60 s) for a node to write its enode with a real port.
pub fn wait_for_enode(datadir: &Path, log: &Path) -> String {
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

/// Results of a devp2p suite run: (`OK`/`FAIL`, test name) per test.
pub fn results(output: &Output) -> Vec<(String, String)> {
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

/// Every test in `expected` passed and none failed.
pub fn assert_all_passed(output: &Output, expected: &[&str]) {
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

/// Runs a `devp2p rlpx eth-test` binary against `enode` with only `tests`
/// selected, and checks that each ran and passed.
pub fn run_eth_test(tool: &Path, enode: &str, tests: &[&str]) {
    let pattern = format!("^({})$", tests.join("|"));
    let output = Command::new(tool)
        .args(["rlpx", "eth-test", "--chain"])
        .arg(ethtest_chain())
        .args(["--node", enode])
        // The selected tests never reach the engine API; the suite wants the flags.
        .args(["--engineapi", "http://127.0.0.1:1"])
        .args(["--jwtsecret", &format!("0x{}", "00".repeat(32))])
        .args(["--run", &pattern])
        .output()
        .unwrap();
    assert_all_passed(&output, tests);
    // Every selected test ran (a renamed test would otherwise be skipped).
    assert_eq!(
        results(&output).len(),
        tests.len(),
        "{:?}",
        results(&output)
    );
}
