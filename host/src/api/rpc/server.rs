//! The JSON-RPC server: request bodies of at most `api.rpc.max_request_size`
//! bytes, batches of at most `api.rpc.max_batch` calls, each request charged
//! to its operator (a batch costs its length) and refused with HTTP 429 and
//! `Retry-After` when over its limit. Every call is counted in
//! `hypasis_rpc_requests_total` and timed.

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use warp::{
    Buf, Filter,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};

use super::{
    dispatch::{Answer, answer},
    protocol::RpcError,
};
use crate::api::{
    context::ApiContext, identity::operator_id, limiter::now_ms, listener::client_addr,
};

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
    if matches!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST
    ) {
        // The rest of the body is left unread, so the connection cannot
        // carry another request: say so, or a client reusing it would fail.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
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
