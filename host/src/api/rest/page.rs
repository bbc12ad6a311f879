//! The status page at `/`: static HTML, CSS and JavaScript built into the
//! binary, which fetch `/api/v1/status` and `/health` every few seconds and
//! draw what they say (no external assets, so it works offline and under a
//! strict CSP).

use warp::{
    Filter,
    http::{HeaderValue, header},
};

/// The page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// Its script.
pub const STATUS_JS: &str = include_str!("assets/status.js");
/// Its style sheet.
pub const STATUS_CSS: &str = include_str!("assets/status.css");
/// The REST API's OpenAPI document (`docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

fn asset(body: &'static str, content_type: &'static str) -> warp::reply::Response {
    let mut response = warp::reply::Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; connect-src 'self'; img-src 'self' data:"),
    );
    response
}

/// `/`, `/status.js`, `/status.css`.
pub fn routes() -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone
{
    let index = warp::path::end()
        .and(warp::get())
        .map(|| asset(INDEX_HTML, "text/html; charset=utf-8"));
    let script = warp::path!("status.js")
        .and(warp::get())
        .map(|| asset(STATUS_JS, "text/javascript; charset=utf-8"));
    let style = warp::path!("status.css")
        .and(warp::get())
        .map(|| asset(STATUS_CSS, "text/css; charset=utf-8"));
    index.or(script).unify().or(style).unify()
}
