//! The `hypasis-sync` binary: its subcommands, as an operator runs them.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

fn hypasis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(args)
        .env_remove("HYPASIS_LOG")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn plugins_list_shows_the_built_ins_with_kind_and_versions() {
    let dir = common::built_in_plugin_dir();
    let output = hypasis(&["plugins", "list", "--dir", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let version = hypasis_sync::VERSION;
    for (name, kind) in [
        ("storage-memory", "storage"),
        ("validation-none", "validation"),
    ] {
        let row = text
            .lines()
            .find(|line| line.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"));
        let columns: Vec<&str> = row.split_whitespace().collect();
        let abi = hypasis_plugin_api::ABI_VERSION.to_string();
        assert_eq!(&columns[..4], &[name, kind, version, abi.as_str()], "{row}");
    }
}

#[test]
fn plugins_inspect_reports_a_foreign_file_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libnot_a_plugin.so");
    std::fs::write(&file, b"\x7fELF but not really").unwrap();
    let output = hypasis(&["plugins", "inspect", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with(&format!(
            "error: {}: not a Hypasis Sync plugin: cannot load it as a shared library",
            file.canonicalize().unwrap().display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_check_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.yaml");
    std::fs::write(
        &file,
        "api:\n  jwt_secret: \"${JWT_SECRET}\"\np2p:\n  max_peers: 7\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["config", "check", file.to_str().unwrap()])
        .env("JWT_SECRET", "very-secret-key")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("  max_peers: 7\n"), "{text}");
    assert!(text.contains("  jwt_secret: \"<redacted>\"\n"), "{text}");
    assert!(!text.contains("very-secret-key"));

    std::fs::write(&file, "p2p:\n  max_peer: 7\n").unwrap();
    let output = hypasis(&["config", "check", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {}: `p2p.max_peer`: unknown field `max_peer`, expected one of `enabled`, `listen_addr`, `discovery`, `max_peers`, `trusted_peers`, `bootnodes`, `handshake_timeout`, `peer_requests_per_second`, `ban_duration`\n",
            file.display()
        )
    );
}

#[test]
fn nodekey_generate_then_show_gives_a_stable_enode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let generated = hypasis(&["nodekey", "generate", "--datadir", data]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let id = stdout(&generated).trim().to_string();
    assert_eq!(id.len(), 128);
    let shown = hypasis(&[
        "nodekey",
        "show",
        "--datadir",
        data,
        "--ip",
        "198.51.100.4",
        "--port",
        "30305",
    ]);
    assert_eq!(
        stdout(&shown).trim(),
        format!("enode://{id}@198.51.100.4:30305")
    );
    let again = hypasis(&["nodekey", "generate", "--datadir", data]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("a node key already exists"),
        "{}",
        stderr(&again)
    );
}

fn write_run_config(dir: &Path, plugins: &Path, storage: &str) -> std::path::PathBuf {
    let file = dir.join("run.yaml");
    std::fs::write(
        &file,
        format!(
            "storage:\n  plugin: {storage}\n  data_dir: {}\nplugins:\n  dir: {}\nsync:\n  forward:\n    validation_level: none\n  backward:\n    validation_level: none\nratelimit:\n  enabled: false\np2p:\n  enabled: false\napi:\n  rpc:\n    enabled: false\n  rest:\n    enabled: false\nmetrics:\n  enabled: false\n",
            dir.join("data").display(),
            plugins.display()
        ),
    )
    .unwrap();
    file
}

#[test]
fn run_starts_forwards_plugin_logs_and_stops_cleanly_on_sigterm() {
    let plugins = common::built_in_plugin_dir();
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), &plugins, "storage-memory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(["run", "--config", config.to_str().unwrap()])
        .env_remove("HYPASIS_LOG")
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
        .any(|line: &String| line.contains("node identity ready"))
    {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => log.push(line),
            Err(_) => panic!("the host did not start; log so far:\n{}", log.join("\n")),
        }
    }
    // The storage plugin's own tracing event reached the host's log.
    assert!(
        log.iter().any(|line| line.contains("in-memory store ready")
            && line.contains("plugin=\"storage-memory\"")),
        "{}",
        log.join("\n")
    );
    assert!(dir.path().join("data/nodekey").exists());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    log.extend(received.try_iter());
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
    assert!(
        log.iter().any(|line| line.contains("SIGTERM")),
        "{}",
        log.join("\n")
    );
    assert!(
        log.iter().any(|line| line.contains("stopped cleanly")),
        "{}",
        log.join("\n")
    );
}

#[test]
fn run_refuses_to_start_without_its_plugins() {
    let plugins = common::built_in_plugin_dir();
    let dir = tempfile::tempdir().unwrap();
    let config = write_run_config(dir.path(), &plugins, "storage-missing");
    let output = hypasis(&["run", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: plugin `storage-missing`: file not found: "),
        "{}",
        stderr(&output)
    );
}

fn http_post(url: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn devnet_prints_its_urls_and_serves_them() {
    // Its own data dir and free ports: nothing shared with other tests or runs.
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("devnet.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args([
            "devnet",
            "--port",
            "0",
            "--prefill",
            "300",
            "--block-time",
            "1h",
            "--upstreams",
            "1",
            "--metrics",
            "127.0.0.1:0",
            "--p2p-listen",
            "127.0.0.1:0",
            "--rpc-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "127.0.0.1:0",
            "--datadir",
        ])
        .arg(data.path())
        .env_remove("HYPASIS_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|line: &String| line.trim_start().starts_with("validation"))
    {
        printed.push(
            received
                .recv_timeout(Duration::from_secs(120))
                .expect("the devnet prints its URLs"),
        );
    }
    let find = |label: &str| -> String {
        printed
            .iter()
            .find(|line| line.trim_start().starts_with(label))
            .and_then(|line| {
                line.split_whitespace()
                    .find(|word| word.starts_with("http://") || word.starts_with("0x"))
            })
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{}", printed.join("\n")))
            .to_string()
    };
    let upstream = find("upstream 0");
    let l1 = find("L1 JSON-RPC");
    let root_chain = find("RootChain contract");
    assert_eq!(root_chain.len(), 42);
    find("Heimdall REST");
    let head = http_post(
        &upstream,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"#,
    );
    assert!(head.contains(r#""result":"0x12c""#), "{head}");
    let code = http_post(
        &l1,
        &format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getCode","params":["{root_chain}","latest"]}}"#
        ),
    );
    assert!(
        code.contains(r#""result":"0x6"#),
        "RootChain has code: {code}"
    );
    // The host's own servers, on the ports it picked.
    let rpc = find("JSON-RPC");
    let ours = http_post(
        &rpc,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#,
    );
    assert!(ours.contains(r#""result":"0x217b1""#), "{ours}");
    let page = find("status page");
    let html = http_get(&page);
    assert!(html.contains("<title>Hypasis Sync"), "{html}");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let code = child.wait().unwrap().code();
    assert_eq!(
        code,
        Some(0),
        "the devnet exited with {code:?}; its log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

#[test]
fn bench_store_writes_reads_and_reopens_a_devnet_chain() {
    let plugins = common::built_in_plugin_dir();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let output = hypasis(&[
        "bench",
        "store",
        "--blocks",
        "40",
        "--txs-per-block",
        "3",
        "--batch",
        "16",
        "--reads",
        "50",
        "--plugins",
        plugins.to_str().unwrap(),
        "--keep-store",
        store.to_str().unwrap(),
    ]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(out.contains("| tenth of the chain |"), "{out}");
    assert!(out.contains("41 blocks stored"), "{out}");
    assert!(out.contains("50 reads"), "{out}");
    assert!(out.contains("41 blocks after reopening"), "{out}");
    assert!(store.join("blocks").is_dir(), "the store was kept");
}
