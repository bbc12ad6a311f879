//! Who is asking: the operator id that limits are charged to.
//!
//! In order: an `X-API-Key` header (its value is the id), the subject of
//! a valid bearer JWT (`Authorization: Bearer …`, `sub`), else the client's
//! IP address. devp2p peers are charged by node id (see `p2p::limits`).

use std::net::SocketAddr;

use warp::http::HeaderMap;

use super::jwt::TokenVerifier;

/// The header carrying an API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Longest API key taken as an id (longer ones are refused as ids and the IP is used).
const MAX_KEY_LEN: usize = 256;

/// The operator id of a request.
pub fn operator_id(
    headers: &HeaderMap,
    remote: Option<SocketAddr>,
    tokens: Option<&TokenVerifier>,
    now_secs: u64,
) -> String {
    if let Some(key) = headers
        .get(API_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_LEN)
    {
        return key.to_string();
    }
    if let (Some(tokens), Some(authorization)) = (
        tokens,
        headers
            .get(warp::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok()),
    ) && let Some(token) = authorization
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        && let Ok(claims) = tokens.verify(token, now_secs)
        && let Some(subject) = claims.sub.filter(|subject| !subject.is_empty())
    {
        return subject;
    }
    remote.map_or_else(|| "unknown".to_string(), |addr| addr.ip().to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use warp::http::HeaderValue;

    use super::*;

    #[test]
    fn key_then_token_subject_then_ip() {
        let remote = Some(SocketAddr::from(([10, 0, 0, 7], 5000)));
        let tokens = TokenVerifier::new("k");
        let mut headers = HeaderMap::new();
        assert_eq!(operator_id(&headers, remote, Some(&tokens), 0), "10.0.0.7");
        let token = tokens.sign(&json!({"sub": "acme", "exp": 100}));
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        assert_eq!(operator_id(&headers, remote, Some(&tokens), 50), "acme");
        // Expired or unverifiable: the IP.
        assert_eq!(
            operator_id(&headers, remote, Some(&tokens), 100),
            "10.0.0.7"
        );
        assert_eq!(operator_id(&headers, remote, None, 50), "10.0.0.7");
        headers.insert(API_KEY_HEADER, HeaderValue::from_static("key-123"));
        assert_eq!(operator_id(&headers, remote, Some(&tokens), 50), "key-123");
        assert_eq!(operator_id(&HeaderMap::new(), None, None, 0), "unknown");
    }
}
