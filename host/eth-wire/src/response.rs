//! Building data responses from stored bytes: Bor's serving limits as a
//! budget, and the `[request_id, [item, ...]]` encoding written straight
//! from the stored items (no intermediate message values).

use alloy_rlp::{Encodable, Header};
use bytes::BufMut;

use crate::protocol::{
    MAX_BODIES_SERVE, MAX_HEADERS_SERVE, MAX_LOOKUPS_FACTOR, MAX_RECEIPTS_SERVE,
    SOFT_RESPONSE_LIMIT,
};
use crate::raw::{encode_raw_list, raw_list_payload_length};

/// The limits one response is served under, as Bor's serving loops apply
/// them (`B:eth/protocols/eth/handlers.go`): before each lookup, stop if the
/// reply already holds [`SOFT_RESPONSE_LIMIT`] bytes, or the item limit, or
/// after twice the item limit in lookups. A reply may so exceed the soft
/// limit by its last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseBudget {
    max_items: usize,
    items: usize,
    bytes: usize,
    lookups: usize,
}

impl ResponseBudget {
    /// A budget of `max_items` items and the soft byte limit.
    pub const fn new(max_items: usize) -> Self {
        ResponseBudget {
            max_items,
            items: 0,
            bytes: 0,
            lookups: 0,
        }
    }

    /// The budget of a BlockHeaders reply.
    pub const fn headers() -> Self {
        ResponseBudget::new(MAX_HEADERS_SERVE)
    }

    /// The budget of a BlockBodies reply.
    pub const fn bodies() -> Self {
        ResponseBudget::new(MAX_BODIES_SERVE)
    }

    /// The budget of a Receipts reply.
    pub const fn receipts() -> Self {
        ResponseBudget::new(MAX_RECEIPTS_SERVE)
    }

    /// Whether another lookup may be made; counts it if so.
    pub fn try_lookup(&mut self) -> bool {
        if self.bytes >= SOFT_RESPONSE_LIMIT
            || self.items >= self.max_items
            || self.lookups >= MAX_LOOKUPS_FACTOR * self.max_items
        {
            return false;
        }
        self.lookups += 1;
        true
    }

    /// Records an item of `len` bytes added to the reply.
    pub fn add_item(&mut self, len: usize) {
        self.items += 1;
        self.bytes = self.bytes.saturating_add(len);
    }

    /// Items added so far.
    pub const fn items(&self) -> usize {
        self.items
    }

    /// Bytes added so far.
    pub const fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Encodes a data response `[request_id, [item, ...]]` whose items are
/// already-encoded RLP items (stored headers, bodies, per-block receipt
/// lists), copying each once. Items are trusted: they come from our store.
pub fn encode_raw_response<T: AsRef<[u8]>>(request_id: u64, items: &[T]) -> Vec<u8> {
    let list_payload = raw_list_payload_length(items);
    let list_length = alloy_rlp::length_of_length(list_payload) + list_payload;
    let payload_length = request_id.length() + list_length;
    let mut out = Vec::with_capacity(alloy_rlp::length_of_length(payload_length) + payload_length);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    request_id.encode(&mut out);
    encode_raw_list(items, &mut out as &mut dyn BufMut);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_stops_on_count_and_lookups() {
        let mut budget = ResponseBudget::new(2);
        assert!(budget.try_lookup());
        budget.add_item(10);
        assert!(budget.try_lookup());
        budget.add_item(10);
        assert!(!budget.try_lookup());
        assert_eq!((budget.items(), budget.bytes()), (2, 20));

        let mut misses = ResponseBudget::new(2);
        let lookups = std::iter::from_fn(|| misses.try_lookup().then_some(())).count();
        assert_eq!(lookups, 4);
    }

    #[test]
    fn budget_stops_after_the_item_that_crosses_the_soft_limit() {
        let mut budget = ResponseBudget::bodies();
        assert!(budget.try_lookup());
        budget.add_item(SOFT_RESPONSE_LIMIT - 1);
        assert!(budget.try_lookup());
        budget.add_item(1000);
        assert!(!budget.try_lookup());
        assert_eq!(budget.bytes(), SOFT_RESPONSE_LIMIT + 999);
    }

    #[test]
    fn raw_response_layout() {
        let items: [&[u8]; 2] = [&[0xc1, 0x01], &[0xc0]];
        assert_eq!(
            encode_raw_response(1111, &items),
            [0xc7, 0x82, 0x04, 0x57, 0xc3, 0xc1, 0x01, 0xc0]
        );
        assert_eq!(encode_raw_response::<&[u8]>(0, &[]), [0xc2, 0x80, 0xc0]);
    }
}
