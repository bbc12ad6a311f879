//! The JSON-RPC API on a syncing host, against the devnet (whose upstream
//! answers as Bor does): the same blocks, transactions and receipts in the
//! same JSON; the tags; `bor_getRootHash`; the hypasis extras; every error
//! shape; `newHeads` over WebSocket.

mod common;

use std::time::Duration;

use common::api::{call, config, devnet, result, rpc_url, synced, without};
use futures_util::SinkExt;
use hypasis_sync::app::Host;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const HEAD: u64 = 2_200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rpc_serves_what_bor_serves() {
    let devnet = devnet(HEAD).await;
    let data = tempfile::tempdir().unwrap();
    let shutdown = CancellationToken::new();
    let host = Host::start(config(&devnet, data.path()), shutdown.clone())
        .await
        .unwrap();
    synced(&host, HEAD).await;
    let ours = rpc_url(&host);
    let theirs = devnet.upstream_urls()[0].clone();
    let client = reqwest::Client::new();

    // Blocks before and after Jaipur, Cancun and Madhugiri, with and without
    // state syncs: every shape the chain has, hashes and full.
    let mut compared = 0;
    let mut with_bor_tx = 0;
    for number in [
        0u64, 1, 15, 16, 63, 64, 255, 256, 511, 512, 1024, 2047, 2048, 2064, 2200,
    ] {
        let tag = format!("{number:#x}");
        for full in [false, true] {
            let mine = result(&client, &ours, "eth_getBlockByNumber", json!([tag, full])).await;
            let reference =
                result(&client, &theirs, "eth_getBlockByNumber", json!([tag, full])).await;
            // The store keeps no total difficulty per block (go-ethereum dropped the field too).
            assert_eq!(
                mine,
                without(reference, &["totalDifficulty"]),
                "block {number} full={full}"
            );
            compared += 1;
        }
        let hash =
            result(&client, &ours, "eth_getBlockByNumber", json!([tag, false])).await["hash"]
                .clone();
        let mine = result(&client, &ours, "eth_getBlockReceipts", json!([hash])).await;
        let reference = result(&client, &theirs, "eth_getBlockReceipts", json!([hash])).await;
        assert_eq!(mine, reference, "receipts of block {number}");
        let transactions = result(&client, &ours, "eth_getBlockByNumber", json!([tag, false]))
            .await["transactions"]
            .as_array()
            .unwrap()
            .clone();
        let count = result(
            &client,
            &ours,
            "eth_getBlockTransactionCountByNumber",
            json!([tag]),
        )
        .await;
        assert_eq!(count, json!(format!("{:#x}", transactions.len())));
        for (index, tx) in transactions.iter().enumerate() {
            for method in ["eth_getTransactionByHash", "eth_getTransactionReceipt"] {
                let mine = result(&client, &ours, method, json!([tx])).await;
                let reference = result(&client, &theirs, method, json!([tx])).await;
                assert_eq!(mine, reference, "{method} {tx} in block {number}");
            }
            let by_index = result(
                &client,
                &ours,
                "eth_getTransactionByBlockHashAndIndex",
                json!([hash, format!("{index:#x}")]),
            )
            .await;
            assert_eq!(&by_index["hash"], tx);
        }
        let bor_hash = hypasis_polygon::state_sync::bor_receipt_tx_hash(
            number,
            &hash.as_str().unwrap().parse().unwrap(),
        );
        if transactions.contains(&json!(format!("{bor_hash:#x}"))) {
            with_bor_tx += 1;
        }
    }
    assert_eq!(compared, 30);
    assert!(
        with_bor_tx > 0,
        "some compared block carries Bor's state-sync transaction"
    );

    // Tags.
    let number = |value: &Value| value["number"].as_str().unwrap().to_string();
    let latest = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!(["latest", false]),
    )
    .await;
    assert_eq!(number(&latest), format!("{HEAD:#x}"));
    assert_eq!(
        result(&client, &ours, "eth_blockNumber", json!([])).await,
        json!(format!("{HEAD:#x}"))
    );
    let earliest = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!(["earliest", false]),
    )
    .await;
    assert_eq!(number(&earliest), "0x0");
    let milestone = host.api_context.safe().unwrap();
    let safe = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!(["safe", false]),
    )
    .await;
    assert_eq!(number(&safe), format!("{:#x}", milestone.end));
    assert_eq!(safe["hash"], json!(format!("{:#x}", milestone.hash)));
    let checkpoint = host.api_context.finalized().unwrap();
    let finalized = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!(["finalized", false]),
    )
    .await;
    assert_eq!(number(&finalized), format!("{:#x}", checkpoint.end));
    let missing = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!([format!("{:#x}", HEAD + 5), false]),
    )
    .await;
    assert_eq!(missing, Value::Null);
    assert_eq!(
        result(&client, &ours, "eth_chainId", json!([])).await,
        json!("0x217b1")
    );
    assert_eq!(
        result(&client, &ours, "net_version", json!([])).await,
        result(&client, &theirs, "net_version", json!([])).await
    );
    assert_eq!(
        result(&client, &ours, "eth_syncing", json!([])).await,
        json!(false)
    );
    let version = result(&client, &ours, "web3_clientVersion", json!([])).await;
    assert!(
        version.as_str().unwrap().starts_with("hypasis-sync/v"),
        "{version}"
    );
    let header = result(&client, &ours, "eth_getHeaderByNumber", json!(["0x100"])).await;
    assert_eq!(header["number"], json!("0x100"));
    assert!(header.get("transactions").is_none());

    // bor_getRootHash: the checkpoint's root, as Bor formats it (no 0x).
    let root = result(
        &client,
        &ours,
        "bor_getRootHash",
        json!([checkpoint.start, checkpoint.end]),
    )
    .await;
    assert_eq!(root, json!(hex::encode(checkpoint.root)));
    assert_eq!(
        root,
        result(
            &client,
            &theirs,
            "bor_getRootHash",
            json!([checkpoint.start, checkpoint.end])
        )
        .await
    );
    let too_long = call(&client, &ours, "bor_getRootHash", json!([0, 40_000])).await;
    assert_eq!(too_long["error"]["code"], json!(-32000), "{too_long}");

    // Extras.
    let status = result(&client, &ours, "hypasis_blockStatus", json!(["0x10"])).await;
    assert_eq!(status["verified"], json!(true), "{status}");
    assert_eq!(status["canonical"], json!(true));
    let coverage = result(&client, &ours, "hypasis_coverage", json!([])).await;
    assert_eq!(
        coverage["verified"][0],
        json!({"start": "0x0", "end": format!("{:#x}", checkpoint.end.max(milestone.end))}),
        "{coverage}"
    );

    // Errors, in go-ethereum's codes.
    let post = |body: &'static str| {
        let client = client.clone();
        let url = ours.clone();
        async move {
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (_, answer) = post("{not json").await;
    assert_eq!(answer["error"]["code"], json!(-32700), "{answer}");
    assert_eq!(answer["id"], Value::Null);
    let (_, answer) = post(r#"{"id":7,"method":"eth_blockNumber"}"#).await;
    assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
    assert_eq!(answer["id"], json!(7));
    let (_, answer) =
        post(r#"{"jsonrpc":"2.0","id":8,"method":"eth_sendRawTransaction","params":["0x00"]}"#)
            .await;
    assert_eq!(answer["error"]["code"], json!(-32601), "{answer}");
    assert_eq!(
        answer["error"]["message"],
        json!("the method eth_sendRawTransaction does not exist/is not available")
    );
    let (_, answer) =
        post(r#"{"jsonrpc":"2.0","id":9,"method":"eth_getBlockByNumber","params":["0x01",false]}"#)
            .await;
    assert_eq!(answer["error"]["code"], json!(-32602), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("leading zero"),
        "{answer}"
    );
    let (_, answer) =
        post(r#"{"jsonrpc":"2.0","id":10,"method":"eth_getBlockByHash","params":["0x12",false]}"#)
            .await;
    assert_eq!(answer["error"]["code"], json!(-32602), "{answer}");
    let (_, answer) = post("[]").await;
    assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
    // A batch: answers in order, one per call, errors in place.
    let (_, answer) = post(r#"[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":2,"method":"nope"},{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":[]}]"#).await;
    let answers = answer.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["result"], json!(format!("{HEAD:#x}")));
    assert_eq!(answers[1]["error"]["code"], json!(-32601));
    assert_eq!(answers[2]["id"], json!(3));
    // Notifications (no id) are run and not answered, alone or in a batch.
    for body in [
        r#"{"jsonrpc":"2.0","method":"eth_blockNumber"}"#,
        r#"[{"jsonrpc":"2.0","method":"eth_blockNumber"},{"jsonrpc":"2.0","method":"eth_chainId"}]"#,
    ] {
        let response = client
            .post(&ours)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{body}");
        assert_eq!(response.text().await.unwrap(), "", "{body}");
    }
    let (_, answer) = post(r#"[{"jsonrpc":"2.0","method":"eth_blockNumber"},{"jsonrpc":"2.0","id":5,"method":"eth_chainId"}]"#).await;
    assert_eq!(answer.as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(answer[0]["id"], json!(5), "{answer}");
    // Over api.rpc.max_batch (100): refused whole, with the limit named.
    let batch: Vec<Value> = (0..101)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "eth_blockNumber"}))
        .collect();
    let answer: Value = client
        .post(&ours)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 100"),
        "{answer}"
    );
    // A body over api.rpc.max_request_size (5 MiB): 413 with a JSON-RPC error.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{}"]}}"#,
        "a".repeat(6 << 20)
    );
    let response = client.post(&ours).body(huge).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
    // GET is not JSON-RPC.
    let response = client.get(&ours).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);

    // newHeads over WebSocket: a new devnet block reaches the subscriber.
    let ws_url = ours.replace("http://", "ws://");
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket
        .send(Message::text(
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
                .to_string(),
        ))
        .await
        .unwrap();
    let subscribed: Value = common::api::next_ws_json(&mut socket).await;
    let subscription = subscribed["result"].as_str().unwrap().to_string();
    socket
        .send(Message::text(
            json!({"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber"}).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(
        common::api::next_ws_json(&mut socket).await["result"],
        json!(format!("{HEAD:#x}"))
    );
    devnet.set_growing(true);
    let note = tokio::time::timeout(
        Duration::from_secs(60),
        common::api::next_ws_json(&mut socket),
    )
    .await
    .expect("a newHeads notification");
    assert_eq!(note["method"], json!("eth_subscription"));
    assert_eq!(note["params"]["subscription"], json!(subscription));
    let new_number = note["params"]["result"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let mined = result(
        &client,
        &theirs,
        "eth_getBlockByNumber",
        json!([new_number, false]),
    )
    .await;
    assert_eq!(note["params"]["result"]["hash"], mined["hash"]);
    devnet.set_growing(false);

    shutdown.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}

/// With `api.rpc.proxy_unknown`, a block the store lacks comes from the
/// upstreams, marked unverified; `connection_pool.max_connections` caps
/// open connections with a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_blocks_are_proxied_and_connections_are_capped() {
    let devnet = devnet(700).await;
    let data = tempfile::tempdir().unwrap();
    let mut settings = config(&devnet, data.path());
    // Backward only: the store ends at the anchor (the newest checkpoint's end).
    settings.sync.forward.enabled = false;
    settings.api.rpc.proxy_unknown = true;
    settings.connection_pool.max_connections = 3;
    let shutdown = CancellationToken::new();
    let host = Host::start(settings, shutdown.clone()).await.unwrap();
    let status = host.sync_status.clone().unwrap();
    common::api::wait_until("backward sync", Duration::from_secs(120), || {
        status.read().backward_done
    })
    .await;
    let anchor = status.read().anchor.unwrap();
    assert!(
        anchor < 700,
        "the anchor {anchor} is below the devnet's head"
    );
    let ours = rpc_url(&host);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let stored = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!([format!("{anchor:#x}"), false]),
    )
    .await;
    assert!(stored.get("unverified").is_none(), "{stored}");
    let above = format!("{:#x}", anchor + 5);
    let proxied = result(
        &client,
        &ours,
        "eth_getBlockByNumber",
        json!([above, false]),
    )
    .await;
    assert_eq!(proxied["unverified"], json!(true), "{proxied}");
    let reference = result(
        &client,
        &devnet.upstream_urls()[0],
        "eth_getBlockByNumber",
        json!([above, false]),
    )
    .await;
    assert_eq!(proxied["hash"], reference["hash"]);
    let status_of = result(&client, &ours, "hypasis_blockStatus", json!([above])).await;
    assert_eq!(status_of, Value::Null, "not stored, so no status");

    // Three connections held open; a fourth is refused with 503. The
    // server may still count the client's last connection for a moment
    // after it closed, so the three are opened again until none of them
    // was the one refused.
    drop(client);
    let address = ours.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for attempt in 0.. {
        assert!(attempt < 50, "three connections were never all accepted");
        tokio::time::sleep(Duration::from_millis(100)).await;
        held.clear();
        for _ in 0..3 {
            held.push(tokio::net::TcpStream::connect(&address).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = [0u8; 1];
        // An accepted connection has nothing to read; a refused one has its 503.
        if held.iter().all(|stream| {
            matches!(stream.try_read(&mut probe), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock)
        }) {
            break;
        }
    }
    let mut extra = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_string(&mut extra, &mut answer),
    )
    .await
    .expect("the fourth connection is answered and closed")
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("max_connections"), "{answer}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let after = call(&client, &ours, "eth_chainId", json!([])).await;
    assert_eq!(after["result"], json!("0x217b1"));

    shutdown.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}
