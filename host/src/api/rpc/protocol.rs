//! JSON-RPC as this server speaks it: the workspace's one framing
//! (hypasis-jsonrpc: error codes, requests, responses, notifications), and
//! results kept already serialised so cached ones are spliced in without
//! re-encoding.

use std::sync::Arc;

use serde_json::{Value, value::RawValue};

pub use hypasis_jsonrpc::{LIMIT_EXCEEDED, RESOURCE_NOT_FOUND, RpcError};

/// A call's outcome: a result already serialised, or an error.
pub type CallResult = Result<Arc<RawValue>, RpcError>;

/// Serialises `value` as a call result.
pub fn raw(value: &Value) -> Arc<RawValue> {
    // A `Value` always serialises (its map keys are strings); the fallback keeps this total.
    serde_json::value::to_raw_value(value).map_or_else(|_| null(), Arc::from)
}

/// The JSON `null` as a result.
pub fn null() -> Arc<RawValue> {
    Arc::from(RawValue::from_string("null".to_owned()).expect("`null` is JSON"))
}
