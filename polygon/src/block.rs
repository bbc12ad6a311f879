//! Decoding the raw RLP of headers, bodies and receipt lists.

use alloy_consensus::Header;
use alloy_rlp::{Decodable, Header as RlpHeader};

/// Why a block part did not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockDecodeError {
    /// The bytes are not valid RLP of the expected shape.
    #[error("{part}: malformed RLP: {reason}")]
    Rlp {
        /// Which part (`header`, `body`, `receipts`).
        part: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// Bytes were left over after the item.
    #[error("{part}: {extra} trailing bytes after the RLP item")]
    Trailing {
        /// Which part.
        part: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
}

fn rlp_error(part: &'static str, error: alloy_rlp::Error) -> BlockDecodeError {
    BlockDecodeError::Rlp {
        part,
        reason: error.to_string(),
    }
}

/// Decodes a header (any of the legacy, London, Shanghai, Cancun or Prague
/// field sets); the whole input must be one RLP item.
pub fn decode_header(bytes: &[u8]) -> Result<Header, BlockDecodeError> {
    let mut cursor = bytes;
    let header = Header::decode(&mut cursor).map_err(|error| rlp_error("header", error))?;
    if !cursor.is_empty() {
        return Err(BlockDecodeError::Trailing {
            part: "header",
            extra: cursor.len(),
        });
    }
    Ok(header)
}

/// Splits an RLP list into its item payloads (each item with its own prefix).
fn list_items<'a>(part: &'static str, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, BlockDecodeError> {
    let mut cursor = bytes;
    let header = RlpHeader::decode(&mut cursor).map_err(|error| rlp_error(part, error))?;
    if !header.list {
        return Err(BlockDecodeError::Rlp {
            part,
            reason: "expected a list, found a string".into(),
        });
    }
    if cursor.len() != header.payload_length {
        return Err(BlockDecodeError::Trailing {
            part,
            extra: cursor.len().saturating_sub(header.payload_length),
        });
    }
    let mut items = Vec::new();
    let mut payload = cursor;
    while !payload.is_empty() {
        let before = payload;
        let item = RlpHeader::decode(&mut payload).map_err(|error| rlp_error(part, error))?;
        if payload.len() < item.payload_length {
            return Err(rlp_error(part, alloy_rlp::Error::InputTooShort));
        }
        payload = &payload[item.payload_length..];
        items.push(&before[..before.len() - payload.len()]);
    }
    Ok(items)
}

/// Checks that a body is `[transactions, uncles]` (optionally with a third
/// list, withdrawals) and returns how many transactions it holds.
pub fn decode_body_shape(bytes: &[u8]) -> Result<usize, BlockDecodeError> {
    let items = list_items("body", bytes)?;
    if !(2..=3).contains(&items.len()) {
        return Err(BlockDecodeError::Rlp {
            part: "body",
            reason: format!("expected 2 or 3 lists, found {} items", items.len()),
        });
    }
    let transactions = list_items("body", items[0])?;
    list_items("body", items[1])?;
    Ok(transactions.len())
}

/// Checks that a receipt list is an RLP list and returns its length.
pub fn decode_receipts_shape(bytes: &[u8]) -> Result<usize, BlockDecodeError> {
    Ok(list_items("receipts", bytes)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, U256};
    use alloy_rlp::Encodable;

    fn sample_header() -> Header {
        Header {
            number: 42,
            difficulty: U256::from(7),
            gas_limit: 30_000_000,
            timestamp: 1_700_000_000,
            parent_hash: B256::repeat_byte(1),
            ..Default::default()
        }
    }

    #[test]
    fn header_round_trip() {
        let header = sample_header();
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        assert_eq!(decode_header(&bytes).unwrap(), header);
    }

    #[test]
    fn header_errors_name_the_part() {
        let mut bytes = Vec::new();
        sample_header().encode(&mut bytes);
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            decode_header(&long).unwrap_err(),
            BlockDecodeError::Trailing {
                part: "header",
                extra: 1
            }
        );
        let error = decode_header(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(
            error.to_string().starts_with("header: malformed RLP"),
            "{error}"
        );
    }

    #[test]
    fn body_shape() {
        // [[tx1, tx2], []] with two opaque byte-string transactions.
        let body = [0xc8, 0xc6, 0x82, 0x01, 0x02, 0x82, 0x03, 0x04, 0xc0];
        assert_eq!(decode_body_shape(&body).unwrap(), 2);
        assert!(decode_body_shape(&[0xc1, 0xc0]).is_err());
        assert!(decode_body_shape(&[0x82, 0x01, 0x02]).is_err());
    }
}
