//! JSON-RPC 2.0 framing: single calls and batches, and the error shapes
//! go-ethereum answers with.

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
    /// Pre-rendered JSON text.
    Raw(std::sync::Arc<str>),
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Reply::Value(value)
    }
}

fn response_text(id: &Value, outcome: Result<Reply, RpcError>) -> String {
    match outcome {
        Ok(Reply::Value(value)) => success(id, value).to_string(),
        Ok(Reply::Raw(text)) => {
            // Sized once: answers are up to megabytes, and growing the
            // string as `format!` does would copy them several times.
            let id = id.to_string();
            let mut out = String::with_capacity(text.len() + id.len() + 40);
            out.push_str(r#"{"jsonrpc":"2.0","id":"#);
            out.push_str(&id);
            out.push_str(r#","result":"#);
            out.push_str(&text);
            out.push('}');
            out
        }
        Err(error) => failure(id, &error).to_string(),
    }
}

/// Answers a request body (one call or a batch) with `call(method, params)`,
/// as response text.
pub fn answer(
    body: &[u8],
    mut call: impl FnMut(&str, &Value) -> Result<Reply, RpcError>,
) -> String {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return failure(
                &Value::Null,
                &RpcError {
                    code: -32700,
                    message: format!("parse error: {error}"),
                },
            )
            .to_string();
        }
    };
    let mut one = |call_value: &Value| -> String {
        let id = call_value.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = call_value.get("method").and_then(Value::as_str) else {
            return response_text(
                &id,
                Err(RpcError {
                    code: -32600,
                    message: "invalid request".into(),
                }),
            );
        };
        if call_value.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return response_text(
                &id,
                Err(RpcError {
                    code: -32600,
                    message: "invalid request: jsonrpc must be \"2.0\"".into(),
                }),
            );
        }
        let params = call_value
            .get("params")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        response_text(&id, call(method, &params))
    };
    match &request {
        Value::Array(calls) if calls.is_empty() => response_text(
            &Value::Null,
            Err(RpcError {
                code: -32600,
                message: "empty batch".into(),
            }),
        ),
        Value::Array(calls) => {
            let answers: Vec<String> = calls.iter().map(&mut one).collect();
            let mut out = String::with_capacity(
                answers.iter().map(|answer| answer.len() + 1).sum::<usize>() + 2,
            );
            out.push('[');
            for (index, answer) in answers.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(answer);
            }
            out.push(']');
            out
        }
        Value::Object(_) => one(&request),
        _ => response_text(
            &Value::Null,
            Err(RpcError {
                code: -32600,
                message: "invalid request".into(),
            }),
        ),
    }
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
