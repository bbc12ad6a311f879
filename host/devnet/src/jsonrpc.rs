//! JSON-RPC 2.0 framing: single calls and batches, and the error shapes
//! go-ethereum answers with.

use bytes::Bytes;
use serde_json::{Value, json};

/// A JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// Error code.
    pub code: i64,
    /// Message.
    pub message: String,
}

impl RpcError {
    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError {
            code: -32602,
            message: message.into(),
        }
    }

    /// -32601, with geth's wording.
    pub fn method_not_found(method: &str) -> Self {
        RpcError {
            code: -32601,
            message: format!("the method {method} does not exist/is not available"),
        }
    }

    /// -32000, a server-side failure with a message.
    pub fn server(message: impl Into<String>) -> Self {
        RpcError {
            code: -32000,
            message: message.into(),
        }
    }
}

/// Builds a success response.
pub fn success(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// Builds an error response.
pub fn failure(id: &Value, error: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": error.code, "message": error.message } })
}

/// A call's result: a JSON value, or JSON text rendered earlier (served
/// as is, so a cached block is not re-serialised).
#[derive(Debug, Clone)]
pub enum Reply {
    /// A value to serialise.
    Value(Value),
    /// Pre-rendered JSON text (shared, never copied to be sent).
    Raw(Bytes),
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Reply::Value(value)
    }
}

/// Appends one call's response to `out` as chunks: a pre-rendered result
/// is shared, not copied (answers are up to megabytes, and a batch holds
/// many).
fn push_response(out: &mut Vec<Bytes>, id: &Value, outcome: Result<Reply, RpcError>) {
    match outcome {
        Ok(Reply::Value(value)) => out.push(Bytes::from(success(id, value).to_string())),
        Ok(Reply::Raw(text)) => {
            out.push(Bytes::from(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":"#
            )));
            out.push(text);
            out.push(Bytes::from_static(b"}"));
        }
        Err(error) => out.push(Bytes::from(failure(id, &error).to_string())),
    }
}

/// Answers a request body (one call or a batch) with `call(method, params)`,
/// as response text.
pub fn answer(body: &[u8], call: impl FnMut(&str, &Value) -> Result<Reply, RpcError>) -> String {
    let chunks = answer_chunks(body, call);
    let mut text = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
    for chunk in &chunks {
        text.extend_from_slice(chunk);
    }
    // Every chunk is UTF-8: JSON text or a pre-rendered `str`.
    String::from_utf8(text).unwrap_or_default()
}

/// Answers a request body (one call or a batch) with `call(method, params)`,
/// as the response's chunks in order (sent without joining them).
pub fn answer_chunks(
    body: &[u8],
    mut call: impl FnMut(&str, &Value) -> Result<Reply, RpcError>,
) -> Vec<Bytes> {
    let invalid = |message: &str| RpcError {
        code: -32600,
        message: message.to_string(),
    };
    let mut out = Vec::new();
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let error = RpcError {
                code: -32700,
                message: format!("parse error: {error}"),
            };
            push_response(&mut out, &Value::Null, Err(error));
            return out;
        }
    };
    let mut one = |out: &mut Vec<Bytes>, call_value: &Value| {
        let id = call_value.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = call_value.get("method").and_then(Value::as_str) else {
            return push_response(out, &id, Err(invalid("invalid request")));
        };
        if call_value.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return push_response(
                out,
                &id,
                Err(invalid("invalid request: jsonrpc must be \"2.0\"")),
            );
        }
        let params = call_value
            .get("params")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        push_response(out, &id, call(method, &params));
    };
    match &request {
        Value::Array(calls) if calls.is_empty() => {
            push_response(&mut out, &Value::Null, Err(invalid("empty batch")));
        }
        Value::Array(calls) => {
            out.push(Bytes::from_static(b"["));
            for (index, call_value) in calls.iter().enumerate() {
                if index > 0 {
                    out.push(Bytes::from_static(b","));
                }
                one(&mut out, call_value);
            }
            out.push(Bytes::from_static(b"]"));
        }
        Value::Object(_) => one(&mut out, &request),
        _ => push_response(&mut out, &Value::Null, Err(invalid("invalid request"))),
    }
    out
}

/// The `index`-th parameter.
pub fn param(params: &Value, index: usize) -> Option<&Value> {
    params
        .as_array()
        .and_then(|list| list.get(index))
        .filter(|value| !value.is_null())
}

/// A u64 parameter given as a JSON number or a hex quantity.
pub fn param_u64(params: &Value, index: usize, name: &str) -> Result<u64, RpcError> {
    match param(params, index) {
        Some(Value::Number(number)) => number
            .as_u64()
            .ok_or_else(|| RpcError::invalid_params(format!("{name}: not a u64"))),
        Some(Value::String(text)) => hypasis_polygon::rpc_json::parse_u64("param", text)
            .map_err(|error| RpcError::invalid_params(format!("{name}: {error}"))),
        _ => Err(RpcError::invalid_params(format!(
            "missing value for required argument {index} ({name})"
        ))),
    }
}
