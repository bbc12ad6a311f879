//! Real sockets on 127.0.0.1: nodes bootstrap from one another and find each
//! other through FindNode/Neighbors. Run once with discv4 alone and once with
//! discv5 sharing the port (discv4 frames then arrive through discv5's
//! unrecognised-frame events).

use std::time::Duration;

use hypasis_discovery::{Discovery, DiscoveryConfig, ForkId, PeerId, node::peer_id_of_secret};
use secp256k1::SecretKey;
use tokio_util::sync::CancellationToken;

/// Upper bound for convergence; the nodes normally need well under a second.
const CONVERGE: Duration = Duration::from_secs(20);

async fn start(
    seed: u8,
    bootnodes: Vec<String>,
    v5: bool,
    shutdown: &CancellationToken,
) -> Discovery {
    let config = DiscoveryConfig {
        key: SecretKey::from_byte_array([seed; 32]).expect("key"),
        listen: "127.0.0.1:0".parse().expect("addr"),
        external_ip: None,
        tcp_port: 30303,
        bootnodes,
        fork_id: ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0)),
        enable_v5: v5,
    };
    Discovery::start(config, shutdown.clone())
        .await
        .expect("start")
}

fn id(seed: u8) -> PeerId {
    peer_id_of_secret(&SecretKey::from_byte_array([seed; 32]).expect("key"))
}

fn knows(node: &Discovery, seeds: &[u8]) -> bool {
    let table = node.table_nodes();
    seeds.iter().all(|s| table.iter().any(|n| n.id == id(*s)))
}

/// Polls `check` until it holds or `CONVERGE` passes.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn three_nodes_find_each_other(v5: bool) {
    let shutdown = CancellationToken::new();
    let a = start(1, vec![], v5, &shutdown).await;
    let boot = if v5 {
        // An ENR bootnode feeds both discv5 and discv4.
        a.local_enr().to_base64()
    } else {
        a.enode_url()
    };
    let b = start(2, vec![boot.clone()], v5, &shutdown).await;
    // B bonds with A (Ping/Pong both ways) and asks it for neighbours.
    eventually("A and B bonded", || knows(&a, &[2]) && knows(&b, &[1])).await;

    let c = start(3, vec![boot], v5, &shutdown).await;
    // C learns B only from A's Neighbors answer, then bonds with B.
    eventually("all three know each other", || {
        knows(&a, &[2, 3]) && knows(&b, &[1, 3]) && knows(&c, &[1, 2])
    })
    .await;
    assert_eq!(c.table_size(), 2);
    if v5 {
        assert!(
            c.v5_table_size() >= 1,
            "the ENR bootnode is in the discv5 table"
        );
    } else {
        assert_eq!(c.v5_table_size(), 0);
    }

    shutdown.cancel();
    for node in [a, b, c] {
        node.stopped().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discv4_only() {
    three_nodes_find_each_other(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discv4_through_discv5_socket() {
    three_nodes_find_each_other(true).await;
}

#[tokio::test]
async fn fork_id_update_changes_the_record() {
    let shutdown = CancellationToken::new();
    let node = start(4, vec![], true, &shutdown).await;
    let before = node.local_enr();
    node.set_fork_id(([1, 2, 3, 4], 5)).expect("set");
    let after = node.local_enr();
    assert_eq!(after.seq(), before.seq() + 1);
    assert!(after.verify());
    assert_eq!(
        hypasis_discovery::fork_id::decode_eth_entry(after.get_raw_rlp("eth").expect("eth")),
        Ok(ForkId::from(([1, 2, 3, 4], 5)))
    );
    let url = node.enode_url();
    assert!(
        url.starts_with("enode://") && url.contains("@127.0.0.1:30303?discport="),
        "{url}"
    );
    shutdown.cancel();
    node.stopped().await;
}

#[tokio::test]
async fn bad_bootnode_is_refused() {
    let shutdown = CancellationToken::new();
    let config = DiscoveryConfig {
        key: SecretKey::from_byte_array([5; 32]).expect("key"),
        listen: "127.0.0.1:0".parse().expect("addr"),
        external_ip: None,
        tcp_port: 0,
        bootnodes: vec!["enode://nothex@1.2.3.4:30303".into()],
        fork_id: ForkId::from(([0; 4], 0)),
        enable_v5: false,
    };
    let error = Discovery::start(config, shutdown)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("nothex"), "{error}");
}
