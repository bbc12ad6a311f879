//! Error codes and the error object.

use serde::Serialize;
use serde_json::Value;

/// Invalid JSON (JSON-RPC 2.0).
pub const PARSE_ERROR: i64 = -32700;
/// Not a valid request object (JSON-RPC 2.0).
pub const INVALID_REQUEST: i64 = -32600;
/// No such method (JSON-RPC 2.0).
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters (JSON-RPC 2.0).
pub const INVALID_PARAMS: i64 = -32602;
/// Internal error (JSON-RPC 2.0).
pub const INTERNAL_ERROR: i64 = -32603;
/// go-ethereum's code for a call that failed (unknown block, refused
/// transaction, …).
pub const SERVER_ERROR: i64 = -32000;
/// Resource not found (EIP-1474).
pub const RESOURCE_NOT_FOUND: i64 = -32001;
/// Limit exceeded (EIP-1474): the caller is over its rate limit.
pub const LIMIT_EXCEEDED: i64 = -32005;
/// go-ethereum's code for a reverted `eth_call` (the revert data in `data`).
pub const EXECUTION_REVERTED: i64 = 3;

/// A JSON-RPC error object: code, message and optional data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// More about it (revert data, the exact reason a request was invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The same error carrying `data`.
    pub fn with_data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// -32700, go-ethereum's `parse error`, the parser's reason as data.
    pub fn parse(reason: impl std::fmt::Display) -> Self {
        RpcError::new(PARSE_ERROR, "parse error").with_data(reason.to_string())
    }

    /// -32600 with `message` (`invalid request` in go-ethereum's words for a
    /// malformed entry; a server names its own limits).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_REQUEST, message)
    }

    /// -32601, worded as go-ethereum words it.
    pub fn method_not_found(method: &str) -> Self {
        RpcError::new(
            METHOD_NOT_FOUND,
            format!("the method {method} does not exist/is not available"),
        )
    }

    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }

    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        RpcError::new(INTERNAL_ERROR, message)
    }

    /// -32000, a call that failed on the server's side.
    pub fn server(message: impl Into<String>) -> Self {
        RpcError::new(SERVER_ERROR, message)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        match &self.data {
            Some(Value::String(data)) => write!(f, ": {data}"),
            Some(data) => write!(f, ": {data}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for RpcError {}
