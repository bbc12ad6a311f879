//! The JSON-RPC server: request bodies of at most `api.rpc.max_request_size`
//! bytes, batches of at most `api.rpc.max_batch` calls, each request charged
//! to its operator (a batch costs its length) and refused with HTTP 429 and
//! `Retry-After` when over its limit. Every call is counted in
//! `hypasis_rpc_requests_total` and timed.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use opentelemetry::KeyValue;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use warp::{
    Buf, Filter,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};

use super::{
    methods::{METHODS, call},
    protocol::{CallResult, LIMIT_EXCEEDED, PARSE_ERROR, Response, RpcError},
};
use crate::api::{
    context::ApiContext, identity::operator_id, limiter::now_ms, listener::client_addr,
};

/// A finished HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code (200, or 429 when rate limited).
    pub status: StatusCode,
    /// The JSON body.
    pub body: String,
    /// Seconds to wait, when rate limited.
    pub retry_after: Option<u64>,
}

impl Answer {
    fn ok(body: String) -> Self {
        Answer {
            status: StatusCode::OK,
            body,
            retry_after: None,
        }
    }

    fn error(status: StatusCode, error: RpcError) -> Self {
        let outcome: CallResult = Err(error);
        Answer {
            status,
            body: serde_json::to_string(&Response::new(&Value::Null, &outcome)).unwrap_or_default(),
            retry_after: None,
        }
    }
}

/// The metrics label of a method: its name if we serve it, else `other`.
fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// Runs one call object and renders its response.
async fn one(ctx: &ApiContext, request: &Value) -> String {
    let started = Instant::now();
    let id = request.get("id").unwrap_or(&Value::Null);
    let method = request.get("method").and_then(Value::as_str);
    let outcome: CallResult = match (request, method) {
        (Value::Object(object), Some(method))
            if object.get("jsonrpc").and_then(Value::as_str) == Some("2.0") =>
        {
            call(ctx, method, object.get("params")).await
        }
        (Value::Object(_), Some(_)) => Err(RpcError::invalid_request(
            "invalid request: `jsonrpc` must be \"2.0\"",
        )),
        (Value::Object(_), None) => Err(RpcError::invalid_request(
            "invalid request: `method` must be a string",
        )),
        _ => Err(RpcError::invalid_request("invalid request: not an object")),
    };
    let label = method.map_or("other", method_label);
    ctx.metrics.rpc_requests.add(
        1,
        &[
            KeyValue::new("method", label),
            KeyValue::new("outcome", if outcome.is_ok() { "ok" } else { "error" }),
        ],
    );
    ctx.metrics.rpc_latency.record(
        started.elapsed().as_secs_f64(),
        &[KeyValue::new("method", label)],
    );
    serde_json::to_string(&Response::new(id, &outcome)).unwrap_or_default()
}

/// Answers a request body from `operator`: one call or a batch.
pub async fn answer(ctx: &ApiContext, operator: &str, body: &[u8]) -> Answer {
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(error) => {
            return Answer::error(
                StatusCode::OK,
                RpcError::new(PARSE_ERROR, format!("parse error: {error}")),
            );
        }
    };
    let cost = match &request {
        Value::Array(calls) if calls.is_empty() => {
            return Answer::error(StatusCode::OK, RpcError::invalid_request("empty batch"));
        }
        Value::Array(calls) if calls.len() > ctx.settings.max_batch => {
            return Answer::error(
                StatusCode::OK,
                RpcError::invalid_request(format!(
                    "batch too large: {} calls, at most {} (api.rpc.max_batch)",
                    calls.len(),
                    ctx.settings.max_batch
                )),
            );
        }
        Value::Array(calls) => calls.len() as u32,
        _ => 1,
    };
    if let Err(wait) = ctx.limiter.admit("rpc", operator, cost).await {
        ctx.metrics.rpc_requests.add(
            u64::from(cost),
            &[
                KeyValue::new("method", "other"),
                KeyValue::new("outcome", "rate_limited"),
            ],
        );
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut answer = Answer::error(
            StatusCode::TOO_MANY_REQUESTS,
            RpcError::new(
                LIMIT_EXCEEDED,
                format!(
                    "rate limit exceeded for operator `{operator}`; retry after {} ms",
                    wait.as_millis()
                ),
            ),
        );
        answer.retry_after = Some(seconds);
        return answer;
    }
    match &request {
        Value::Array(calls) => {
            let mut out = String::from("[");
            for (index, call) in calls.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&one(ctx, call).await);
            }
            out.push(']');
            Answer::ok(out)
        }
        single => Answer::ok(one(ctx, single).await),
    }
}

fn http_response(answer: Answer) -> warp::reply::Response {
    let mut response = warp::reply::Response::new(answer.body.into());
    *response.status_mut() = answer.status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = answer.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Reads a body of at most `limit` bytes; `None` when it is longer.
async fn read_limited(
    mut body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    limit: u64,
) -> Result<Option<Bytes>, warp::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk?;
        if out.len() as u64 + chunk.remaining() as u64 > limit {
            return Ok(None);
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            out.extend_from_slice(piece);
            let advance = piece.len();
            chunk.advance(advance);
        }
    }
    Ok(Some(Bytes::from(out)))
}

async fn http(
    ctx: Arc<ApiContext>,
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
) -> warp::reply::Response {
    let limit = ctx.settings.max_request_size;
    let body = match read_limited(body, limit).await {
        Ok(Some(body)) => body,
        Ok(None) => {
            return http_response(Answer::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                RpcError::invalid_request(format!(
                    "request body too large: at most {limit} bytes (api.rpc.max_request_size)"
                )),
            ));
        }
        Err(error) => {
            return http_response(Answer::error(
                StatusCode::BAD_REQUEST,
                RpcError::invalid_request(format!("reading the request body: {error}")),
            ));
        }
    };
    let operator = operator_id(&headers, remote, ctx.settings.jwt.as_ref(), now_ms() / 1000);
    http_response(answer(&ctx, &operator, &body).await)
}

/// Serves JSON-RPC (HTTP POST and WebSocket on `/`) on `listener` until `shutdown`.
pub async fn serve(
    ctx: Arc<ApiContext>,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) {
    let post_ctx = Arc::clone(&ctx);
    let post = warp::post()
        .and(warp::path::end())
        .and(client_addr())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(move |remote, headers, body| {
            let ctx = Arc::clone(&post_ctx);
            async move { http(ctx, remote, headers, Box::pin(body)).await }
        });
    let ws_ctx = Arc::clone(&ctx);
    let ws_shutdown = shutdown.clone();
    let websocket = warp::path::end()
        .and(warp::ws())
        .and(client_addr())
        .and(warp::header::headers_cloned())
        .map(move |ws: warp::ws::Ws, remote, headers: HeaderMap| {
            let ctx = Arc::clone(&ws_ctx);
            let shutdown = ws_shutdown.clone();
            let operator =
                operator_id(&headers, remote, ctx.settings.jwt.as_ref(), now_ms() / 1000);
            let limit = ctx.settings.max_request_size as usize;
            ws.max_message_size(limit).on_upgrade(move |socket| {
                super::subscriptions::run(ctx, operator, socket, shutdown)
            })
        });
    // Anything else: a JSON-RPC error rather than warp's plain-text 404/405.
    let other = warp::any().map(|| {
        http_response(Answer::error(
            StatusCode::METHOD_NOT_ALLOWED,
            RpcError::invalid_request("JSON-RPC is served by POST (or WebSocket) on `/`"),
        ))
    });
    let routes = post
        .or(websocket)
        .or(other)
        .map(warp::Reply::into_response)
        .boxed();
    let max_connections = ctx.settings.max_connections;
    crate::api::listener::serve(routes, listener, max_connections, shutdown).await;
}
