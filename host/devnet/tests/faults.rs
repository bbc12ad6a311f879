//! Each injectable fault does what it says, seen from a client.

use std::time::{Duration, Instant};

use alloy_consensus::Header;
use alloy_primitives::{B256, keccak256};
use alloy_rlp::Encodable;
use hypasis_devnet::{
    ChainConfig, Devnet, DevnetOptions,
    faults::{FaultSettings, Tamper, TamperTarget},
    script::FaultScript,
};
use hypasis_polygon::{
    ChainSpec, bor,
    roots::ordered_root,
    rpc_json::{header_from_json, parse_b256},
};
use serde_json::{Value, json};

async fn devnet(prefill: u64) -> Devnet {
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 6,
            ..ChainConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill,
        upstreams: 2,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    devnet.set_growing(false);
    devnet
}

async fn call(url: &str, method: &str, params: Value) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
}

async fn result(url: &str, method: &str, params: Value) -> Value {
    let body: Value = call(url, method, params)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("no result: {body}"))
}

fn hash_of(block: &Value) -> (B256, B256) {
    let header: Header = header_from_json(block).unwrap();
    let mut rlp = Vec::new();
    header.encode(&mut rlp);
    (
        keccak256(&rlp),
        parse_b256("hash", block["hash"].as_str().unwrap()).unwrap(),
    )
}

fn block_with_transactions(devnet: &Devnet, from: u64) -> u64 {
    let chain = devnet.chain();
    let chain = chain.read();
    (from..)
        .find(|number| {
            chain.by_number(*number).is_some_and(|block| {
                block.txs.len() >= 2 && block.receipts.iter().any(|r| !r.logs.is_empty())
            })
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_faults() {
    let devnet = devnet(20).await;
    let url = &devnet.upstream_urls()[1];
    let faults = devnet.faults(1).unwrap();

    faults.update(|settings| settings.latency = Some(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(
        result(url, "eth_blockNumber", json!([])).await,
        json!("0x14")
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    faults.clear();

    faults.update(|settings| settings.error_rate = 1.0);
    let body: Value = call(url, "eth_blockNumber", json!([]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], json!(-32603));
    faults.clear();

    faults.update(|settings| {
        settings.rate_limit_rate = 1.0;
        settings.retry_after_secs = 7;
    });
    let response = call(url, "eth_blockNumber", json!([])).await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    faults.clear();

    faults.update(|settings| settings.drop_rate = 1.0);
    let error = call(url, "eth_blockNumber", json!([])).await.unwrap_err();
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    faults.clear();
    assert_eq!(
        result(url, "eth_blockNumber", json!([])).await,
        json!("0x14")
    );

    // The other endpoint was never affected.
    assert_eq!(
        result(&devnet.upstream_urls()[0], "eth_blockNumber", json!([])).await,
        json!("0x14")
    );
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lies_about_blocks_are_visible_to_a_checker() {
    let devnet = devnet(120).await;
    let honest = &devnet.upstream_urls()[0];
    let liar = &devnet.upstream_urls()[1];
    let faults = devnet.faults(1).unwrap();
    let spec: ChainSpec = devnet.spec();
    let target = block_with_transactions(&devnet, 70);
    let number = json!(format!("{target:#x}"));

    // A header field changed, hash left as it was: the hash no longer matches.
    faults.update(|settings| {
        settings.tamper = vec![Tamper {
            block: target,
            target: TamperTarget::Header {
                field: "stateRoot".into(),
            },
            rehash: false,
        }]
    });
    let lie = result(liar, "eth_getBlockByNumber", json!([number, false])).await;
    let truth = result(honest, "eth_getBlockByNumber", json!([number, false])).await;
    let (recomputed, claimed) = hash_of(&lie);
    assert_ne!(recomputed, claimed);
    assert_eq!(lie["hash"], truth["hash"]);
    assert_ne!(lie["stateRoot"], truth["stateRoot"]);

    // The same lie made self-consistent: the hash matches, but the next block
    // does not link to it and the seal no longer recovers the producer.
    faults.update(|settings| settings.tamper[0].rehash = true);
    let lie = result(liar, "eth_getBlockByNumber", json!([number, false])).await;
    let (recomputed, claimed) = hash_of(&lie);
    assert_eq!(recomputed, claimed);
    let child = result(
        liar,
        "eth_getBlockByNumber",
        json!([format!("{:#x}", target + 1), false]),
    )
    .await;
    assert_ne!(child["parentHash"], lie["hash"]);
    let producer = bor::recover_signer(&header_from_json(&truth).unwrap(), &spec).unwrap();
    assert_ne!(
        bor::recover_signer(&header_from_json(&lie).unwrap(), &spec).ok(),
        Some(producer)
    );

    // A transaction changed: the body no longer matches transactionsRoot.
    faults.update(|settings| {
        settings.tamper = vec![Tamper {
            block: target,
            target: TamperTarget::Transaction { index: 0 },
            rehash: false,
        }]
    });
    let lie = result(liar, "eth_getBlockByNumber", json!([number, false])).await;
    assert_eq!(lie["transactionsRoot"], truth["transactionsRoot"]);
    assert_ne!(lie["transactions"][0], truth["transactions"][0]);
    {
        let chain = devnet.chain();
        let chain = chain.read();
        let block = chain.by_number(target).unwrap();
        let lied = hypasis_devnet::faults::tampered(
            &block,
            &Tamper {
                block: target,
                target: TamperTarget::Transaction { index: 0 },
                rehash: false,
            },
        );
        let envelopes: Vec<&[u8]> = lied.txs.iter().map(|tx| tx.envelope.as_ref()).collect();
        assert_ne!(ordered_root(&envelopes), block.header.transactions_root);
    }

    // A receipt and a log changed: the receipts differ from the honest ones.
    for target_kind in [
        TamperTarget::Receipt { index: 0 },
        TamperTarget::Log {
            index: first_receipt_with_logs(&devnet, target),
        },
    ] {
        faults.update(|settings| {
            settings.tamper = vec![Tamper {
                block: target,
                target: target_kind.clone(),
                rehash: false,
            }]
        });
        let lie = result(liar, "eth_getBlockReceipts", json!([number])).await;
        let truth = result(honest, "eth_getBlockReceipts", json!([number])).await;
        assert_ne!(lie, truth, "{target_kind:?}");
    }

    // Missing receipts.
    faults.update(|settings| {
        settings.tamper.clear();
        settings.missing_receipts = vec![target];
    });
    assert_eq!(
        result(liar, "eth_getBlockReceipts", json!([number])).await,
        Value::Null
    );
    assert_ne!(
        result(
            liar,
            "eth_getBlockReceipts",
            json!([format!("{:#x}", target + 1)])
        )
        .await,
        Value::Null
    );

    // A stale head.
    faults.update(|settings| {
        *settings = FaultSettings::default();
        settings.stale_head = Some(100);
    });
    assert_eq!(
        result(liar, "eth_blockNumber", json!([])).await,
        json!("0x64")
    );
    assert_eq!(
        result(liar, "eth_getBlockByNumber", json!(["0x65", false])).await,
        Value::Null
    );
    assert_eq!(
        result(liar, "eth_getBlockByNumber", json!(["latest", false])).await["number"],
        json!("0x64")
    );
    devnet.stop().await;
}

fn first_receipt_with_logs(devnet: &Devnet, number: u64) -> usize {
    let chain = devnet.chain();
    let chain = chain.read();
    chain
        .by_number(number)
        .unwrap()
        .receipts
        .iter()
        .position(|receipt| !receipt.logs.is_empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_at_the_tip_and_a_scripted_reorg() {
    let devnet = devnet(100).await;
    let url = &devnet.upstream_urls()[0];
    let before = result(url, "eth_getBlockByNumber", json!(["0x5f", false])).await;
    let kept = result(url, "eth_getBlockByNumber", json!(["0x5a", false])).await;
    devnet.reorg(10).unwrap();
    assert_eq!(
        result(url, "eth_blockNumber", json!([])).await,
        json!("0x65")
    );
    let after = result(url, "eth_getBlockByNumber", json!(["0x5f", false])).await;
    assert_ne!(after["hash"], before["hash"]);
    let first_new = result(url, "eth_getBlockByNumber", json!(["0x5b", false])).await;
    assert_eq!(first_new["parentHash"], kept["hash"]);
    // The replaced block is still there by hash, as on a real node.
    assert_eq!(
        result(url, "eth_getBlockByHash", json!([before["hash"], false])).await["hash"],
        before["hash"]
    );
    // A reorg below the newest milestone cannot happen.
    assert!(devnet.reorg(95).is_err());

    // A scripted reorg once the head reaches a block. Block 102 is there
    // from the start (prefilled), so its first hash is known before the
    // script can run, however slow this machine is.
    let script = FaultScript::parse("steps:\n  - after_block: 103\n    reorg: 2\n").unwrap();
    let scripted = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 1,
            ..ChainConfig::default()
        },
        block_time: Duration::from_millis(200),
        prefill: 102,
        upstreams: 1,
        port: 0,
        script: Some(script),
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    let chain = scripted.chain();
    let first_at_102 = chain.read().by_number(102).expect("prefilled").hash;
    let deadline = Instant::now() + Duration::from_secs(30);
    while scripted.head() < 106 {
        assert!(Instant::now() < deadline, "the chain did not grow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(
        chain.read().by_number(102).unwrap().hash,
        first_at_102,
        "the script reorganised block 102"
    );
    scripted.stop().await;
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_arrive_over_websocket() {
    use alloy_provider::{Provider, ProviderBuilder, WsConnect};
    use futures_util::StreamExt;
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 1,
            ..ChainConfig::default()
        },
        block_time: Duration::from_millis(50),
        prefill: 10,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    let provider = ProviderBuilder::new()
        .connect_ws(WsConnect::new(devnet.upstream_ws_urls()[0].clone()))
        .await
        .unwrap();
    let subscription = provider.subscribe_blocks().await.unwrap();
    let heads: Vec<_> = tokio::time::timeout(
        Duration::from_secs(20),
        subscription.into_stream().take(3).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(heads.len(), 3);
    for pair in heads.windows(2) {
        assert_eq!(pair[1].number, pair[0].number + 1);
        assert_eq!(pair[1].parent_hash, pair[0].hash);
    }
    devnet.stop().await;
}
