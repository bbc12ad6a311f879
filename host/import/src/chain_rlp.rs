//! Reading `chain.rlp`, go-ethereum's export format: blocks
//! `[header, transactions, uncles, withdrawals?]` as RLP lists, one after
//! another, nothing in between. The raw bytes of each part are kept, so
//! the stored header and body are exactly what the file holds.

use alloy_consensus::Header;
use alloy_primitives::{B256, keccak256};
use alloy_rlp::Header as RlpHeader;

/// Where and why the file does not split into blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainRlpError {
    /// The block's position in the file, from 0.
    pub index: usize,
    /// Its first byte in the file.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

/// One block of the file, split into its parts.
#[derive(Debug, Clone)]
pub(crate) struct RawBlock<'a> {
    /// The header's RLP.
    pub header_rlp: &'a [u8],
    /// The decoded header.
    pub header: Header,
    /// keccak256 of the header's RLP.
    pub hash: B256,
    /// The transaction list's RLP.
    pub transactions: &'a [u8],
    /// The uncle list's RLP.
    pub uncles: &'a [u8],
    /// The withdrawal list's RLP (Shanghai and later).
    pub withdrawals: Option<&'a [u8]>,
}

impl RawBlock<'_> {
    /// The body as a block stores it: `[transactions, uncles, withdrawals?]`.
    pub(crate) fn body(&self) -> Vec<u8> {
        let parts = [Some(self.transactions), Some(self.uncles), self.withdrawals];
        let payload_length = parts.iter().flatten().map(|part| part.len()).sum();
        let mut out = Vec::with_capacity(payload_length + 5);
        RlpHeader {
            list: true,
            payload_length,
        }
        .encode(&mut out);
        for part in parts.into_iter().flatten() {
            out.extend_from_slice(part);
        }
        out
    }
}

/// Splits an RLP item off the front of `input`: its full encoding and
/// whether it is a list.
fn split_item(input: &[u8]) -> Result<(&[u8], bool), String> {
    let mut cursor = input;
    let header = RlpHeader::decode(&mut cursor).map_err(|error| match error {
        alloy_rlp::Error::InputTooShort => {
            format!(
                "truncated: the item runs past the end ({} bytes left)",
                input.len()
            )
        }
        other => other.to_string(),
    })?;
    let header_len = input.len() - cursor.len();
    if cursor.len() < header.payload_length {
        return Err(format!(
            "truncated: the item needs {} bytes, {} are left",
            header_len + header.payload_length,
            input.len()
        ));
    }
    Ok((&input[..header_len + header.payload_length], header.list))
}

/// The items of an RLP list, each with its own prefix.
pub(crate) fn list_items(list: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut cursor = list;
    let header = RlpHeader::decode(&mut cursor).map_err(|error| error.to_string())?;
    if !header.list {
        return Err("expected a list".into());
    }
    if cursor.len() != header.payload_length {
        return Err("list length does not match its content".into());
    }
    let mut items = Vec::new();
    while !cursor.is_empty() {
        let (item, _) = split_item(cursor)?;
        cursor = &cursor[item.len()..];
        items.push(item);
    }
    Ok(items)
}

fn parse_block(item: &[u8]) -> Result<RawBlock<'_>, String> {
    let parts = list_items(item)?;
    if !(3..=4).contains(&parts.len()) {
        return Err(format!(
            "a block has 3 or 4 parts (header, transactions, uncles, withdrawals), found {}",
            parts.len()
        ));
    }
    for (part, name) in parts
        .iter()
        .zip(["header", "transactions", "uncles", "withdrawals"])
    {
        if part.first().is_none_or(|first| *first < 0xc0) {
            return Err(format!("{name} is not a list"));
        }
    }
    let header = hypasis_polygon::decode_header(parts[0]).map_err(|error| error.to_string())?;
    Ok(RawBlock {
        header_rlp: parts[0],
        hash: keccak256(parts[0]),
        header,
        transactions: parts[1],
        uncles: parts[2],
        withdrawals: parts.get(3).copied(),
    })
}

/// Splits a chain file into blocks.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<RawBlock<'_>>, ChainRlpError> {
    let mut blocks = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let at = |reason: String| ChainRlpError {
            index: blocks.len(),
            offset,
            reason,
        };
        let (item, list) = split_item(&bytes[offset..]).map_err(at)?;
        if !list {
            return Err(at("expected a block (an RLP list)".into()));
        }
        let block = parse_block(item).map_err(at)?;
        offset += item.len();
        blocks.push(block);
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_rlp::Encodable;

    fn block(number: u64, withdrawals: bool) -> Vec<u8> {
        let header = Header {
            number,
            ..Default::default()
        };
        let mut header_rlp = Vec::new();
        header.encode(&mut header_rlp);
        let mut payload = header_rlp;
        payload.extend_from_slice(&[0xc0, 0xc0]);
        if withdrawals {
            payload.push(0xc0);
        }
        let mut out = Vec::new();
        RlpHeader {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    #[test]
    fn splits_blocks_and_keeps_bodies() {
        let mut file = block(1, false);
        file.extend(block(2, true));
        let blocks = read(&file).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].header.number, 1);
        assert_eq!(blocks[0].body(), [0xc2, 0xc0, 0xc0]);
        assert_eq!(blocks[1].body(), [0xc3, 0xc0, 0xc0, 0xc0]);
        assert_eq!(blocks[1].hash, blocks[1].header.hash_slow());
    }

    #[test]
    fn truncation_names_the_block() {
        let mut file = block(1, false);
        let second = block(2, false);
        file.extend_from_slice(&second[..second.len() - 2]);
        let error = read(&file).unwrap_err();
        assert_eq!(error.index, 1);
        assert_eq!(error.offset, block(1, false).len());
        assert!(error.reason.starts_with("truncated"), "{}", error.reason);
    }
}
