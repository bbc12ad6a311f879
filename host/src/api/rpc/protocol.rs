//! JSON-RPC 2.0 as go-ethereum speaks it: error codes, the response
//! envelope, and this server's limits.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, value::RawValue};

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
/// Limit exceeded (EIP-1474): the caller is over its rate limit.
pub const LIMIT_EXCEEDED: i64 = -32005;
/// Resource not found (EIP-1474): an upstream proxy could not find it.
pub const RESOURCE_NOT_FOUND: i64 = -32001;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpcError {
    /// The code.
    pub code: i64,
    /// What went wrong.
    pub message: String,
}

impl RpcError {
    /// An error with `code`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, message)
    }

    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_REQUEST, message)
    }

    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        RpcError::new(INTERNAL_ERROR, message)
    }

    /// -32601, worded as go-ethereum words it.
    pub fn method_not_found(method: &str) -> Self {
        RpcError::new(
            METHOD_NOT_FOUND,
            format!("the method {method} does not exist/is not available"),
        )
    }
}

/// A call's outcome: a result already serialised (cached results are
/// spliced in without re-encoding), or an error.
pub type CallResult = Result<Arc<RawValue>, RpcError>;

/// One response object.
#[derive(Debug, Serialize)]
pub struct Response<'a> {
    /// Always "2.0".
    pub jsonrpc: &'static str,
    /// The request's id (null when it could not be read).
    pub id: &'a Value,
    /// The result, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a RawValue>,
    /// The error, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a RpcError>,
}

impl<'a> Response<'a> {
    /// The response to a call with `id`.
    pub fn new(id: &'a Value, outcome: &'a CallResult) -> Self {
        match outcome {
            Ok(result) => Response {
                jsonrpc: "2.0",
                id,
                result: Some(result),
                error: None,
            },
            Err(error) => Response {
                jsonrpc: "2.0",
                id,
                result: None,
                error: Some(error),
            },
        }
    }
}

/// Serialises `value` as a call result.
pub fn raw(value: &Value) -> Arc<RawValue> {
    // A `Value` always serialises (its map keys are strings); the fallback keeps this total.
    serde_json::value::to_raw_value(value).map_or_else(|_| null(), Arc::from)
}

/// The JSON `null` as a result.
pub fn null() -> Arc<RawValue> {
    Arc::from(RawValue::from_string("null".to_owned()).expect("`null` is JSON"))
}
