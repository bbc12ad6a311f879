//! JSON-RPC over HTTP(S): one POST per request (a single call or a batch),
//! with HTTP 429 and its `Retry-After` turned into a parking instruction.

use std::time::Duration;

use reqwest::{
    Client, StatusCode, Url,
    header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER},
};

use crate::error::UpstreamError;

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// How much of an error body goes into a message.
const BODY_EXCERPT: usize = 200;

/// One HTTP(S) endpoint.
#[derive(Debug)]
pub struct HttpTransport {
    client: Client,
    url: Url,
    name: String,
    timeout: Duration,
    default_retry_after: Duration,
}

impl HttpTransport {
    /// A transport to `url` through the shared `client` (which holds the
    /// connection pool and the request timeout).
    pub fn new(
        client: Client,
        url: Url,
        name: String,
        timeout: Duration,
        default_retry_after: Duration,
    ) -> Self {
        HttpTransport {
            client,
            url,
            name,
            timeout,
            default_retry_after,
        }
    }

    /// POSTs `body` and returns the answer's bytes (parsed by the caller).
    pub async fn post(&self, body: String) -> Result<bytes::Bytes, UpstreamError> {
        let response = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(UpstreamError::RateLimited {
                endpoint: self.name.clone(),
                retry_after: retry_after(response.headers()).unwrap_or(self.default_retry_after),
            });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.classify(error))?;
        if !status.is_success() {
            return Err(UpstreamError::Http {
                endpoint: self.name.clone(),
                status: status.as_u16(),
                body: excerpt(&bytes),
            });
        }
        Ok(bytes)
    }

    /// Turns a reqwest error into ours, without the URL (it may hold credentials).
    fn classify(&self, error: reqwest::Error) -> UpstreamError {
        if error.is_timeout() {
            return UpstreamError::Timeout {
                endpoint: self.name.clone(),
                after_ms: self.timeout.as_millis() as u64,
            };
        }
        let causes = causes(&error);
        let mut reason = error.without_url().to_string();
        for cause in causes {
            if !reason.contains(&cause) {
                reason.push_str(": ");
                reason.push_str(&cause);
            }
        }
        UpstreamError::Transport {
            endpoint: self.name.clone(),
            reason,
        }
    }
}

/// The error's causes ("connection refused", "connection closed before
/// message completed"), leaving out any that quote a URL.
fn causes(error: &reqwest::Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !text.is_empty() && !text.contains("://") {
            out.push(text);
        }
        cause = inner.source();
    }
    out
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured: the
/// default applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(BODY_EXCERPT).collect();
    if text.chars().count() > BODY_EXCERPT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
        assert_eq!(excerpt(&[b'a'; 300]).chars().count(), BODY_EXCERPT + 1);
    }
}
