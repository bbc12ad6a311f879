//! devp2p serving of a syncing host, as Bor sees it, over real sockets: a
//! devnet produces blocks, the host syncs them (real plugins) and serves
//! them; an eth/68 client (`p2p::client`) connects the way Bor does —
//! Status, the peer check on the newest checkpoint's header, NewBlockHashes
//! as the head advances — and a peer that breaks the protocol is dropped
//! while the others keep being served; a peer that floods is banned for
//! `p2p.ban_duration`, then let back in.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::keccak256;
use futures_util::SinkExt;
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_eth_wire::{EthMessage, MessageId};
use hypasis_plugin_api::BlockPart;
use hypasis_rlpx::{DisconnectReason, P2pError};
use hypasis_sync::{
    app::Host,
    nodekey::NodeKey,
    p2p::client::{ClientError, EthClient},
};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn start() -> (Devnet, Host, tempfile::TempDir, CancellationToken) {
    start_with(|_| {}).await
}

async fn start_with(
    adjust: impl FnOnce(&mut hypasis_sync::config::Config),
) -> (Devnet, Host, tempfile::TempDir, CancellationToken) {
    start_over(|_| {}, adjust).await
}

async fn start_over(
    adjust_devnet: impl FnOnce(&mut DevnetOptions),
    adjust: impl FnOnce(&mut hypasis_sync::config::Config),
) -> (Devnet, Host, tempfile::TempDir, CancellationToken) {
    let mut options = DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 64,
            max_length: 256,
            ..CheckpointConfig::default()
        },
        block_time: Duration::from_millis(300),
        prefill: 600,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    };
    adjust_devnet(&mut options);
    let devnet = Devnet::start(options).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = hypasis_sync::devnet_host::config_for(&devnet, data.path());
    config.plugins.dir = Some(common::built_in_plugin_dir());
    config.p2p.enabled = true;
    config.p2p.discovery = false;
    config.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    config.cloud.external_ip =
        hypasis_sync::config::ExternalIp::Fixed(std::net::Ipv4Addr::LOCALHOST.into());
    adjust(&mut config);
    let token = CancellationToken::new();
    let host = Host::start(config, token.clone()).await.unwrap();
    (devnet, host, data, token)
}

async fn wait_for_sync(host: &Host, devnet: &Devnet) {
    let status = host.sync_status.clone().unwrap();
    let served = host.head.clone().expect("a served head");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let synced = {
            let status = status.read();
            status.backward_done
                && status
                    .forward
                    .is_some_and(|forward| forward + 2 >= devnet.head())
        };
        // The head devp2p announces follows the cursor (polled): until it
        // is known, peers are turned away as useless.
        let synced = synced
            && served
                .head()
                .is_some_and(|head| head.number + 2 >= devnet.head());
        if synced {
            return;
        }
        assert!(Instant::now() < deadline, "the host did not sync");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn client(host: &Host) -> EthClient {
    let enode = host.p2p.as_ref().expect("devp2p runs").enode().to_string();
    EthClient::connect(&enode, NodeKey::random().secret(), TIMEOUT)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bor_sees_status_peer_check_announcements_and_breaches_are_contained() {
    let (devnet, host, _data, token) = start().await;
    wait_for_sync(&host, &devnet).await;

    // Status: our chain's network id and genesis, and a head we store.
    let mut bor = client(&host).await;
    let genesis = devnet.chain().read().by_number(0).unwrap().hash;
    let status = *bor.peer_status();
    assert_eq!(status.network_id, devnet.spec().network_id);
    assert_eq!(status.genesis, genesis);
    let head_number = devnet
        .chain()
        .read()
        .by_hash(&status.head)
        .expect("the announced head is a devnet block")
        .number();
    assert!(head_number > 0);
    assert!(!status.total_difficulty.is_zero());

    // Bor's peer check: the header at the newest checkpoint's end.
    let checkpoint_end = devnet
        .checkpoints()
        .read()
        .last()
        .expect("a checkpoint was posted")
        .end;
    let headers = bor.headers_from(checkpoint_end, 1).await.unwrap();
    assert_eq!(headers.0.len(), 1);
    let expected = devnet
        .chain()
        .read()
        .by_number(checkpoint_end)
        .unwrap()
        .hash;
    assert_eq!(keccak256(headers.0[0].as_bytes()), expected);

    // A walk of 192 headers (Bor's downloader) and their bodies, as stored.
    let headers = bor.headers_from(1, 192).await.unwrap();
    assert_eq!(headers.0.len(), 192);
    let hashes: Vec<_> = headers.0.iter().map(|h| keccak256(h.as_bytes())).collect();
    let bodies = bor.bodies(hashes[..128].to_vec()).await.unwrap();
    assert_eq!(bodies.0.len(), 128);
    {
        let chain = devnet.chain();
        let chain = chain.read();
        for (index, body) in bodies.0.iter().enumerate() {
            let block = chain.by_number(index as u64 + 1).unwrap();
            assert_eq!(
                body.as_bytes(),
                block.body_rlp.as_ref(),
                "body {}",
                index + 1
            );
        }
    }

    // New heads are announced with NewBlockHashes.
    let deadline = Instant::now() + Duration::from_secs(30);
    let announced = loop {
        assert!(Instant::now() < deadline, "no NewBlockHashes");
        if let EthMessage::NewBlockHashes(hashes) = bor.next().await.unwrap() {
            break hashes;
        }
    };
    let newest = announced.0.last().expect("an announcement names a block");
    assert!(newest.number > head_number);
    assert_eq!(
        devnet.chain().read().by_number(newest.number).unwrap().hash,
        newest.hash
    );

    // A peer sending a malformed request is disconnected for breaking the
    // protocol; the other peer is still served.
    let mut breaker = client(&host).await;
    breaker
        .send_raw(
            u64::from(MessageId::GetBlockHeaders.id()),
            &[0xc3, 0x01, 0x02],
        )
        .await
        .unwrap();
    let reason = loop {
        match breaker.next().await {
            Ok(_) => continue,
            Err(ClientError::Session(P2pError::Disconnected(reason))) => break reason,
            Err(other) => panic!("expected a disconnect, got {other}"),
        }
    };
    assert_eq!(reason, DisconnectReason::ProtocolError);
    let headers = bor.headers_from(checkpoint_end, 1).await.unwrap();
    assert_eq!(keccak256(headers.0[0].as_bytes()), expected);

    bor.disconnect().await;
    token.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_peer_is_banned_for_the_ban_duration_then_let_back_in() {
    let ban = Duration::from_secs(4);
    let (devnet, host, _data, token) = start_with(|config| {
        config.p2p.peer_requests_per_second = 20.0;
        config.p2p.ban_duration = ban;
        config.metrics.enabled = true;
        config.metrics.listen = "127.0.0.1:0".parse().unwrap();
    })
    .await;
    // Right after start, before any peer: the peer count is on the page at 0.
    let metrics_url = format!("http://{}/metrics", host.metrics_addr().unwrap());
    let page = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.lines()
            .any(|line| line == "hypasis_connected_peers_total 0"),
        "{page}"
    );
    for kind in ["headers", "bodies", "receipts", "pooled_transactions"] {
        let series = format!("hypasis_p2p_requests_total{{kind=\"{kind}\"}} 0");
        assert!(page.lines().any(|line| line == series), "{series}\n{page}");
    }
    wait_for_sync(&host, &devnet).await;

    // Requests back to back, over 20/s: throttled, then dropped.
    let mut flooder = client(&host).await;
    let started = Instant::now();
    let reason = loop {
        assert!(started.elapsed() < Duration::from_secs(60), "never dropped");
        match flooder.headers_from(1, 1).await {
            Ok(_) => continue,
            Err(ClientError::Session(P2pError::Disconnected(reason))) => break reason,
            Err(other) => panic!("expected a disconnect, got {other}"),
        }
    };
    assert_eq!(reason, DisconnectReason::UselessPeer);
    let p2p = host.p2p.as_ref().unwrap();
    let bans = p2p.reputation().bans();
    assert_eq!(bans.len(), 1, "{bans:?}");
    assert_eq!(
        (bans[0].reason, bans[0].ip.as_str()),
        ("flooding", "127.0.0.1")
    );
    let banned_at = Instant::now();

    // Refused on reconnect while the ban lasts, with a fresh node key too
    // (the IP is banned), well before the handshake timeout.
    let refused = client_result(&host).await;
    assert!(refused.is_err(), "a banned peer was let in");
    assert!(banned_at.elapsed() < ban, "the refusal took the whole ban");
    let page = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"hypasis_p2p_bans_total{reason="flooding"} 1"#)
            && page
                .lines()
                .any(|line| line == "hypasis_p2p_banned_peers 1"),
        "{page}"
    );

    // Accepted once it is over.
    tokio::time::sleep(ban.saturating_sub(banned_at.elapsed()) + Duration::from_millis(300)).await;
    let mut back = client(&host).await;
    let headers = back.headers_from(1, 1).await.unwrap();
    assert_eq!(headers.0.len(), 1);
    assert!(p2p.reputation().bans().is_empty());

    back.disconnect().await;
    token.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}

async fn client_result(host: &Host) -> Result<EthClient, ClientError> {
    let enode = host.p2p.as_ref().expect("devp2p runs").enode().to_string();
    EthClient::connect(&enode, NodeKey::random().secret(), TIMEOUT).await
}

/// The head sync settles reaches a WebSocket `newHeads` subscriber and a
/// connected devp2p peer from the chain state alone: while they are told,
/// nobody reads a new head's header from the store (the storage handle's
/// read log counts every part read by hash).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_head_reaches_subscribers_without_a_store_read() {
    let (devnet, host, _data, token) = start_over(
        // Checkpoints every 256 blocks: the next one (768) is far off, so
        // sync's check of stored blocks against it cannot read a new head.
        |options| {
            options.checkpoints.interval = 256;
            options.checkpoints.max_length = 256;
        },
        |config| {
            config.api.rpc.enabled = true;
            config.api.rpc.listen = "127.0.0.1:0".parse().unwrap();
        },
    )
    .await;
    wait_for_sync(&host, &devnet).await;
    let mut bor = client(&host).await;
    let rpc = host.api.as_ref().and_then(|api| api.rpc).unwrap();
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{rpc}"))
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
                .to_string(),
        ))
        .await
        .unwrap();
    let subscribed = common::api::next_ws_json(&mut socket).await;
    assert!(subscribed["result"].is_string(), "{subscribed}");

    let reads = host.plugins.storage.read_log();
    reads.start();
    // Three heads over WebSocket, and the peer told of the newest or a later one.
    let mut notified = Vec::new();
    while notified.len() < 3 {
        let note = tokio::time::timeout(TIMEOUT, common::api::next_ws_json(&mut socket))
            .await
            .expect("a newHeads notification");
        let header = &note["params"]["result"];
        let number = u64::from_str_radix(
            header["number"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        let hash: alloy_primitives::B256 = header["hash"].as_str().unwrap().parse().unwrap();
        assert_eq!(devnet.chain().read().by_number(number).unwrap().hash, hash);
        notified.push((number, hash));
    }
    let newest = notified.last().unwrap().0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let announced = loop {
        assert!(
            Instant::now() < deadline,
            "no NewBlockHashes at or past {newest}"
        );
        let message = tokio::time::timeout(TIMEOUT, bor.next())
            .await
            .expect("a message from the host")
            .unwrap();
        if let EthMessage::NewBlockHashes(hashes) = message
            && let Some(last) = hashes.0.last()
            && last.number >= newest
        {
            break (last.number, last.hash);
        }
    };
    reads.stop();
    assert_eq!(
        devnet.chain().read().by_number(announced.0).unwrap().hash,
        announced.1
    );
    for (number, hash) in notified.iter().chain([&announced]) {
        assert_eq!(
            reads.count(BlockPart::Header, &hash.0),
            0,
            "the header of new head {number} was read from the store"
        );
    }

    bor.disconnect().await;
    token.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}
