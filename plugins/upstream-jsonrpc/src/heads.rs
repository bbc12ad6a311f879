//! Background head tracking. Every endpoint is polled (`eth_blockNumber`,
//! then the new head's header for its hash; `eth_chainId` until known),
//! which also probes unhealthy endpoints so that they come back when they
//! recover. WebSocket endpoints are also subscribed to `newHeads`, which
//! reports heads as soon as they are made.

use std::{sync::Arc, time::Instant};

use hypasis_plugin_sdk::tracing;
use hypasis_polygon::rpc_json::{parse_b256, parse_u64, quantity};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{backoff, endpoint::Endpoint, error::UpstreamError, pool::Pool, rpc};

fn malformed(endpoint: &Endpoint, reason: String) -> UpstreamError {
    UpstreamError::Malformed {
        endpoint: endpoint.name().into(),
        reason,
    }
}

fn quantity_of(
    endpoint: &Endpoint,
    what: &'static str,
    value: &Value,
) -> Result<u64, UpstreamError> {
    value
        .as_str()
        .ok_or_else(|| malformed(endpoint, format!("{what} is not a string")))
        .and_then(|text| {
            parse_u64(what, text).map_err(|error| malformed(endpoint, error.to_string()))
        })
}

/// Asks `endpoint` for its chain id (until known) and head, and records them.
pub async fn probe(pool: &Pool, endpoint: &Endpoint) -> Result<(), UpstreamError> {
    let options = pool.options();
    if endpoint.chain_id().is_none() {
        let answer = rpc::call(endpoint, "eth_chainId", json!([]), options).await?;
        let chain_id = quantity_of(endpoint, "eth_chainId", &answer)?;
        pool.record_chain_id(endpoint, chain_id);
    }
    let answer = rpc::call(endpoint, "eth_blockNumber", json!([]), options).await?;
    let number = quantity_of(endpoint, "eth_blockNumber", &answer)?;
    if let Some(seen) = endpoint.with_health(|health| health.head)
        && seen.number == number
    {
        // Same head: seen again just now.
        pool.update_head(endpoint, number, seen.hash);
        return Ok(());
    }
    let block = rpc::call(
        endpoint,
        "eth_getBlockByNumber",
        json!([quantity(number), false]),
        options,
    )
    .await?;
    if block.is_null() {
        // Behind its own eth_blockNumber for a moment (load balancers do this).
        return Ok(());
    }
    let hash = block
        .get("hash")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(endpoint, format!("block {number} has no hash")))
        .and_then(|text| {
            parse_b256("hash", text).map_err(|error| malformed(endpoint, error.to_string()))
        })?;
    pool.update_head(endpoint, number, hash.0);
    Ok(())
}

/// Polls one endpoint until shutdown; parked endpoints are left alone
/// until their time is up.
pub async fn poll(pool: Arc<Pool>, endpoint: Arc<Endpoint>, shutdown: CancellationToken) {
    let interval = pool.options().head_poll_interval();
    loop {
        let parked = endpoint.with_health(|health| health.parked(Instant::now()));
        if parked.is_none() {
            let probed = tokio::select! {
                _ = shutdown.cancelled() => return,
                probed = probe(&pool, &endpoint) => probed,
            };
            if let Err(error) = probed {
                tracing::debug!(endpoint = endpoint.name(), %error, "head poll failed");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Records one `newHeads` notification.
fn on_new_head(pool: &Pool, endpoint: &Endpoint, head: &Value) -> Result<(), UpstreamError> {
    let number = head
        .get("number")
        .ok_or_else(|| malformed(endpoint, "newHeads without number".into()))
        .and_then(|value| quantity_of(endpoint, "number", value))?;
    let hash = head
        .get("hash")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(endpoint, "newHeads without hash".into()))
        .and_then(|text| {
            parse_b256("hash", text).map_err(|error| malformed(endpoint, error.to_string()))
        })?;
    pool.update_head(endpoint, number, hash.0);
    Ok(())
}

/// Keeps a `newHeads` subscription open on a WebSocket endpoint until
/// shutdown, resubscribing (with backoff) whenever the connection drops.
pub async fn subscribe(pool: Arc<Pool>, endpoint: Arc<Endpoint>, shutdown: CancellationToken) {
    let Some(ws) = endpoint.ws() else {
        return;
    };
    let mut attempt = 0;
    loop {
        let subscribed = tokio::select! {
            _ = shutdown.cancelled() => return,
            subscribed = ws.subscribe_new_heads(rpc::reserve_ids(1)) => subscribed,
        };
        match subscribed {
            Ok(mut heads) => {
                attempt = 0;
                tracing::debug!(endpoint = endpoint.name(), "subscribed to newHeads");
                loop {
                    let head = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        head = heads.recv() => head,
                    };
                    let Some(head) = head else { break };
                    if let Err(error) = on_new_head(&pool, &endpoint, &head) {
                        tracing::debug!(endpoint = endpoint.name(), %error, "bad newHeads notification");
                    }
                }
                tracing::debug!(endpoint = endpoint.name(), "newHeads subscription ended");
            }
            Err(error) => {
                tracing::debug!(endpoint = endpoint.name(), %error, "newHeads subscription failed");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff::delay(attempt, pool.options())) => {}
        }
        attempt = (attempt + 1).min(16);
    }
}
