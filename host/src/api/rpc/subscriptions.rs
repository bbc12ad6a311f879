//! One WebSocket connection: every JSON-RPC call, plus
//! `eth_subscribe("newHeads")` / `eth_unsubscribe`. A subscription gets
//! each new canonical head's header (the blocks in between too, when the
//! head moved by at most [`MAX_BACKFILL`]) as an `eth_subscription`
//! notification, the way go-ethereum sends them.

use std::{collections::HashSet, sync::Arc};

use futures_util::{SinkExt, StreamExt};
use hypasis_plugin_api::BlockPart;
use hypasis_polygon::{decode_header, rpc_json::header_json};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use warp::ws::{Message, WebSocket};

use hypasis_jsonrpc::{Body, Entry, Reply, Response, subscription_notification};

use super::protocol::{CallResult, RpcError, raw};
use crate::{api::context::ApiContext, block_store::BlockStore, chain_state::ServedHead};

/// Most headers sent for one head change; a bigger jump sends the newest
/// only. As many as the chain state keeps in memory.
pub const MAX_BACKFILL: u64 = crate::chain_state::KEPT_HEADERS as u64;

/// Messages queued for one connection before it counts as too slow and is closed.
const OUTBOX: usize = 1024;

/// A fresh, unguessable-enough subscription id: 16 bytes of a keccak over
/// a process-wide counter and the clock.
fn subscription_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let seed = [count.to_be_bytes().as_slice(), &nanos.to_be_bytes()].concat();
    format!(
        "0x{}",
        hex::encode(&alloy_primitives::keccak256(seed)[..16])
    )
}

fn reply(id: &Value, outcome: CallResult) -> String {
    Response::to_call(id, outcome.map(Reply::from)).into_text()
}

/// The header JSON of canonical block `number`: from the chain state's
/// newest headers (sync handed them over with the head), else the store.
fn header_at(ctx: &ApiContext, number: u64) -> Option<Value> {
    if let Some((hash, header)) = ctx
        .head
        .as_ref()
        .and_then(|head| head.recent_header(number))
    {
        return Some(Value::Object(header_json(&header, &hash)));
    }
    let hash = ctx.canonical_hash(number).ok().flatten()?;
    let bytes = BlockStore::part(&*ctx.store, BlockPart::Header, hash).ok()??;
    let header = decode_header(&bytes).ok()?;
    Some(Value::Object(header_json(&header, &hash)))
}

/// Handles a subscription request; `None` when `body` is not one.
fn subscription_call(
    body: &Result<Body, RpcError>,
    subscriptions: &mut HashSet<String>,
    heads_known: bool,
) -> Option<String> {
    let Ok(Body::Single(Entry::Call { id, method, params })) = body else {
        return None;
    };
    let params = params.as_ref().and_then(Value::as_array);
    match method.as_str() {
        "eth_subscribe" => {
            let kind = params
                .and_then(|params| params.first())
                .and_then(Value::as_str);
            Some(match kind {
                Some("newHeads") if heads_known => {
                    let subscription = subscription_id();
                    subscriptions.insert(subscription.clone());
                    reply(id, Ok(raw(&Value::String(subscription))))
                }
                Some("newHeads") => reply(
                    id,
                    Err(RpcError::new(
                        -32000,
                        "no chain is served yet: nothing to subscribe to",
                    )),
                ),
                Some(other) => reply(
                    id,
                    Err(RpcError::invalid_params(format!(
                        "no \"{other}\" subscription in eth namespace (this server offers newHeads)"
                    ))),
                ),
                None => reply(
                    id,
                    Err(RpcError::invalid_params("expected a subscription name")),
                ),
            })
        }
        "eth_unsubscribe" => {
            let target = params
                .and_then(|params| params.first())
                .and_then(Value::as_str);
            let removed = target.is_some_and(|target| subscriptions.remove(target));
            Some(reply(id, Ok(raw(&Value::Bool(removed)))))
        }
        _ => None,
    }
}

/// Serves one WebSocket until it closes or `shutdown`.
pub async fn run(
    ctx: Arc<ApiContext>,
    operator: String,
    socket: WebSocket,
    shutdown: CancellationToken,
) {
    let (mut sink, mut incoming) = socket.split();
    let (outbox, mut queued) = mpsc::channel::<Message>(OUTBOX);
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut subscriptions: HashSet<String> = HashSet::new();
    let mut heads = ctx.head.as_ref().map(|head| head.subscribe());
    let mut last: Option<ServedHead> = heads.as_ref().and_then(|heads| *heads.borrow());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            changed = async {
                match heads.as_mut() {
                    Some(heads) => heads.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            } => {
                if !changed {
                    heads = None;
                    continue;
                }
                let head = heads.as_ref().and_then(|heads| *heads.borrow());
                let Some(head) = head else { continue };
                let from = match last {
                    Some(previous) if head.number > previous.number
                        && head.number - previous.number <= MAX_BACKFILL => previous.number + 1,
                    _ => head.number,
                };
                last = Some(head);
                if subscriptions.is_empty() {
                    continue;
                }
                for number in from..=head.number {
                    let Some(header) = header_at(&ctx, number) else { continue };
                    // Rendered once, shared by every subscription.
                    let header = Reply::Raw(header.to_string().into());
                    for subscription in &subscriptions {
                        let note = subscription_notification(subscription, header.clone());
                        if outbox.try_send(Message::text(note.into_text())).is_err() {
                            tracing::debug!(%operator, "WebSocket client too slow: closing");
                            drop(outbox);
                            let _ = writer.await;
                            return;
                        }
                    }
                }
            }
            message = incoming.next() => {
                let Some(Ok(message)) = message else { break };
                if message.is_close() {
                    break;
                }
                if !(message.is_text() || message.is_binary()) {
                    continue;
                }
                let body = Body::parse(message.as_bytes());
                let text = match subscription_call(&body, &mut subscriptions, ctx.head.is_some()) {
                    Some(text) => text,
                    None => {
                        let answer = super::dispatch::answer_body(&ctx, &operator, body).await;
                        // Notifications only: nothing to send.
                        if answer.body.is_empty() {
                            continue;
                        }
                        String::from_utf8(answer.body.into()).unwrap_or_default()
                    }
                };
                if outbox.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(outbox);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subscribe_and_unsubscribe() {
        let mut subscriptions = HashSet::new();
        let body = |value: Value| Body::from_value(value);
        let answer = subscription_call(
            &body(json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})),
            &mut subscriptions,
            true,
        )
        .unwrap();
        let answer: Value = serde_json::from_str(&answer).unwrap();
        let id = answer["result"].as_str().unwrap().to_string();
        assert!(id.starts_with("0x") && id.len() == 34);
        assert!(subscriptions.contains(&id));
        let refused = subscription_call(
            &body(
                json!({"jsonrpc": "2.0", "id": 2, "method": "eth_subscribe", "params": ["logs"]}),
            ),
            &mut subscriptions,
            true,
        )
        .unwrap();
        assert!(refused.contains("-32602"), "{refused}");
        let removed = subscription_call(
            &body(json!({"jsonrpc": "2.0", "id": 3, "method": "eth_unsubscribe", "params": [id]})),
            &mut subscriptions,
            true,
        )
        .unwrap();
        assert!(removed.contains("\"result\":true"), "{removed}");
        assert!(subscriptions.is_empty());
        assert!(
            subscription_call(
                &body(json!({"jsonrpc": "2.0", "id": 4, "method": "eth_blockNumber"})),
                &mut subscriptions,
                true
            )
            .is_none()
        );
    }
}
