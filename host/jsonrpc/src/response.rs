//! Writing responses: one, a batch, and subscription notifications, as
//! chunks that share pre-rendered results.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, value::RawValue};

use crate::RpcError;

/// A call's result.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A value to serialise.
    Value(Value),
    /// JSON text rendered earlier, spliced in as is (shared, not copied).
    Raw(Bytes),
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Reply::Value(value)
    }
}

/// Lets `Bytes` share an `Arc<RawValue>`'s text without copying it.
struct RawText(Arc<RawValue>);

impl AsRef<[u8]> for RawText {
    fn as_ref(&self) -> &[u8] {
        self.0.get().as_bytes()
    }
}

impl From<Arc<RawValue>> for Reply {
    fn from(raw: Arc<RawValue>) -> Self {
        Reply::Raw(Bytes::from_owner(RawText(raw)))
    }
}

impl Reply {
    fn push(self, out: &mut Vec<Bytes>) {
        match self {
            Reply::Value(value) => out.push(Bytes::from(value.to_string())),
            Reply::Raw(text) => out.push(text),
        }
    }
}

/// A response body (one response, or a batch of them) as chunks in order:
/// sent as they are, or joined.
#[derive(Debug, Clone, Default)]
pub struct Response {
    chunks: Vec<Bytes>,
}

fn id_text(id: &Value) -> String {
    // An id is a number, a string or null: it always serialises.
    serde_json::to_string(id).unwrap_or_else(|_| "null".into())
}

impl Response {
    /// The response to the call with `id`.
    pub fn to_call(id: &Value, outcome: Result<Reply, RpcError>) -> Response {
        let mut chunks = Vec::with_capacity(3);
        let id = id_text(id);
        match outcome {
            Ok(reply) => {
                chunks.push(Bytes::from(format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"result":"#
                )));
                reply.push(&mut chunks);
                chunks.push(Bytes::from_static(b"}"));
            }
            Err(error) => {
                let error = serde_json::to_string(&error).unwrap_or_default();
                chunks.push(Bytes::from(format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"error":{error}}}"#
                )));
            }
        }
        Response { chunks }
    }

    /// An error about the whole body (parse error, empty batch, a server
    /// limit): answered with a null id.
    pub fn error(error: RpcError) -> Response {
        Response::to_call(&Value::Null, Err(error))
    }

    /// A batch of responses in order; `None` when there are none (a batch of
    /// notifications gets no answer).
    pub fn batch(responses: impl IntoIterator<Item = Response>) -> Option<Response> {
        let mut chunks = vec![Bytes::from_static(b"[")];
        let mut any = false;
        for response in responses {
            if any {
                chunks.push(Bytes::from_static(b","));
            }
            any = true;
            chunks.extend(response.chunks);
        }
        chunks.push(Bytes::from_static(b"]"));
        any.then_some(Response { chunks })
    }

    /// The chunks, to be sent in order without joining them.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }

    /// The whole body in one buffer.
    pub fn into_bytes(self) -> Bytes {
        match self.chunks.len() {
            1 => self.chunks.into_iter().next().unwrap_or_default(),
            _ => Bytes::from(self.chunks.concat()),
        }
    }

    /// The whole body as text.
    pub fn into_text(self) -> String {
        // Every chunk is JSON text or a slice of it: always UTF-8.
        String::from_utf8(self.into_bytes().into()).unwrap_or_default()
    }
}

/// An `eth_subscription` notification of `result` to `subscription`, as
/// go-ethereum pushes it on a WebSocket.
pub fn subscription_notification(subscription: &str, result: Reply) -> Response {
    let mut chunks = vec![Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","method":"eth_subscription","params":{{"subscription":{},"result":"#,
        id_text(&Value::String(subscription.to_owned()))
    ))];
    result.push(&mut chunks);
    chunks.push(Bytes::from_static(b"}}"));
    Response { chunks }
}
