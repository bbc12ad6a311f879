//! Answering a request body, the same for HTTP and WebSocket: the batch
//! limit, the operator's rate limit (a batch costs its length), then each
//! call, counted in `hypasis_rpc_requests_total` and timed.

use std::time::Instant;

use bytes::Bytes;
use hypasis_jsonrpc::{Body, Entry, Reply, Response};
use opentelemetry::KeyValue;
use warp::http::StatusCode;

use super::{
    methods::{METHODS, call},
    protocol::{CallResult, LIMIT_EXCEEDED, RpcError},
};
use crate::api::context::ApiContext;

/// A finished HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code (200, or 429 when rate limited).
    pub status: StatusCode,
    /// The JSON body (empty when the request held notifications only).
    pub body: Bytes,
    /// Seconds to wait, when rate limited.
    pub retry_after: Option<u64>,
}

impl Answer {
    fn ok(response: Option<Response>) -> Self {
        Answer {
            status: StatusCode::OK,
            body: response.map(Response::into_bytes).unwrap_or_default(),
            retry_after: None,
        }
    }

    /// An error about the whole request, with a null id.
    pub(super) fn error(status: StatusCode, error: RpcError) -> Self {
        Answer {
            status,
            body: Response::error(error).into_bytes(),
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

/// Runs one entry of a request; its response, `None` for a notification
/// (run, never answered, as go-ethereum does).
async fn one(ctx: &ApiContext, entry: Entry) -> Option<Response> {
    let started = Instant::now();
    let (id, method, outcome): (_, _, CallResult) = match entry {
        Entry::Call { id, method, params } => {
            let outcome = call(ctx, &method, params.as_ref()).await;
            (Some(id), Some(method), outcome)
        }
        Entry::Notification { method, params } => {
            let outcome = call(ctx, &method, params.as_ref()).await;
            (None, Some(method), outcome)
        }
        Entry::Invalid { id, error } => (Some(id), None, Err(error)),
    };
    let label = method.as_deref().map_or("other", method_label);
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
    id.map(|id| Response::to_call(&id, outcome.map(Reply::from)))
}

/// Answers a request body from `operator`: one call or a batch.
pub async fn answer(ctx: &ApiContext, operator: &str, body: &[u8]) -> Answer {
    answer_body(ctx, operator, Body::parse(body)).await
}

/// [`answer`] on a body already read.
pub async fn answer_body(ctx: &ApiContext, operator: &str, body: Result<Body, RpcError>) -> Answer {
    let body = match body {
        Ok(body) => body,
        Err(error) => return Answer::error(StatusCode::OK, error),
    };
    if body.len() > ctx.settings.max_batch {
        return Answer::error(
            StatusCode::OK,
            RpcError::invalid_request(format!(
                "batch too large: {} calls, at most {} (api.rpc.max_batch)",
                body.len(),
                ctx.settings.max_batch
            )),
        );
    }
    let cost = u32::try_from(body.len()).unwrap_or(u32::MAX);
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
    match body {
        Body::Batch(entries) => {
            let mut responses = Vec::with_capacity(entries.len());
            for entry in entries {
                responses.extend(one(ctx, entry).await);
            }
            Answer::ok(Response::batch(responses))
        }
        Body::Single(entry) => Answer::ok(one(ctx, entry).await),
    }
}
