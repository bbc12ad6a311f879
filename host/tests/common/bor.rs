//! A real Bor v2.2.11 node for tests: a private chain in Bor's genesis
//! format with one signer (clique, blocks sealed when transactions are
//! pending, no Heimdall), its keystore, `bor server` on free ports (killed on
//! drop), JSON-RPC calls to it, and signed transactions to give it work.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use secp256k1::{SECP256K1, SecretKey};
use serde_json::{Value, json};

/// The private chain's id.
pub const CHAIN_ID: u64 = 15_016;

/// A constructor that emits one log (topic 0xaa, data 42) and deploys
/// nothing: every creation gives a receipt with a log.
const LOGGING_INIT_CODE: [u8; 13] = [
    0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0xaa, 0x60, 0x20, 0x60, 0x00, 0xa1, 0x00,
];

/// Bor's node binary: `HYPASIS_BOR`, else target/go-tools/bor (.ci/run builds it).
pub fn bor_binary() -> PathBuf {
    super::ethtest::go_tool("HYPASIS_BOR", "bor").unwrap_or_else(|| {
        panic!(
            "Bor's node is not built: run .ci/run, which builds it from ../shared/bor/ into \
             target/go-tools/bor, or set HYPASIS_BOR"
        )
    })
}

/// A free TCP port on 127.0.0.1 (free when asked; the node binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap()
}

/// The private chain: its genesis file and its one signer's key and keystore.
pub struct PrivateChain {
    /// Holds the genesis, the keystore and the nodes' data dirs.
    pub dir: tempfile::TempDir,
    /// `genesis.json` in Bor's format.
    pub genesis: PathBuf,
    /// The signer (and the only funded account).
    pub signer: SecretKey,
    /// Its address.
    pub address: Address,
}

impl PrivateChain {
    /// Writes the genesis (every fork up to London at 0; none after it, as
    /// Bor's clique refuses Shanghai headers when it verifies them; clique
    /// with period 0 and this signer; a terminal total difficulty never
    /// reached, which Bor's miner needs)
    /// and imports the signer's key into a keystore with `bor account import`.
    pub fn new(bor: &Path) -> PrivateChain {
        let dir = tempfile::tempdir().unwrap();
        let signer = SecretKey::from_byte_array(keccak256(b"hypasis bor sync test signer").0)
            .expect("a valid key");
        let address = hypasis_polygon::bor::address_of(&signer.public_key(SECP256K1));
        let signer_hex = hex::encode(address);
        let genesis = json!({
            "config": {
                "chainId": CHAIN_ID,
                "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
                "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
                "istanbulBlock": 0, "muirGlacierBlock": 0, "berlinBlock": 0, "londonBlock": 0,
                "terminalTotalDifficulty": 1_000_000_000_000_000_000u64,
                "clique": {"period": 0, "epoch": 30000},
                "bor": {"burntContract": {"0": "0x000000000000000000000000000000000000dead"}}
            },
            "timestamp": "0x65000000",
            "gasLimit": "0x1c9c380",
            "difficulty": "0x1",
            "extraData": format!("0x{}{signer_hex}{}", "00".repeat(32), "00".repeat(65)),
            "alloc": {signer_hex.clone(): {"balance": "0xd3c21bcecceda1000000"}}
        });
        let genesis_path = dir.path().join("genesis.json");
        std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
        std::fs::write(dir.path().join("password"), "test\n").unwrap();
        let key_file = dir.path().join("signer.key");
        std::fs::write(&key_file, hex::encode(signer.secret_bytes())).unwrap();
        let mut import = Command::new(bor)
            .args(["account", "import", "--keystore"])
            .arg(dir.path().join("keystore"))
            .arg(&key_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = import.stdin.take().unwrap();
            stdin.write_all(b"test\ntest\n").unwrap();
        }
        let output = import.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
        assert!(
            output.status.success() && text.contains(&signer_hex),
            "bor account import failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PrivateChain {
            dir,
            genesis: genesis_path,
            signer,
            address,
        }
    }

    /// The `nonce`th signed transaction from the signer: every third a
    /// contract creation that logs, the others value transfers, alternating
    /// EIP-1559 and legacy (EIP-155) envelopes.
    pub fn transaction(&self, nonce: u64) -> Bytes {
        let (to, input, gas_limit) = if nonce.is_multiple_of(3) {
            (
                TxKind::Create,
                Bytes::from_static(&LOGGING_INIT_CODE),
                100_000,
            )
        } else {
            let to = Address::from_word(keccak256(nonce.to_be_bytes()));
            (TxKind::Call(to), Bytes::new(), 21_000)
        };
        let gwei = 1_000_000_000u128;
        let envelope = if nonce.is_multiple_of(2) {
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: 100 * gwei,
                max_priority_fee_per_gas: 30 * gwei,
                to,
                value: U256::from(nonce + 1),
                access_list: Default::default(),
                input,
            };
            let signature = hypasis_polygon::bor::sign_hash(&tx.signature_hash(), &self.signer);
            TxEnvelope::from(tx.into_signed(signature))
        } else {
            let tx = TxLegacy {
                chain_id: Some(CHAIN_ID),
                nonce,
                gas_price: 100 * gwei,
                gas_limit,
                to,
                value: U256::from(nonce + 1),
                input,
            };
            let signature = hypasis_polygon::bor::sign_hash(&tx.signature_hash(), &self.signer);
            TxEnvelope::from(tx.into_signed(signature))
        };
        envelope.encoded_2718().into()
    }
}

/// A running `bor server`; killed on drop.
pub struct BorNode {
    child: Child,
    /// Its name in messages (`A`, `B`, …).
    pub name: String,
    /// Its JSON-RPC URL.
    pub http: String,
    /// Its pprof server (`--pprof`), when `HYPASIS_BOR_PPROF_DIR` asks for
    /// CPU profiles of syncing nodes.
    pub pprof: Option<String>,
    log: PathBuf,
}

impl Drop for BorNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BorNode {
    /// Starts a node of `chain` named `name` (its data dir is under the
    /// chain's dir), discovery off, at most `max_peers` peers; `mine` makes
    /// it the chain's signer. Waits until its JSON-RPC answers.
    pub async fn start(
        bor: &Path,
        chain: &PrivateChain,
        name: &str,
        mine: bool,
        max_peers: u32,
    ) -> BorNode {
        let datadir = chain.dir.path().join(format!("node-{name}"));
        let http_port = free_port();
        let log = chain.dir.path().join(format!("node-{name}.log"));
        let mut command = Command::new(bor);
        command
            .arg("server")
            .arg("--chain")
            .arg(&chain.genesis)
            .arg("--datadir")
            .arg(&datadir)
            .args(["--nodiscover", "--nat", "none", "--syncmode", "full"])
            .args(["--maxpeers", &max_peers.to_string()])
            .args(["--port", &free_port().to_string()])
            .args(["--http", "--http.addr", "127.0.0.1"])
            .args(["--http.port", &http_port.to_string()])
            .args(["--http.api", "eth,net,web3,admin"])
            .args(["--grpc.addr", &format!("127.0.0.1:{}", free_port())])
            .args(["--authrpc.port", &free_port().to_string()])
            .arg("--bor.withoutheimdall");
        let pprof = (!mine && std::env::var_os("HYPASIS_BOR_PPROF_DIR").is_some()).then(|| {
            let port = free_port();
            command.args(["--pprof", "--pprof.addr", "127.0.0.1"]);
            command.args(["--pprof.port", &port.to_string()]);
            format!("http://127.0.0.1:{port}")
        });
        if mine {
            let address = format!("{:#x}", chain.address);
            command
                .arg("--keystore")
                .arg(chain.dir.path().join("keystore"))
                // Unlocking with HTTP on needs the explicit flag.
                .args([
                    "--unlock",
                    &address,
                    "--allow-insecure-unlock",
                    "--password",
                ])
                .arg(chain.dir.path().join("password"))
                .args(["--mine", "--miner.etherbase", &address])
                // With period 0 the block's time is its parent's, so Bor's
                // build-deadline timer would fire at once and seal nothing.
                .arg("--miner.interruptcommit=false");
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut node = BorNode {
            child,
            name: name.into(),
            http: format!("http://127.0.0.1:{http_port}"),
            pprof,
            log,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while node
            .try_call(&client, "eth_blockNumber", json!([]))
            .await
            .is_none()
        {
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!(
                    "Bor node {name} exited ({status}); log:\n{}",
                    node.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Bor node {name} did not answer JSON-RPC in 60 s; log:\n{}",
                node.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        node
    }

    async fn try_call(
        &self,
        client: &reqwest::Client,
        method: &str,
        params: Value,
    ) -> Option<Value> {
        let response = client
            .post(&self.http)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// `method`'s result, failing the test on an error.
    pub async fn call(&self, client: &reqwest::Client, method: &str, params: Value) -> Value {
        let answer = self
            .try_call(client, method, params)
            .await
            .unwrap_or_else(|| panic!("Bor node {}: {method} got no answer", self.name));
        match answer.get("result") {
            Some(result) if answer.get("error").is_none() => result.clone(),
            _ => panic!("Bor node {}: {method}: {answer}", self.name),
        }
    }

    /// Its head block number.
    pub async fn block_number(&self, client: &reqwest::Client) -> u64 {
        let number = self.call(client, "eth_blockNumber", json!([])).await;
        u64::from_str_radix(number.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    /// Its enode URL.
    pub async fn enode(&self, client: &reqwest::Client) -> String {
        let info = self.call(client, "admin_nodeInfo", json!([])).await;
        info["enode"].as_str().unwrap().to_string()
    }

    /// The public keys (hex, as in an enode URL) of its connected peers.
    pub async fn peer_keys(&self, client: &reqwest::Client) -> Vec<String> {
        let peers = self.call(client, "admin_peers", json!([])).await;
        peers
            .as_array()
            .unwrap()
            .iter()
            .map(|peer| enode_key(peer["enode"].as_str().unwrap()))
            .collect()
    }

    /// The last 60 lines of its log.
    pub fn log_tail(&self) -> String {
        file_tail(&self.log, 60)
    }

    /// Its whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The public key (hex) in an enode URL.
pub fn enode_key(enode: &str) -> String {
    enode
        .trim_start_matches("enode://")
        .split('@')
        .next()
        .unwrap()
        .to_string()
}

/// The last `lines` lines of a log file (empty when it cannot be read).
pub fn file_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
