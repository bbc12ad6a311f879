//! Endpoints must agree on the chain id: one serving another chain is excluded.

use std::time::Duration;

use hypasis_plugin_sdk::UpstreamSource;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::common::{assert_identical, devnet, everything, quick_options, status, upstream};

/// A JSON-RPC server on another chain: answers every call with chain id 1,
/// head 0x10 and a block that is not the devnet's.
async fn other_chain() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(read) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    let Some(split) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..split]
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() < split + 4 + length {
                        continue;
                    }
                    let body: serde_json::Value =
                        serde_json::from_slice(&request[split + 4..split + 4 + length]).unwrap();
                    request.clear();
                    let answer = |call: &serde_json::Value| {
                        let result = match call["method"].as_str() {
                            Some("eth_chainId") => serde_json::json!("0x1"),
                            Some("eth_blockNumber") => serde_json::json!("0x10"),
                            _ => serde_json::Value::Null,
                        };
                        serde_json::json!({"jsonrpc": "2.0", "id": call["id"], "result": result})
                    };
                    let reply = match &body {
                        serde_json::Value::Array(calls) => {
                            serde_json::Value::Array(calls.iter().map(answer).collect())
                        }
                        call => answer(call),
                    }
                    .to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
                        reply.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_on_another_chain_is_excluded() {
    let devnet = devnet(40, 2, Duration::from_secs(3600)).await;
    devnet.set_growing(false);
    let stranger = other_chain().await;
    let mut urls = vec![stranger.clone()];
    urls.extend(devnet.upstream_urls());
    let source = upstream(urls.clone(), quick_options());
    assert_eq!(
        source.clone().chain_id().await.unwrap(),
        devnet.spec().chain_id
    );
    let excluded = status(&source, &stranger);
    assert!(!excluded.healthy && excluded.score == 0.0, "{excluded:?}");
    // It is never asked for blocks, though it is configured first.
    let fetched = source.clone().fetch(everything(1, 30)).await.unwrap();
    assert_ne!(fetched.endpoint.as_str(), stranger);
    assert_identical(&devnet, &fetched.blocks);
    assert_eq!(source.clone().head().await.unwrap().number, 40);
    source.clone().shutdown().await.unwrap();
    devnet.stop().await;
}
