//! Receipts are stored without their 256-byte logs blooms, which are
//! recomputed from the logs when read: a block of receipts is the RLP list
//! of their EIP-2718 encodings (what eth/68 carries), and the blooms are a
//! function of the logs, so dropping them loses nothing.
//!
//! A compact value is [`COMPACT_MARK`] followed by the same list with each
//! receipt's bloom item removed. The mark cannot start a stored value of
//! the old format (an RLP list starts at 0xc0), so values written before
//! stay readable as they are. A block is stored compact only if expanding
//! the compact form gives back the exact bytes written; anything else (a
//! bloom that does not match its logs, non-canonical RLP) is kept as given.

use alloy_primitives::{Bloom, BloomInput};
use alloy_rlp::Header;

use crate::rlp_items::{envelope, item, items, list_items, payload};

/// The first byte of a compact receipts value.
pub const COMPACT_MARK: u8 = 0x01;

fn put_header(out: &mut Vec<u8>, list: bool, payload_length: usize) {
    Header {
        list,
        payload_length,
    }
    .encode(out);
}

/// A receipt as (its EIP-2718 type prefix, empty for legacy; the items of
/// its RLP list, each with its header).
type ReceiptItems<'a> = (&'a [u8], Vec<(Header, &'a [u8])>);

/// One receipt's EIP-2718 encoding split into its type prefix and items.
fn receipt_fields(encoding: &[u8]) -> Option<ReceiptItems<'_>> {
    let (prefix, list) = match encoding.first()? {
        0xc0.. => (&encoding[..0], encoding),
        _ => (&encoding[..1], &encoding[1..]),
    };
    let (header, whole) = item(list)?;
    if !header.list || whole.len() != list.len() {
        return None;
    }
    Some((prefix, items(payload(whole, &header))?))
}

/// Writes a receipt (type prefix + list of `fields`) as it appears in the
/// block list: a legacy receipt as its list, a typed one as a byte string.
fn put_receipt(out: &mut Vec<u8>, prefix: &[u8], fields: &[&[u8]]) {
    let fields_len: usize = fields.iter().map(|field| field.len()).sum();
    let mut encoding = Vec::with_capacity(prefix.len() + fields_len + 9);
    encoding.extend_from_slice(prefix);
    put_header(&mut encoding, true, fields_len);
    for field in fields {
        encoding.extend_from_slice(field);
    }
    if prefix.is_empty() {
        out.extend_from_slice(&encoding);
    } else {
        put_header(out, false, encoding.len());
        out.extend_from_slice(&encoding);
    }
}

/// Rebuilds a block list from receipts, each as (type prefix, fields).
fn block_list(receipts: &[(&[u8], Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (prefix, fields) in receipts {
        let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        put_receipt(&mut body, prefix, &fields);
    }
    let mut out = Vec::with_capacity(body.len() + 10);
    put_header(&mut out, true, body.len());
    out.extend_from_slice(&body);
    out
}

/// The receipts of a block list, each as (type prefix, its list items).
fn block_receipts(list: &[u8]) -> Option<Vec<ReceiptItems<'_>>> {
    list_items(list)?
        .into_iter()
        .map(|(header, whole)| receipt_fields(envelope(whole, &header)))
        .collect()
}

/// The bloom of a receipt's logs item (`[[address, [topics…], data]…]`).
fn logs_bloom(logs: &[u8]) -> Option<Bloom> {
    let (header, whole) = item(logs)?;
    if !header.list {
        return None;
    }
    let mut bloom = Bloom::ZERO;
    for (log_header, log) in items(payload(whole, &header))? {
        let fields = items(payload(log, &log_header))?;
        let [(address_header, address), (topics_header, topics), _data] = fields.as_slice() else {
            return None;
        };
        bloom.accrue(BloomInput::Raw(payload(address, address_header)));
        for (topic_header, topic) in items(payload(topics, topics_header))? {
            bloom.accrue(BloomInput::Raw(payload(topic, &topic_header)));
        }
    }
    Some(bloom)
}

fn compact_of(list: &[u8]) -> Option<Vec<u8>> {
    let receipts = block_receipts(list)?
        .into_iter()
        .map(|(prefix, fields)| {
            // [status, cumulative gas, bloom, logs]: drop the bloom.
            (fields.len() == 4).then(|| {
                let kept = [fields[0].1, fields[1].1, fields[3].1];
                (prefix, kept.iter().map(|field| field.to_vec()).collect())
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut out = vec![COMPACT_MARK];
    out.extend_from_slice(&block_list(&receipts));
    Some(out)
}

/// The stored form of a block's receipts: compact when that expands back
/// to exactly `list`, else `list` itself.
pub fn compact(list: &[u8]) -> Vec<u8> {
    match compact_of(list) {
        Some(compact) if expand(&compact).as_deref() == Some(list) => compact,
        _ => list.to_vec(),
    }
}

/// The receipts list a stored value holds: compact values get their blooms
/// back; any other value is returned as stored. `None` for a compact value
/// that does not parse (a corrupt store).
pub fn expand(stored: &[u8]) -> Option<Vec<u8>> {
    let Some((&COMPACT_MARK, list)) = stored.split_first() else {
        return Some(stored.to_vec());
    };
    let receipts = block_receipts(list)?
        .into_iter()
        .map(|(prefix, fields)| {
            let [status, gas, logs] = fields.as_slice() else {
                return None;
            };
            let bloom = logs_bloom(logs.1)?;
            let mut bloom_item = Vec::with_capacity(259);
            put_header(&mut bloom_item, false, 256);
            bloom_item.extend_from_slice(bloom.as_slice());
            Some((
                prefix,
                vec![
                    status.1.to_vec(),
                    gas.1.to_vec(),
                    bloom_item,
                    logs.1.to_vec(),
                ],
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(block_list(&receipts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RLP of one log: [address, [topics], data].
    fn log(address: u8, topics: &[u8], data: &[u8]) -> Vec<u8> {
        let mut fields = Vec::new();
        put_header(&mut fields, false, 20);
        fields.extend_from_slice(&[address; 20]);
        let mut topic_list = Vec::new();
        for topic in topics {
            put_header(&mut topic_list, false, 32);
            topic_list.extend_from_slice(&[*topic; 32]);
        }
        put_header(&mut fields, true, topic_list.len());
        fields.extend_from_slice(&topic_list);
        put_header(&mut fields, false, data.len());
        fields.extend_from_slice(data);
        let mut out = Vec::new();
        put_header(&mut out, true, fields.len());
        out.extend_from_slice(&fields);
        out
    }

    /// A block list of receipts, each (type, logs), with correct blooms.
    fn block(receipts: &[(u8, Vec<Vec<u8>>)]) -> Vec<u8> {
        let mut all = Vec::new();
        for (index, (kind, logs)) in receipts.iter().enumerate() {
            let mut logs_item = Vec::new();
            let joined: Vec<u8> = logs.concat();
            put_header(&mut logs_item, true, joined.len());
            logs_item.extend_from_slice(&joined);
            let bloom = logs_bloom(&logs_item).unwrap();
            let mut bloom_item = Vec::new();
            put_header(&mut bloom_item, false, 256);
            bloom_item.extend_from_slice(bloom.as_slice());
            let status = vec![0x01];
            let gas = alloy_rlp::encode(21_000u64 * (index as u64 + 1));
            let prefix: &[u8] = if *kind == 0 {
                &[]
            } else {
                std::slice::from_ref(kind)
            };
            all.push((prefix.to_vec(), vec![status, gas, bloom_item, logs_item]));
        }
        let borrowed: Vec<(&[u8], Vec<Vec<u8>>)> = all
            .iter()
            .map(|(prefix, fields)| (prefix.as_slice(), fields.clone()))
            .collect();
        block_list(&borrowed)
    }

    #[test]
    fn receipts_round_trip_without_their_blooms() {
        let list = block(&[
            (0, vec![log(1, &[2, 3], b"legacy")]),
            (
                2,
                vec![log(4, &[], b""), log(5, &[6, 7, 8, 9], &[0xab; 100])],
            ),
            (1, Vec::new()),
            (3, vec![log(10, &[11], b"blob")]),
            (0x7f, vec![log(12, &[13], b"state sync")]),
        ]);
        let stored = compact(&list);
        assert_eq!(stored[0], COMPACT_MARK);
        assert!(
            stored.len() + 5 * 259 <= list.len() + 1,
            "{} vs {}",
            stored.len(),
            list.len()
        );
        assert_eq!(expand(&stored).unwrap(), list);
        // An empty block.
        assert_eq!(expand(&compact(&[0xc0])).unwrap(), [0xc0]);
    }

    /// Receipts as alloy encodes them (every transaction type, blooms
    /// computed by alloy), in the eth/68 list form.
    #[test]
    fn alloy_encoded_receipts_are_stored_compact_and_read_back_exactly() {
        use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
        use alloy_primitives::{Address, B256, Bytes, Log};
        let receipt = |logs: usize| {
            let logs = (0..logs)
                .map(|index| {
                    Log::new_unchecked(
                        Address::repeat_byte(index as u8 + 1),
                        vec![B256::repeat_byte(7); index % 4],
                        Bytes::from(vec![index as u8; index * 10]),
                    )
                })
                .collect();
            ReceiptWithBloom::from(Receipt {
                status: Eip658Value::Eip658(true),
                cumulative_gas_used: 50_000,
                logs,
            })
        };
        let envelopes = [
            ReceiptEnvelope::Legacy(receipt(0)),
            ReceiptEnvelope::Eip2930(receipt(2)),
            ReceiptEnvelope::Eip1559(receipt(5)),
            ReceiptEnvelope::Eip4844(receipt(1)),
            ReceiptEnvelope::Eip7702(receipt(3)),
        ];
        let list = alloy_rlp::encode(envelopes.to_vec());
        let stored = compact(&list);
        assert_eq!(
            stored[0], COMPACT_MARK,
            "alloy's encoding is stored compact"
        );
        // Each bloom item is 259 bytes; list headers may shrink too.
        assert!(stored.len() <= list.len() + 1 - 5 * 259);
        assert_eq!(expand(&stored).unwrap(), list);
    }

    #[test]
    fn values_that_do_not_expand_back_are_kept_as_given() {
        let mut list = block(&[(2, vec![log(1, &[2], b"xy")])]);
        // Flip a bloom bit: the bloom no longer matches the logs.
        let bloom_at = list
            .windows(3)
            .position(|window| window == [0xb9, 0x01, 0x00])
            .unwrap()
            + 3;
        list[bloom_at + 10] ^= 0x80;
        assert_eq!(compact(&list), list);
        assert_eq!(expand(&list).unwrap(), list);
        // Not RLP at all.
        assert_eq!(compact(&[0xde, 0xad]), [0xde, 0xad]);
        // Old-format values read back unchanged.
        let old = block(&[(0, vec![log(1, &[], b"")])]);
        assert_eq!(expand(&old).unwrap(), old);
        // A corrupt compact value is an error, not a panic.
        assert_eq!(expand(&[COMPACT_MARK, 0xf8]), None);
    }
}
