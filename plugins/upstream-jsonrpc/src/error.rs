//! What can go wrong talking to an endpoint, and how each failure maps to
//! the ABI's error kinds (which tell the host to retry, fail over or stop).

use std::time::Duration;

use hypasis_plugin_sdk::{ErrorKind, PluginError};

/// One failure, naming the endpoint (redacted) it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The connection failed or closed without an answer.
    #[error("{endpoint}: {reason}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// What happened.
        reason: String,
    },
    /// No answer within the request timeout.
    #[error("{endpoint}: no answer within {after_ms} ms")]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The timeout.
        after_ms: u64,
    },
    /// HTTP 429: the endpoint is parked until `retry_after` has passed.
    #[error("{endpoint}: rate limited (HTTP 429), retry after {} ms", retry_after.as_millis())]
    RateLimited {
        /// The endpoint.
        endpoint: String,
        /// How long it asked us to wait.
        retry_after: Duration,
    },
    /// Another HTTP status than 200.
    #[error("{endpoint}: HTTP {status}: {body}")]
    Http {
        /// The endpoint.
        endpoint: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A JSON-RPC error object.
    #[error("{endpoint}: {method}: JSON-RPC error {code}: {message}")]
    Rpc {
        /// The endpoint.
        endpoint: String,
        /// The method called.
        method: String,
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The answer is not a JSON-RPC response (not JSON, ids that do not match).
    #[error("{endpoint}: malformed response: {reason}")]
    Malformed {
        /// The endpoint.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint served data that is wrong: a hash that does not match
    /// the fields, a block other than the one asked for.
    #[error("{endpoint}: block {block}: bad data: {reason}")]
    BadData {
        /// The endpoint.
        endpoint: String,
        /// The block.
        block: u64,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint does not have it (a block above its head, receipts it
    /// has pruned): `null` where data was expected.
    #[error("{endpoint}: block {block}: {what} not available")]
    Missing {
        /// The endpoint.
        endpoint: String,
        /// The block.
        block: u64,
        /// What is missing.
        what: &'static str,
    },
    /// Something this plugin cannot rebuild (uncles, an unknown
    /// transaction type).
    #[error("{endpoint}: block {block}: unsupported: {reason}")]
    Unsupported {
        /// The endpoint.
        endpoint: String,
        /// The block.
        block: u64,
        /// What.
        reason: String,
    },
    /// No endpoint could be asked at all.
    #[error("no usable endpoint: {0}")]
    NoEndpoint(String),
    /// The request itself is unusable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The plugin is shut down.
    #[error("the upstream plugin is shut down")]
    Shutdown,
    /// Every endpoint failed; the kind is what their failures had in common.
    #[error("{message}")]
    Summary {
        /// The common kind (`Unavailable` when they differ).
        kind: ErrorKind,
        /// Each endpoint's last failure.
        message: String,
    },
}

/// JSON-RPC error codes that say "this endpoint cannot answer now", as
/// opposed to an answer (a revert, invalid params) that another endpoint
/// would give as well.
const ENDPOINT_TROUBLE_CODES: [i64; 6] = [-32603, -32005, -32002, -32601, -32004, -32099];

impl UpstreamError {
    /// The endpoint the failure is about, if any.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            UpstreamError::Transport { endpoint, .. }
            | UpstreamError::Timeout { endpoint, .. }
            | UpstreamError::RateLimited { endpoint, .. }
            | UpstreamError::Http { endpoint, .. }
            | UpstreamError::Rpc { endpoint, .. }
            | UpstreamError::Malformed { endpoint, .. }
            | UpstreamError::BadData { endpoint, .. }
            | UpstreamError::Missing { endpoint, .. }
            | UpstreamError::Unsupported { endpoint, .. } => Some(endpoint),
            UpstreamError::NoEndpoint(_)
            | UpstreamError::InvalidRequest(_)
            | UpstreamError::Shutdown
            | UpstreamError::Summary { .. } => None,
        }
    }

    /// The ABI error kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            UpstreamError::Timeout { .. } => ErrorKind::Timeout,
            UpstreamError::RateLimited { .. } => ErrorKind::RateLimited,
            UpstreamError::BadData { .. } => ErrorKind::BadData,
            UpstreamError::Unsupported { .. } => ErrorKind::Unsupported,
            UpstreamError::InvalidRequest(_) => ErrorKind::InvalidInput,
            UpstreamError::Shutdown => ErrorKind::Shutdown,
            UpstreamError::Summary { kind, .. } => *kind,
            UpstreamError::Rpc {
                code: -32601 | -32004,
                ..
            } => ErrorKind::Unsupported,
            UpstreamError::Rpc { code, .. } if !Self::is_trouble_code(*code) => {
                ErrorKind::InvalidInput
            }
            UpstreamError::Transport { .. }
            | UpstreamError::Http { .. }
            | UpstreamError::Rpc { .. }
            | UpstreamError::Malformed { .. }
            | UpstreamError::Missing { .. }
            | UpstreamError::NoEndpoint(_) => ErrorKind::Unavailable,
        }
    }

    fn is_trouble_code(code: i64) -> bool {
        ENDPOINT_TROUBLE_CODES.contains(&code) || (-32099..=-32006).contains(&code)
    }

    /// True when a JSON-RPC error is the endpoint's trouble (retry, or ask
    /// another), false for an answer any endpoint would give.
    pub fn is_endpoint_trouble(&self) -> bool {
        match self {
            UpstreamError::Rpc { code, .. } => Self::is_trouble_code(*code),
            UpstreamError::InvalidRequest(_) | UpstreamError::Shutdown => false,
            UpstreamError::Summary { kind, .. } => *kind != ErrorKind::InvalidInput,
            _ => true,
        }
    }

    /// True when the endpoint should not be asked again for the same data
    /// within one request: it lied, or does not have it.
    pub fn rules_out_endpoint(&self) -> bool {
        matches!(
            self,
            UpstreamError::BadData { .. }
                | UpstreamError::Missing { .. }
                | UpstreamError::Unsupported { .. }
                | UpstreamError::Malformed { .. }
        )
    }
}

impl From<UpstreamError> for PluginError {
    fn from(error: UpstreamError) -> Self {
        PluginError::new(error.kind(), error.to_string())
    }
}

/// The error to return once every endpoint failed: its kind says what the
/// failures had in common, its message lists each endpoint's last failure.
pub fn summarize(what: &str, failures: &[UpstreamError]) -> UpstreamError {
    let Some(last) = failures.last() else {
        return UpstreamError::NoEndpoint(format!("{what}: no endpoint to ask"));
    };
    if failures.len() == 1 {
        return last.clone();
    }
    // Keep each endpoint's last failure, in the order they were tried.
    let mut seen: Vec<&UpstreamError> = Vec::new();
    for failure in failures.iter().rev() {
        if !seen
            .iter()
            .any(|kept| kept.endpoint() == failure.endpoint())
        {
            seen.push(failure);
        }
    }
    seen.reverse();
    if seen.len() == 1 {
        return last.clone();
    }
    let message = format!(
        "{what}: every endpoint failed: {}",
        seen.iter()
            .map(|failure| failure.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    );
    // The kind they share, else `Unavailable` (retry later).
    let kind = seen
        .iter()
        .map(|failure| failure.kind())
        .reduce(|a, b| if a == b { a } else { ErrorKind::Unavailable })
        .unwrap_or(ErrorKind::Unavailable);
    UpstreamError::Summary { kind, message }
}
