//! One configured endpoint: its redacted name, its transport (HTTP or
//! WebSocket), its concurrency limit, its health record and the chain id it
//! serves.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use hypasis_plugin_sdk::{ErrorKind, PluginError, tracing};
use parking_lot::Mutex;
use reqwest::Url;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::{
    error::UpstreamError,
    http::HttpTransport,
    options::{Options, Settings},
    score::{Health, Outcome},
    ws::WsTransport,
};

/// How requests reach the endpoint.
#[derive(Debug)]
pub enum Transport {
    /// `http://` or `https://`.
    Http(HttpTransport),
    /// `ws://` or `wss://`: calls over the socket, and `newHeads`.
    Ws(WsTransport),
}

/// One endpoint.
#[derive(Debug)]
pub struct Endpoint {
    index: usize,
    name: String,
    url: String,
    transport: Transport,
    limit: Semaphore,
    health: Mutex<Health>,
    /// The chain id it reported; 0 until known.
    chain_id: AtomicU64,
}

impl Endpoint {
    /// Builds endpoint `index` of the configuration; `name` is its unique
    /// redacted name.
    pub fn new(
        index: usize,
        url: &str,
        name: String,
        client: &reqwest::Client,
        settings: &Settings,
        options: &Options,
        shutdown: &CancellationToken,
    ) -> Result<Self, PluginError> {
        let parsed = Url::parse(url).map_err(|error| {
            PluginError::new(
                ErrorKind::Config,
                format!("upstream-jsonrpc: endpoint {index} ({name}): not a URL: {error}"),
            )
        })?;
        let transport = match parsed.scheme() {
            "http" | "https" => Transport::Http(HttpTransport::new(
                client.clone(),
                parsed,
                name.clone(),
                settings.request_timeout(),
                Duration::from_millis(options.default_retry_after_ms),
                options.max_answer_bytes,
            )),
            "ws" | "wss" => Transport::Ws(WsTransport::new(
                url.to_string(),
                name.clone(),
                settings.request_timeout(),
                options.max_answer_bytes,
                shutdown.clone(),
            )),
            other => {
                return Err(PluginError::new(
                    ErrorKind::Config,
                    format!(
                        "upstream-jsonrpc: endpoint {index} ({name}): scheme `{other}` is not http(s) or ws(s)"
                    ),
                ));
            }
        };
        Ok(Endpoint {
            index,
            name,
            url: url.to_string(),
            transport,
            limit: Semaphore::new(options.max_concurrency_per_endpoint.max(1)),
            health: Mutex::new(Health::new(Instant::now())),
            chain_id: AtomicU64::new(0),
        })
    }

    /// Its position in the configuration.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its redacted name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `reference` names this endpoint (its redacted name or its URL).
    pub fn matches(&self, reference: &str) -> bool {
        self.name == reference || self.url == reference
    }

    /// The WebSocket transport, when the endpoint is ws(s).
    pub fn ws(&self) -> Option<&WsTransport> {
        match &self.transport {
            Transport::Ws(ws) => Some(ws),
            Transport::Http(_) => None,
        }
    }

    /// Sends one request body (whose first id is `key`) within the
    /// endpoint's concurrency limit and returns the answer's bytes.
    pub async fn exchange(&self, key: u64, body: String) -> Result<bytes::Bytes, UpstreamError> {
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| UpstreamError::Shutdown)?;
        match &self.transport {
            Transport::Http(http) => http.post(body).await,
            Transport::Ws(ws) => ws.send(key, body).await.map(bytes::Bytes::from),
        }
    }

    /// Books one request, and logs when the endpoint turns unhealthy or
    /// healthy again.
    pub fn record(&self, outcome: Outcome, options: &Options) {
        let now = Instant::now();
        let (was, is) = {
            let mut health = self.health.lock();
            let was = health.healthy(now, options);
            health.record(outcome, now, options);
            (was, health.healthy(now, options))
        };
        match (was, is, outcome) {
            (true, false, Outcome::RateLimited { until }) => tracing::warn!(
                endpoint = self.name,
                parked_ms = until.saturating_duration_since(now).as_millis() as u64,
                "endpoint rate limited (HTTP 429); parked"
            ),
            (true, false, _) => tracing::warn!(endpoint = self.name, "endpoint unhealthy"),
            (false, true, _) => tracing::info!(endpoint = self.name, "endpoint healthy again"),
            _ => {}
        }
    }

    /// Reads or changes the health record.
    pub fn with_health<R>(&self, change: impl FnOnce(&mut Health) -> R) -> R {
        change(&mut self.health.lock())
    }

    /// The chain id it reported.
    pub fn chain_id(&self) -> Option<u64> {
        match self.chain_id.load(Ordering::Acquire) {
            0 => None,
            id => Some(id),
        }
    }

    /// Remembers the chain id it reported.
    pub fn set_chain_id(&self, id: u64) {
        self.chain_id.store(id, Ordering::Release);
    }

    /// Stops new requests from waiting for a slot.
    pub fn close(&self) {
        self.limit.close();
    }
}

/// The endpoint's name for logs and status: scheme, host, port and path,
/// without user info, query or fragment, and with path segments that look
/// like API keys replaced by `***`.
pub fn redact(url: &str) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return "<invalid url>".into();
    };
    let mut name = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
    if let Some(port) = parsed.port() {
        name.push_str(&format!(":{port}"));
    }
    let path = parsed
        .path()
        .split('/')
        .map(|segment| {
            if looks_secret(segment) {
                "***"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    if path != "/" {
        name.push_str(&path);
    }
    name
}

/// A path segment that is probably a key: long, and mixing digits with
/// letters (Infura's `/v3/<key>`, Alchemy's `/v2/<key>`, QuickNode tokens).
fn looks_secret(segment: &str) -> bool {
    segment.len() >= 16
        && segment.chars().any(|c| c.is_ascii_digit())
        && segment.chars().any(|c| c.is_ascii_alphabetic())
}

/// Redacted names for all `urls`, made unique with a `#n` suffix.
pub fn unique_names(urls: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(urls.len());
    for url in urls {
        let base = redact(url);
        let mut name = base.clone();
        let mut copy = 2;
        while names.contains(&name) {
            name = format!("{base}#{copy}");
            copy += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hide_credentials() {
        assert_eq!(
            redact("https://user:pass@polygon.example.com:8443/rpc?key=abc#x"),
            "https://polygon.example.com:8443/rpc"
        );
        assert_eq!(
            redact("wss://polygon-mainnet.g.alchemy.com/v2/AbCdEf0123456789xyz"),
            "wss://polygon-mainnet.g.alchemy.com/v2/***"
        );
        assert_eq!(redact("http://127.0.0.1:8547"), "http://127.0.0.1:8547");
        assert_eq!(redact("not a url"), "<invalid url>");
        assert_eq!(
            unique_names(&["http://a/?k=1".into(), "http://a/?k=2".into()]),
            vec!["http://a".to_string(), "http://a#2".to_string()]
        );
    }
}
