//! The upstream endpoint served to the sync: JSON-RPC over HTTP POST (with
//! the fault plan's latency, drops and rate limits applied) and over
//! WebSocket (every call, plus `eth_subscribe("newHeads")`).

use std::sync::Arc;

use hypasis_jsonrpc::{Body, Entry, LIMIT_EXCEEDED, Reply, Response, subscription_notification};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::{
    block::DevBlock,
    http::{self, HttpResponse, Outcome, SocketHandler},
    jsonrpc::{NO_PARAMS, RpcError},
    render,
    upstream::UpstreamEndpoint,
};

/// The HTTP handler of one upstream endpoint.
pub(crate) fn upstream_handler(endpoint: UpstreamEndpoint) -> http::Handler {
    http::handler(move |request| {
        let endpoint = endpoint.clone();
        async move {
            let settings = endpoint.faults().settings();
            if let Some(latency) = settings.latency {
                tokio::time::sleep(latency).await;
            }
            if endpoint.faults().roll(settings.drop_rate) {
                return Outcome::Drop;
            }
            if endpoint.faults().roll(settings.rate_limit_rate) {
                let mut response = HttpResponse {
                    status: 429,
                    headers: Vec::new(),
                    body: Response::error(RpcError::new(LIMIT_EXCEEDED, "rate limit exceeded"))
                        .into_chunks(),
                };
                response
                    .headers
                    .push(("retry-after", settings.retry_after_secs.max(1).to_string()));
                return Outcome::Respond(response);
            }
            if request.method != "POST" {
                return Outcome::Respond(HttpResponse {
                    status: 405,
                    headers: Vec::new(),
                    body: Response::error(RpcError::invalid_request("use POST")).into_chunks(),
                });
            }
            let body = request.body.clone();
            let answer = tokio::task::spawn_blocking(move || {
                hypasis_jsonrpc::answer(&body, |method, params| {
                    endpoint.call_reply(method, params.unwrap_or(&NO_PARAMS))
                })
                .map(Response::into_chunks)
            })
            .await
            .unwrap_or_default();
            Outcome::Respond(HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: answer.unwrap_or_default(),
            })
        }
    })
}

/// The WebSocket handler of one upstream endpoint: `new_heads` feeds its
/// `newHeads` subscriptions.
pub(crate) fn socket_handler(
    endpoint: UpstreamEndpoint,
    new_heads: broadcast::Sender<Arc<DevBlock>>,
) -> SocketHandler {
    Arc::new(move |push, connection| {
        let endpoint = endpoint.clone();
        let new_heads = new_heads.clone();
        let mut next_id = 1u64;
        Box::new(move |text: String| {
            let endpoint = endpoint.clone();
            let push = push.clone();
            let new_heads = new_heads.clone();
            let connection = connection.clone();
            let subscription = format!("{:#x}", 0x1000 + next_id);
            next_id += 1;
            Box::pin(async move {
                let body = Body::parse(text.as_bytes());
                let (id, method, params) = match &body {
                    Ok(Body::Single(Entry::Call { id, method, params })) => (
                        id.clone(),
                        method.as_str(),
                        params.clone().unwrap_or(Value::Array(Vec::new())),
                    ),
                    _ => (Value::Null, "", Value::Null),
                };
                if method == "eth_subscribe" {
                    if params.get(0).and_then(Value::as_str) != Some("newHeads") {
                        return Some(
                            Response::to_call(
                                &id,
                                Err(RpcError::invalid_params("only newHeads is supported")),
                            )
                            .into_text(),
                        );
                    }
                    let mut heads = new_heads.subscribe();
                    let faults = endpoint.faults().clone();
                    let sub = subscription.clone();
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                _ = connection.cancelled() => return,
                                head = heads.recv() => match head {
                                    Ok(block) => {
                                        if faults.settings().stale_head.is_some_and(|stale| block.number() > stale) {
                                            continue;
                                        }
                                        let message = subscription_notification(
                                            &sub,
                                            Reply::Value(render::new_head(&block)),
                                        );
                                        if push.send(message.into_text()).is_err() { return; }
                                    }
                                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                                    Err(broadcast::error::RecvError::Closed) => return,
                                },
                            }
                        }
                    });
                    return Some(
                        Response::to_call(&id, Ok(Reply::Value(Value::String(subscription))))
                            .into_text(),
                    );
                }
                if method == "eth_unsubscribe" {
                    return Some(
                        Response::to_call(&id, Ok(Reply::Value(Value::Bool(true)))).into_text(),
                    );
                }
                tokio::task::spawn_blocking(move || {
                    hypasis_jsonrpc::respond(body, |method, params| {
                        endpoint.call_reply(method, params.unwrap_or(&NO_PARAMS))
                    })
                    .map(Response::into_text)
                })
                .await
                .ok()?
            })
        })
    })
}
