//! JSON-RPC 2.0 framing as go-ethereum speaks it, written once for every
//! server in the workspace (the host's API, the devnet's upstream and the
//! devnet's L1):
//!
//! - [`Body::parse`] reads a request body into one [`Entry`] or a batch of
//!   them: a call (has an `id`), a notification (no `id`: run, never
//!   answered) or an invalid entry (answered with `-32600`);
//! - [`Response`] writes the answer as chunks, so a result rendered earlier
//!   ([`Reply::Raw`]) is sent without being copied or re-encoded;
//! - [`answer`] ties the two together for a synchronous method table;
//! - [`subscription_notification`] frames an `eth_subscription` push.
//!
//! Error messages are go-ethereum's (`parse error`, `invalid request`,
//! `empty batch`); what exactly was wrong goes in the error's `data`.

mod body;
mod error;
mod response;

pub use body::{Body, Entry};
pub use error::{
    EXECUTION_REVERTED, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, LIMIT_EXCEEDED,
    METHOD_NOT_FOUND, PARSE_ERROR, RESOURCE_NOT_FOUND, RpcError, SERVER_ERROR,
};
pub use response::{Reply, Response, subscription_notification};

use serde_json::Value;

/// Answers a request body (one call or a batch) with `call(method, params)`.
/// `None` when nothing is to be sent back: the body held notifications only
/// (they are still run, in order, as go-ethereum runs them).
pub fn answer(
    body: &[u8],
    call: impl FnMut(&str, Option<&Value>) -> Result<Reply, RpcError>,
) -> Option<Response> {
    respond(Body::parse(body), call)
}

/// [`answer`] on a body already read (by [`Body::parse`] or
/// [`Body::from_value`]).
pub fn respond(
    body: Result<Body, RpcError>,
    mut call: impl FnMut(&str, Option<&Value>) -> Result<Reply, RpcError>,
) -> Option<Response> {
    let mut one = |entry: Entry| match entry {
        Entry::Call { id, method, params } => {
            Some(Response::to_call(&id, call(&method, params.as_ref())))
        }
        Entry::Notification { method, params } => {
            // Answered with nothing, whatever it returns.
            let _ = call(&method, params.as_ref());
            None
        }
        Entry::Invalid { id, error } => Some(Response::to_call(&id, Err(error))),
    };
    match body {
        Err(error) => Some(Response::error(error)),
        Ok(Body::Single(entry)) => one(entry),
        Ok(Body::Batch(entries)) => Response::batch(entries.into_iter().filter_map(one)),
    }
}
