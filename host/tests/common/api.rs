//! Helpers for the API tests: a devnet with a host syncing it with every
//! API on free ports, and small HTTP helpers.

#![allow(dead_code)]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_sync::{app::Host, config::Config};
use serde_json::{Value, json};

/// The JWT secret the API tests configure.
pub const SECRET: &str = "api-test-secret";

/// A devnet of `prefill` blocks (state syncs before and after Madhugiri at
/// 2048), not growing until `set_growing(true)` (then a block every 250 ms).
pub async fn devnet(prefill: u64) -> Devnet {
    seeded_devnet(ChainConfig::default().seed, prefill).await
}

/// [`devnet`] with another seed: another chain (another genesis).
pub async fn seeded_devnet(seed: u64, prefill: u64) -> Devnet {
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            seed,
            txs_per_block: 3,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 256,
            max_length: 1024,
            ..CheckpointConfig::default()
        },
        block_time: Duration::from_millis(250),
        prefill,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    // The first new block comes one block time after the start.
    devnet.set_growing(false);
    assert_eq!(devnet.head(), prefill);
    devnet
}

/// A host syncing `devnet` into `data_dir` with JSON-RPC, REST, metrics,
/// the premium rate-limit policy and admin tokens, all on free ports.
pub fn config(devnet: &Devnet, data_dir: &Path) -> Config {
    let mut config = hypasis_sync::devnet_host::config_for(devnet, data_dir);
    config.plugins.dir = Some(super::built_in_plugin_dir());
    config.api.rpc.enabled = true;
    config.api.rpc.listen = "127.0.0.1:0".parse().unwrap();
    config.api.rest.enabled = true;
    config.api.rest.listen = "127.0.0.1:0".parse().unwrap();
    config.api.jwt_secret = SECRET.into();
    config.metrics.enabled = true;
    config.metrics.listen = "127.0.0.1:0".parse().unwrap();
    config.ratelimit.enabled = true;
    config.ratelimit.plugin = "ratelimit-premium".into();
    config.ratelimit.per_operator_rps = 5_000.0;
    config.ratelimit.global_rps = 50_000.0;
    config.ratelimit.burst = 5_000;
    config.cloud.instance_id = "test-instance".into();
    config.cloud.region = "test-region".into();
    config
}

/// Waits until `done`, failing after `timeout`.
pub async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until both directions are done and the served head is `head`.
pub async fn synced(host: &Host, head: u64) {
    let status = host.sync_status.clone().expect("syncing");
    let watch = host.head.clone().expect("a head");
    wait_until("sync to finish", Duration::from_secs(120), || {
        let status = status.read();
        // The served head follows the sync status on a poll: wait until it
        // has caught up with both ends, not only the forward one.
        status.forward == Some(head)
            && status.backward_done
            && watch.head().is_some_and(|served| {
                served.number == head && Some(served.earliest) == status.backward
            })
    })
    .await;
}

/// The host's JSON-RPC URL.
pub fn rpc_url(host: &Host) -> String {
    format!(
        "http://{}",
        host.api.as_ref().and_then(|api| api.rpc).unwrap()
    )
}

/// The host's REST base URL.
pub fn rest_url(host: &Host) -> String {
    format!(
        "http://{}",
        host.api.as_ref().and_then(|api| api.rest).unwrap()
    )
}

/// One JSON-RPC call's whole response object.
pub async fn call(client: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    client
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// One JSON-RPC call's result.
pub async fn result(client: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let answer = call(client, url, method, params.clone()).await;
    assert!(answer.get("error").is_none(), "{method} {params}: {answer}");
    answer["result"].clone()
}

/// Removes keys that the two servers legitimately differ in.
pub fn without(mut value: Value, keys: &[&str]) -> Value {
    match &mut value {
        Value::Object(map) => {
            for key in keys {
                map.remove(*key);
            }
            for item in map.values_mut() {
                *item = without(item.take(), keys);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without(item.take(), keys);
            }
        }
        _ => {}
    }
    value
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The next text frame on a WebSocket, parsed as JSON (other frames are
/// skipped).
pub async fn next_ws_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match socket.next().await.expect("the socket stays open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            _ => continue,
        }
    }
}
