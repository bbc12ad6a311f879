//! The devnet's side of JSON-RPC: the workspace's one framing
//! (hypasis-jsonrpc) and reading positional parameters.

use serde_json::Value;

pub use hypasis_jsonrpc::{Reply, RpcError};

/// No parameters: what a call without `params` is given.
pub static NO_PARAMS: Value = Value::Array(Vec::new());

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
