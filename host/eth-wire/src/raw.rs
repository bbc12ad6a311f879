//! One complete RLP item kept as its bytes: how headers, bodies, receipts and
//! transactions travel through this crate, so serving stored data is a copy
//! and never a re-encoding.

use alloy_rlp::{Decodable, Encodable, Header};
use bytes::{BufMut, Bytes};

/// The bytes of exactly one RLP item (a string or a list, header included).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawRlp(Bytes);

impl RawRlp {
    /// Wraps `bytes` after checking they are exactly one well-formed RLP item
    /// (its outer header only; the payload is not walked).
    pub fn new(bytes: impl Into<Bytes>) -> Result<Self, alloy_rlp::Error> {
        let bytes = bytes.into();
        let length = item_length(&bytes)?;
        if length != bytes.len() {
            return Err(alloy_rlp::Error::UnexpectedLength);
        }
        Ok(RawRlp(bytes))
    }

    /// The item's bytes, header included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The item's bytes as a cheaply clonable buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Whether the item is an RLP list (as headers, bodies, legacy
    /// receipts and per-block receipt lists are).
    pub fn is_list(&self) -> bool {
        self.0
            .first()
            .is_some_and(|first| *first >= alloy_rlp::EMPTY_LIST_CODE)
    }
}

impl AsRef<[u8]> for RawRlp {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Encodable for RawRlp {
    fn encode(&self, out: &mut dyn BufMut) {
        out.put_slice(&self.0);
    }

    fn length(&self) -> usize {
        self.0.len()
    }
}

impl Decodable for RawRlp {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let length = item_length(buf)?;
        let (item, rest) = buf.split_at(length);
        *buf = rest;
        Ok(RawRlp(Bytes::copy_from_slice(item)))
    }
}

/// Length of the RLP item at the start of `buf` (header plus payload),
/// checking the payload is all there.
pub(crate) fn item_length(buf: &[u8]) -> alloy_rlp::Result<usize> {
    let mut rest = buf;
    let header = Header::decode(&mut rest)?;
    // A single byte below 0x80 is its own payload: `decode` does not advance.
    Ok(buf.len() - rest.len() + header.payload_length)
}

/// Splits the RLP list at the start of `buf` into its items' bytes, advancing
/// `buf` past the list. Refuses a string.
pub(crate) fn split_list<'a>(buf: &mut &'a [u8]) -> alloy_rlp::Result<Vec<&'a [u8]>> {
    let mut payload = Header::decode_bytes(buf, true)?;
    let mut items = Vec::new();
    while !payload.is_empty() {
        let length = item_length(payload)?;
        let (item, rest) = payload.split_at(length);
        items.push(item);
        payload = rest;
    }
    Ok(items)
}

/// Counts the items of the RLP list at the start of `buf` without
/// allocating. Refuses a string.
pub(crate) fn count_list_items(buf: &[u8]) -> alloy_rlp::Result<usize> {
    let mut input = buf;
    let mut payload = Header::decode_bytes(&mut input, true)?;
    let mut count = 0;
    while !payload.is_empty() {
        let length = item_length(payload)?;
        payload = &payload[length..];
        count += 1;
    }
    Ok(count)
}

/// Writes an RLP list whose items are already-encoded RLP items.
pub(crate) fn encode_raw_list<T: AsRef<[u8]>>(items: &[T], out: &mut dyn BufMut) {
    Header {
        list: true,
        payload_length: raw_list_payload_length(items),
    }
    .encode(out);
    for item in items {
        out.put_slice(item.as_ref());
    }
}

/// Payload length of a list of already-encoded RLP items.
pub(crate) fn raw_list_payload_length<T: AsRef<[u8]>>(items: &[T]) -> usize {
    items.iter().map(|item| item.as_ref().len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_exactly_one_item() {
        assert!(RawRlp::new(vec![0x05]).is_ok());
        assert!(RawRlp::new(vec![0x82, 0x04, 0x57]).is_ok());
        assert!(RawRlp::new(vec![0xc2, 0x01, 0x02]).unwrap().is_list());
        // Trailing byte, truncated payload, empty input.
        assert!(RawRlp::new(vec![0x01, 0x02]).is_err());
        assert!(RawRlp::new(vec![0x83, 0x01]).is_err());
        assert!(RawRlp::new(Vec::new()).is_err());
    }

    #[test]
    fn decodes_items_in_sequence() {
        let input = [0xc1, 0x01, 0x80, 0x7f];
        let mut buf = &input[..];
        assert_eq!(RawRlp::decode(&mut buf).unwrap().as_bytes(), &[0xc1, 0x01]);
        assert_eq!(RawRlp::decode(&mut buf).unwrap().as_bytes(), &[0x80]);
        assert_eq!(RawRlp::decode(&mut buf).unwrap().as_bytes(), &[0x7f]);
        assert!(buf.is_empty());
    }

    #[test]
    fn splits_and_counts_lists() {
        let list = [0xc5, 0x01, 0x82, 0x04, 0x57, 0xc0];
        assert_eq!(count_list_items(&list).unwrap(), 3);
        let mut buf = &list[..];
        let items = split_list(&mut buf).unwrap();
        assert_eq!(items, vec![&[0x01][..], &[0x82, 0x04, 0x57], &[0xc0]]);
        let mut out = Vec::new();
        encode_raw_list(&items, &mut out);
        assert_eq!(out, list);
        assert!(count_list_items(&[0x80]).is_err());
    }
}
