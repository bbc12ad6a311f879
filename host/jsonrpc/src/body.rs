//! Reading a request body: one entry or a batch, each a call, a
//! notification or an invalid entry.

use serde_json::{Map, Value};

use crate::RpcError;

/// One entry of a request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A call: answered with its `id`.
    Call {
        /// The request id (a number, a string or null).
        id: Value,
        /// The method name.
        method: String,
        /// The parameters, as sent (absent when not sent).
        params: Option<Value>,
    },
    /// A request without `id`: run, never answered.
    Notification {
        /// The method name.
        method: String,
        /// The parameters, as sent.
        params: Option<Value>,
    },
    /// Not a valid request object: answered with `error` (and the `id`
    /// when one could be read, else null).
    Invalid {
        /// The id to answer with.
        id: Value,
        /// Why it is invalid.
        error: RpcError,
    },
}

/// A request body: one entry, or a non-empty batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A single request.
    Single(Entry),
    /// A batch, in order.
    Batch(Vec<Entry>),
}

impl Body {
    /// Reads a request body. Invalid JSON (`-32700`) and an empty batch
    /// (`-32600`) fail the whole body; a malformed entry becomes
    /// [`Entry::Invalid`] in its place.
    pub fn parse(body: &[u8]) -> Result<Body, RpcError> {
        let value: Value = serde_json::from_slice(body).map_err(RpcError::parse)?;
        Body::from_value(value)
    }

    /// [`Body::parse`] on an already parsed value.
    pub fn from_value(value: Value) -> Result<Body, RpcError> {
        match value {
            Value::Array(entries) if entries.is_empty() => {
                Err(RpcError::invalid_request("empty batch"))
            }
            Value::Array(entries) => Ok(Body::Batch(
                entries.into_iter().map(Entry::from_value).collect(),
            )),
            single => Ok(Body::Single(Entry::from_value(single))),
        }
    }

    /// How many entries it holds (what a rate limit charges).
    pub fn len(&self) -> usize {
        match self {
            Body::Single(_) => 1,
            Body::Batch(entries) => entries.len(),
        }
    }

    /// Never: a batch is not empty. Present for `len`'s sake.
    pub fn is_empty(&self) -> bool {
        false
    }
}

fn invalid(id: Value, reason: &str) -> Entry {
    Entry::Invalid {
        id,
        error: RpcError::invalid_request("invalid request").with_data(reason),
    }
}

impl Entry {
    /// Reads one request object.
    pub fn from_value(value: Value) -> Entry {
        let Value::Object(mut object) = value else {
            return invalid(Value::Null, "not a request object");
        };
        let id = match object.remove("id") {
            None => None,
            Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id),
            Some(_) => return invalid(Value::Null, "`id` must be a number, a string or null"),
        };
        let answer_id = || id.clone().unwrap_or(Value::Null);
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid(answer_id(), "`jsonrpc` must be \"2.0\"");
        }
        let method = match take_method(&mut object) {
            Some(method) => method,
            None => return invalid(answer_id(), "`method` must be a non-empty string"),
        };
        let params = object.remove("params");
        match id {
            Some(id) => Entry::Call { id, method, params },
            None => Entry::Notification { method, params },
        }
    }
}

fn take_method(object: &mut Map<String, Value>) -> Option<String> {
    match object.remove("method") {
        Some(Value::String(method)) if !method.is_empty() => Some(method),
        _ => None,
    }
}
