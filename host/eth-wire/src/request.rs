//! The EIP-2481 request id: every request and its response travel as
//! `[request_id, message]`.

use alloy_rlp::{RlpDecodable, RlpEncodable};

/// A request or response with its EIP-2481 request id. The id is chosen by
/// the requester (any 64-bit value, duplicates allowed) and echoed verbatim.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct RequestPair<T> {
    /// The requester's id, echoed in the response.
    pub request_id: u64,
    /// The request or response itself.
    pub message: T,
}

impl<T> RequestPair<T> {
    /// Pairs `message` with `request_id`.
    pub const fn new(request_id: u64, message: T) -> Self {
        RequestPair {
            request_id,
            message,
        }
    }

    /// A response to this request: the same id with `response`.
    pub fn respond<R>(&self, response: R) -> RequestPair<R> {
        RequestPair::new(self.request_id, response)
    }
}
