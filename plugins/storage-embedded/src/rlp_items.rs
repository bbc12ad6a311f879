//! Just enough RLP to walk the values the store derives things from: a
//! block's receipts list (`receipt_codec`) and a body's transactions (the
//! transaction hashes the index is unwound by). Every function returns
//! `None` on bytes that are not well-formed RLP, never panics.

use alloy_primitives::keccak256;
use alloy_rlp::Header;
use hypasis_plugin_sdk::api::H256;

/// Splits an RLP item at the start of `data`: (its header, the whole item).
pub(crate) fn item(data: &[u8]) -> Option<(Header, &[u8])> {
    let mut rest = data;
    let header = Header::decode(&mut rest).ok()?;
    let header_len = data.len() - rest.len();
    let total = header_len.checked_add(header.payload_length)?;
    (total <= data.len()).then(|| (header, &data[..total]))
}

/// The payload of a whole RLP item (its bytes after the header).
pub(crate) fn payload<'a>(whole: &'a [u8], header: &Header) -> &'a [u8] {
    &whole[whole.len() - header.payload_length..]
}

/// Every item of an RLP list payload.
pub(crate) fn items(mut payload: &[u8]) -> Option<Vec<(Header, &[u8])>> {
    let mut out = Vec::new();
    while !payload.is_empty() {
        let (header, whole) = item(payload)?;
        payload = &payload[whole.len()..];
        out.push((header, whole));
    }
    Some(out)
}

/// The EIP-2718 encoding a list item carries: a legacy transaction or
/// receipt is its RLP list, a typed one travels as a byte string holding
/// its envelope.
pub(crate) fn envelope<'a>(whole: &'a [u8], header: &Header) -> &'a [u8] {
    if header.list {
        whole
    } else {
        payload(whole, header)
    }
}

/// The items of `data` when it is exactly one RLP list.
pub(crate) fn list_items(data: &[u8]) -> Option<Vec<(Header, &[u8])>> {
    let (header, whole) = item(data)?;
    if !header.list || whole.len() != data.len() {
        return None;
    }
    items(payload(whole, &header))
}

/// The keccak-256 of each transaction of a body (`[transactions, uncles,
/// …]`), in order: a legacy transaction is hashed as its RLP list, a typed
/// one as the EIP-2718 envelope its byte string holds.
pub(crate) fn body_tx_hashes(body: &[u8]) -> Option<Vec<H256>> {
    let parts = list_items(body)?;
    let (header, whole) = parts.first()?;
    if !header.list {
        return None;
    }
    items(payload(whole, header))?
        .into_iter()
        .map(|(header, whole)| {
            let encoding = envelope(whole, &header);
            (!encoding.is_empty()).then(|| keccak256(encoding).0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_hashes_are_those_of_legacy_lists_and_typed_envelopes() {
        // A legacy "transaction" [0x01] and a typed one 0x02 ++ [0x03].
        let legacy = [0xc1, 0x01];
        let typed = [0x02, 0xc1, 0x03];
        let mut txs = vec![0xc0 + 2 + 1 + 3];
        txs.extend_from_slice(&legacy);
        txs.push(0x80 + 3);
        txs.extend_from_slice(&typed);
        let mut body = vec![0xc0 + txs.len() as u8 + 1];
        body.extend_from_slice(&txs);
        body.push(0xc0);
        assert_eq!(
            body_tx_hashes(&body),
            Some(vec![keccak256(legacy).0, keccak256(typed).0])
        );
        assert_eq!(body_tx_hashes(&[0xc1, 0xc0]), Some(vec![]));
        assert_eq!(body_tx_hashes(&body[..body.len() - 1]), None);
        assert_eq!(body_tx_hashes(&[0x83, 1, 2, 3]), None);
    }
}
