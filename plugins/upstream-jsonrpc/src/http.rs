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
    max_answer: usize,
}

impl HttpTransport {
    /// A transport to `url` through the shared `client` (which holds the
    /// connection pool and the request timeout); bodies longer than
    /// `max_answer` bytes are refused.
    pub fn new(
        client: Client,
        url: Url,
        name: String,
        timeout: Duration,
        default_retry_after: Duration,
        max_answer: usize,
    ) -> Self {
        HttpTransport {
            client,
            url,
            name,
            timeout,
            default_retry_after,
            max_answer,
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
        let bytes = self.read_body(response).await?;
        if !status.is_success() {
            return Err(UpstreamError::Http {
                endpoint: self.name.clone(),
                status: status.as_u16(),
                body: excerpt(&bytes),
            });
        }
        Ok(bytes)
    }

    /// The whole body, refused as malformed once it is longer than
    /// `max_answer` (at once when `Content-Length` says so), so an endpoint
    /// cannot fill memory with one answer.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<bytes::Bytes, UpstreamError> {
        let too_long = || UpstreamError::Malformed {
            endpoint: self.name.clone(),
            reason: format!("the answer is longer than {} bytes", self.max_answer),
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_answer as u64)
        {
            return Err(too_long());
        }
        // The chunks as hyper hands them over, joined once at the end.
        let mut chunks = Vec::new();
        let mut length = 0usize;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.classify(error))?
        {
            length += chunk.len();
            if length > self.max_answer {
                return Err(too_long());
            }
            chunks.push(chunk);
        }
        if chunks.len() == 1 {
            return Ok(chunks.swap_remove(0));
        }
        let mut body = Vec::with_capacity(length);
        for chunk in &chunks {
            body.extend_from_slice(chunk);
        }
        Ok(bytes::Bytes::from(body))
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

    /// A one-connection HTTP server on a real socket that reads one request
    /// and writes `answer` as the whole response.
    async fn answering(answer: Vec<u8>) -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(&answer).await;
            let _ = socket.shutdown().await;
        });
        Url::parse(&format!("http://{address}/")).unwrap()
    }

    fn transport(url: Url, max_answer: usize) -> HttpTransport {
        HttpTransport::new(
            Client::new(),
            url,
            "test".into(),
            Duration::from_secs(5),
            Duration::from_secs(1),
            max_answer,
        )
    }

    fn chunked(body: &[u8], pieces: usize) -> Vec<u8> {
        let mut out =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        for piece in body.chunks(body.len().div_ceil(pieces)) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[tokio::test]
    async fn answers_longer_than_the_limit_are_refused() {
        // Announced too long: refused from the header, body never read.
        let url =
            answering(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n{}".to_vec()).await;
        let error = transport(url, 4096).post("{}".into()).await.unwrap_err();
        assert!(
            matches!(&error, UpstreamError::Malformed { reason, .. } if reason.contains("longer than 4096")),
            "{error}"
        );
        assert!(error.rules_out_endpoint());

        // Streamed without a length: refused once the chunks pass the limit.
        let url = answering(chunked(&[b' '; 10_000], 5)).await;
        let error = transport(url, 4096).post("{}".into()).await.unwrap_err();
        assert!(matches!(error, UpstreamError::Malformed { .. }), "{error}");

        // Within the limit, chunked and with a length: the exact bytes.
        let body = br#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#;
        let url = answering(chunked(body, 3)).await;
        let got = transport(url, body.len()).post("{}".into()).await.unwrap();
        assert_eq!(&got[..], body);
        let mut answer =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        answer.extend_from_slice(body);
        let url = answering(answer).await;
        let got = transport(url, body.len()).post("{}".into()).await.unwrap();
        assert_eq!(&got[..], body);
    }
}
