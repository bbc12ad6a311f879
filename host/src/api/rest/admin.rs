//! The admin routes, behind an HS256 JWT with the `admin` role: peer bans
//! (`GET /api/v1/admin/bans`, `DELETE /api/v1/admin/bans/{node id}`) and
//! per-operator limits. A change reaches the rate-limit plugin at once (the next
//! request of that operator is charged under it) and is persisted
//! ([`crate::api::operators`]) so it survives a restart.

use std::{sync::Arc, time::Instant};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use warp::{
    Filter,
    http::{HeaderMap, StatusCode},
};

use super::{error_reply, json_reply, observe, with_ctx};
use crate::api::{
    context::ApiContext,
    jwt::TokenError,
    limiter::now_ms,
    operators::{Limits, OperatorLimitsError},
};

/// Largest admin request body.
pub const MAX_BODY: u64 = 16 * 1024;

/// Longest operator id accepted.
const MAX_OPERATOR_LEN: usize = 256;

/// Why an admin request is refused; becomes a JSON error response.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            kind,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn into_response(self) -> warp::reply::Response {
        let mut response = error_reply(self.status, self.kind, self.message);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                warp::http::header::WWW_AUTHENTICATE,
                warp::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// `{"rps": …, "burst": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsBody {
    rps: f64,
    burst: u32,
}

/// `{"rps": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RpsBody {
    rps: f64,
}

fn authorize(ctx: &ApiContext, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(tokens) = &ctx.settings.jwt else {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "admin_disabled",
            "the admin API is off: set api.jwt_secret (JWT_SECRET)",
        ));
    };
    let authorization = headers
        .get(warp::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match tokens.authorize(authorization, "admin", now_ms() / 1000) {
        Ok(_) => Ok(()),
        Err(error @ TokenError::Forbidden(_)) => Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            error.to_string(),
        )),
        Err(error) => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            error.to_string(),
        )),
    }
}

fn check_operator(operator: &str) -> Result<String, Refusal> {
    let operator = percent_decode(operator);
    if operator.is_empty()
        || operator.len() > MAX_OPERATOR_LEN
        || operator.chars().any(char::is_control)
    {
        return Err(Refusal::bad_request(format!(
            "operator id must be 1 to {MAX_OPERATOR_LEN} printable characters"
        )));
    }
    Ok(operator)
}

/// Decodes `%xx` escapes in a path segment (operator ids may hold `:`, `@`…).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&segment[index + 1..index + 3], 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|error| Refusal::bad_request(format!("request body: {error}")))
}

fn check_limits(limits: Limits) -> Result<Limits, Refusal> {
    if !limits.rps.is_finite() || limits.rps < 0.0 {
        return Err(Refusal::bad_request(format!(
            "`rps` must be a number >= 0, not {}",
            limits.rps
        )));
    }
    Ok(limits)
}

fn change_error(error: OperatorLimitsError) -> Refusal {
    match &error {
        OperatorLimitsError::Disabled => Refusal::new(
            StatusCode::CONFLICT,
            "ratelimit_disabled",
            error.to_string(),
        ),
        OperatorLimitsError::Refused(refusal)
            if refusal.error.kind == hypasis_plugin_api::ErrorKind::Unsupported =>
        {
            Refusal::new(
                StatusCode::NOT_IMPLEMENTED,
                "unsupported",
                error.to_string(),
            )
        }
        OperatorLimitsError::Refused(_) => Refusal::bad_request(error.to_string()),
        OperatorLimitsError::Cluster(_) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_unavailable",
            error.to_string(),
        ),
        _ => Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        ),
    }
}

async fn set(
    ctx: &ApiContext,
    operator: &str,
    limits: Option<Limits>,
) -> Result<warp::reply::Response, Refusal> {
    ctx.operators
        .set(operator, limits)
        .await
        .map_err(change_error)?;
    tracing::info!(%operator, ?limits, "operator limits changed");
    Ok(json_reply(
        StatusCode::OK,
        &json!({"operator": operator, "limits": limits}),
    ))
}

/// The default burst for an operator given only a rate: its current
/// override's burst, else the configured burst.
fn current_burst(ctx: &ApiContext, operator: &str) -> u32 {
    ctx.operators
        .load()
        .ok()
        .and_then(|stored| stored.get(operator).map(|limits| limits.burst))
        .unwrap_or(ctx.settings.default_burst)
}

/// Which change an admin route makes.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// `POST /api/v1/operators/{id}/limits` `{"rps","burst"}`.
    Limits,
    /// `POST /api/v1/ratelimit/operator/{id}` `{"rps"}`: the burst is kept.
    Rps,
    /// `DELETE /api/v1/operators/{id}/limits`.
    Remove,
}

impl Change {
    fn route(self) -> &'static str {
        match self {
            Change::Limits | Change::Remove => "operator_limits",
            Change::Rps => "ratelimit_operator",
        }
    }
}

async fn change(
    ctx: Arc<ApiContext>,
    kind: Change,
    operator: String,
    headers: HeaderMap,
    body: Bytes,
) -> warp::reply::Response {
    let started = Instant::now();
    let response = async {
        authorize(&ctx, &headers)?;
        let operator = check_operator(&operator)?;
        let limits = match kind {
            Change::Limits => {
                let body: LimitsBody = parse_body(&body)?;
                Some(check_limits(Limits {
                    rps: body.rps,
                    burst: body.burst,
                })?)
            }
            Change::Rps => {
                let body: RpsBody = parse_body(&body)?;
                Some(check_limits(Limits {
                    rps: body.rps,
                    burst: current_burst(&ctx, &operator),
                })?)
            }
            Change::Remove => None,
        };
        set(&ctx, &operator, limits).await
    }
    .await
    .unwrap_or_else(Refusal::into_response);
    observe(&ctx, kind.route(), started, &response);
    response
}

async fn list(ctx: Arc<ApiContext>, headers: HeaderMap) -> warp::reply::Response {
    let started = Instant::now();
    let response = authorize(&ctx, &headers)
        .and_then(|()| ctx.operators.load().map_err(change_error))
        .map(|stored| {
            json_reply(
                StatusCode::OK,
                &json!({
                    "defaults": {"rps": ctx.settings.default_rps, "burst": ctx.settings.default_burst},
                    "operators": stored,
                }),
            )
        })
        .unwrap_or_else(Refusal::into_response);
    observe(&ctx, "operator_limits", started, &response);
    response
}

/// Which ban route.
#[derive(Debug, Clone)]
enum BanRoute {
    /// `GET /api/v1/admin/bans`.
    List,
    /// `DELETE /api/v1/admin/bans/{node id}`.
    Lift(String),
}

async fn bans(ctx: Arc<ApiContext>, route: BanRoute, headers: HeaderMap) -> warp::reply::Response {
    let started = Instant::now();
    let response = (|| {
        authorize(&ctx, &headers)?;
        let Some(p2p) = &ctx.p2p else {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "p2p_disabled",
                "devp2p is not running here (p2p.enabled)",
            ));
        };
        match route {
            BanRoute::List => Ok(json_reply(
                StatusCode::OK,
                &json!({"bans": p2p.reputation.bans()}),
            )),
            BanRoute::Lift(node_id) => {
                let node_id = percent_decode(&node_id).to_ascii_lowercase();
                let hex = node_id.trim_start_matches("0x");
                if hex.len() != 128 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                    return Err(Refusal::bad_request(
                        "a node id is 128 hex digits (the enode's user part)",
                    ));
                }
                if p2p.reputation.lift(hex) {
                    Ok(json_reply(StatusCode::OK, &json!({"lifted": hex})))
                } else {
                    Err(Refusal::new(
                        StatusCode::NOT_FOUND,
                        "not_banned",
                        format!("node {hex} is not banned"),
                    ))
                }
            }
        }
    })()
    .unwrap_or_else(Refusal::into_response);
    observe(&ctx, "admin_bans", started, &response);
    response
}

/// The admin routes.
pub fn routes(
    ctx: &Arc<ApiContext>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone + use<> {
    let body = warp::body::content_length_limit(MAX_BODY).and(warp::body::bytes());
    let set_limits_route = warp::path!("api" / "v1" / "operators" / String / "limits")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(body)
        .and(with_ctx(ctx))
        .then(|operator, headers, body, ctx| change(ctx, Change::Limits, operator, headers, body));
    let remove_route = warp::path!("api" / "v1" / "operators" / String / "limits")
        .and(warp::delete())
        .and(warp::header::headers_cloned())
        .and(with_ctx(ctx))
        .then(|operator, headers, ctx| {
            change(ctx, Change::Remove, operator, headers, Bytes::new())
        });
    let list_route = warp::path!("api" / "v1" / "operators" / "limits")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(with_ctx(ctx))
        .then(|headers, ctx| list(ctx, headers));
    let rps_route = warp::path!("api" / "v1" / "ratelimit" / "operator" / String)
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(body)
        .and(with_ctx(ctx))
        .then(|operator, headers, body, ctx| change(ctx, Change::Rps, operator, headers, body));
    let bans_route = warp::path!("api" / "v1" / "admin" / "bans")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(with_ctx(ctx))
        .then(|headers, ctx| bans(ctx, BanRoute::List, headers));
    let lift_route = warp::path!("api" / "v1" / "admin" / "bans" / String)
        .and(warp::delete())
        .and(warp::header::headers_cloned())
        .and(with_ctx(ctx))
        .then(|node_id, headers, ctx| bans(ctx, BanRoute::Lift(node_id), headers));
    list_route
        .or(bans_route)
        .unify()
        .or(lift_route)
        .unify()
        .or(set_limits_route)
        .unify()
        .or(remove_route)
        .unify()
        .or(rps_route)
        .unify()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_ids_are_percent_decoded() {
        assert_eq!(percent_decode("10.0.0.1"), "10.0.0.1");
        assert_eq!(percent_decode("acme%3Aprod"), "acme:prod");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
        assert_eq!(percent_decode("end%4"), "end%4");
    }
}
