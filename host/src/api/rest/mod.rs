//! REST on `api.rest.listen` (8080) and the status page at `/`.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | [`health`]: per-part checks, 503 when unhealthy |
//! | `GET /api/v1/status` | [`status`]: what the status page shows |
//! | `GET /api/v1/bootnodes` | the enodes of every live member, to give Bor (`--bootnodes`) |
//! | `GET /api/v1/cluster` | the members, their regions, heads, heartbeats and URLs; Redis's state |
//! | `GET /api/v1/checkpoints` | known L1 checkpoints, newest first (`?limit=`) |
//! | `GET /api/v1/operators/limits` | admin: every per-operator limit |
//! | `POST /api/v1/operators/{id}/limits` | admin: set `{"rps","burst"}` |
//! | `DELETE /api/v1/operators/{id}/limits` | admin: back to the defaults |
//! | `POST /api/v1/ratelimit/operator/{id}` | admin: set `{"rps"}` (burst kept) |
//! | `GET /api/v1/admin/bans` | admin: peer bans in force |
//! | `DELETE /api/v1/admin/bans/{node id}` | admin: lift a ban |
//! | `GET /api/v1/openapi.json` | this API's OpenAPI document |
//!
//! Admin routes need an HS256 JWT with `role: admin` ([`crate::api::jwt`]).
//! Errors are JSON: `{"error": "<kind>", "message": "…"}`. `/api/v1/*` is
//! charged to the caller's operator id and refused with 429 and
//! `Retry-After` over its limit; `/health` and the page are not.

pub mod admin;
pub mod cluster;
pub mod health;
pub mod page;
pub mod status;

use std::{convert::Infallible, sync::Arc, time::Instant};

use opentelemetry::KeyValue;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use warp::{
    Filter, Rejection, Reply,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};

use super::{context::ApiContext, identity::operator_id, limiter::now_ms, listener::client_addr};

/// A JSON response with `status`.
pub fn json_reply(status: StatusCode, body: &impl Serialize) -> warp::reply::Response {
    let mut response =
        warp::reply::Response::new(serde_json::to_string(body).unwrap_or_default().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The JSON error body every route uses.
pub fn error_reply(
    status: StatusCode,
    kind: &str,
    message: impl Into<String>,
) -> warp::reply::Response {
    json_reply(status, &json!({"error": kind, "message": message.into()}))
}

/// Counts and times one answered request.
fn observe(
    ctx: &ApiContext,
    route: &'static str,
    started: Instant,
    response: &warp::reply::Response,
) {
    ctx.metrics.rest_requests.add(
        1,
        &[
            KeyValue::new("route", route),
            KeyValue::new("status", i64::from(response.status().as_u16())),
        ],
    );
    ctx.metrics.rest_latency.record(
        started.elapsed().as_secs_f64(),
        &[KeyValue::new("route", route)],
    );
}

/// Charges a public API request to its operator; `Some(429)` when over the limit.
/// A public JSON route: charged to the caller, then `render`ed, observed.
async fn limited_json(
    route: &'static str,
    ctx: Arc<ApiContext>,
    headers: HeaderMap,
    remote: Option<std::net::SocketAddr>,
    render: fn(&ApiContext) -> Value,
) -> warp::reply::Response {
    let started = Instant::now();
    let response = match limited(&ctx, &headers, remote).await {
        Some(refused) => refused,
        None => json_reply(StatusCode::OK, &render(&ctx)),
    };
    observe(&ctx, route, started, &response);
    response
}

async fn limited(
    ctx: &ApiContext,
    headers: &HeaderMap,
    remote: Option<std::net::SocketAddr>,
) -> Option<warp::reply::Response> {
    let operator = operator_id(headers, remote, ctx.settings.jwt.as_ref(), now_ms() / 1000);
    let wait = ctx.limiter.admit("rest", &operator, 1).await.err()?;
    let mut response = json_reply(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({
            "error": "rate_limited",
            "message": format!("rate limit exceeded for operator `{operator}`"),
            "retry_after_ms": wait.as_millis() as u64,
        }),
    );
    if let Ok(value) =
        HeaderValue::from_str(&(wait.as_secs_f64().ceil().max(1.0) as u64).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

fn with_ctx(
    ctx: &Arc<ApiContext>,
) -> impl Filter<Extract = (Arc<ApiContext>,), Error = Infallible> + Clone + use<> {
    let ctx = Arc::clone(ctx);
    warp::any().map(move || Arc::clone(&ctx))
}

fn health_route(ctx: &ApiContext) -> warp::reply::Response {
    let report = health::health(ctx);
    let status = if report.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_reply(status, &report)
}

/// Most checkpoints one `/api/v1/checkpoints` answer lists.
pub const MAX_CHECKPOINTS_LISTED: usize = 1000;

fn checkpoints(
    ctx: &ApiContext,
    query: &std::collections::HashMap<String, String>,
) -> warp::reply::Response {
    let limit = match query.get("limit").map(|text| text.parse::<usize>()) {
        None => 100,
        Some(Ok(limit)) if (1..=MAX_CHECKPOINTS_LISTED).contains(&limit) => limit,
        Some(_) => {
            return error_reply(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("`limit` must be a number from 1 to {MAX_CHECKPOINTS_LISTED}"),
            );
        }
    };
    let verified = ctx.coverage().verified.clone();
    let list: Vec<Value> = ctx
        .checkpoints()
        .into_iter()
        .rev()
        .take(limit)
        .map(|checkpoint| {
            let covered = verified.contains_range(hypasis_plugin_api::BlockRange::new(
                checkpoint.start,
                checkpoint.end,
            ));
            let mut json = status::checkpoint_json(&checkpoint);
            json["stored_and_verified"] = Value::Bool(covered);
            json
        })
        .collect();
    json_reply(
        StatusCode::OK,
        &json!({"count": list.len(), "checkpoints": list}),
    )
}

/// Turns warp's rejections into JSON errors.
async fn recover(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
    let (status, kind, message) = if rejection.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route".to_string(),
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route".to_string(),
        )
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body over {} bytes", admin::MAX_BODY),
        )
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send a Content-Length".to_string(),
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{rejection:?}"),
        )
    };
    Ok(error_reply(status, kind, message))
}

/// Every route.
pub fn routes(
    ctx: &Arc<ApiContext>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone + use<> {
    let public = |route: &'static str| {
        with_ctx(ctx)
            .and(warp::header::headers_cloned())
            .and(client_addr())
            .map(move |ctx, headers, remote| (route, ctx, headers, remote))
    };
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_ctx(ctx))
        .map(|ctx: Arc<ApiContext>| {
            let started = Instant::now();
            let response = health_route(&ctx);
            observe(&ctx, "health", started, &response);
            response
        });
    let status = warp::path!("api" / "v1" / "status")
        .and(warp::get())
        .and(public("status"))
        .then(
            |(route, ctx, headers, remote): (&'static str, Arc<ApiContext>, HeaderMap, _)| {
                limited_json(route, ctx, headers, remote, status::status)
            },
        );
    let bootnodes = warp::path!("api" / "v1" / "bootnodes")
        .and(warp::get())
        .and(public("bootnodes"))
        .then(
            |(route, ctx, headers, remote): (&'static str, Arc<ApiContext>, HeaderMap, _)| {
                limited_json(route, ctx, headers, remote, cluster::bootnodes)
            },
        );
    let cluster = warp::path!("api" / "v1" / "cluster")
        .and(warp::get())
        .and(public("cluster"))
        .then(
            |(route, ctx, headers, remote): (&'static str, Arc<ApiContext>, HeaderMap, _)| {
                limited_json(route, ctx, headers, remote, cluster::cluster)
            },
        );
    let checkpoints = warp::path!("api" / "v1" / "checkpoints")
        .and(warp::get())
        .and(warp::query::<std::collections::HashMap<String, String>>())
        .and(public("checkpoints"))
        .then(
            |query: std::collections::HashMap<String, String>,
             (route, ctx, headers, remote): (&'static str, Arc<ApiContext>, HeaderMap, _)| async move {
                let started = Instant::now();
                let response = match limited(&ctx, &headers, remote).await {
                    Some(refused) => refused,
                    None => checkpoints(&ctx, &query),
                };
                observe(&ctx, route, started, &response);
                response
            },
        );
    let openapi = warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .map(|| {
            let mut response = warp::reply::Response::new(page::OPENAPI.into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        });
    health
        .or(status)
        .unify()
        .or(bootnodes)
        .unify()
        .or(cluster)
        .unify()
        .or(checkpoints)
        .unify()
        .or(openapi)
        .unify()
        .or(admin::routes(ctx))
        .unify()
        .or(page::routes())
        .unify()
        .recover(recover)
        .unify()
        .map(|reply: warp::reply::Response| reply.into_response())
}

/// Serves REST and the page on `listener` until `shutdown`.
pub async fn serve(
    ctx: Arc<ApiContext>,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) {
    let max_connections = ctx.settings.max_connections;
    let routes = routes(&ctx).boxed();
    super::listener::serve(routes, listener, max_connections, shutdown).await;
}
