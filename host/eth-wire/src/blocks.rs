//! Block messages: header and body requests and responses, and the two
//! block announcements. Headers, bodies and blocks are kept as raw RLP
//! items, so a response is built by copying stored bytes.

use alloy_primitives::{B256, U256};
use alloy_rlp::{
    Decodable, Encodable, Header, RlpDecodable, RlpDecodableWrapper, RlpEncodable,
    RlpEncodableWrapper,
};
use bytes::BufMut;

use crate::raw::RawRlp;

/// Where a header query starts: a block hash or a block number. On the wire
/// a 32-byte string is a hash and a string of at most 8 bytes a number
/// (`G:eth/protocols/eth/protocol.go`, `HashOrNumber.DecodeRLP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashOrNumber {
    /// Start at the block with this hash.
    Hash(B256),
    /// Start at the canonical block with this number.
    Number(u64),
}

impl Encodable for HashOrNumber {
    fn encode(&self, out: &mut dyn BufMut) {
        match self {
            HashOrNumber::Hash(hash) => hash.encode(out),
            HashOrNumber::Number(number) => number.encode(out),
        }
    }

    fn length(&self) -> usize {
        match self {
            HashOrNumber::Hash(hash) => hash.length(),
            HashOrNumber::Number(number) => number.length(),
        }
    }
}

impl Decodable for HashOrNumber {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut peek = *buf;
        let header = Header::decode(&mut peek)?;
        if header.list {
            return Err(alloy_rlp::Error::UnexpectedList);
        }
        match header.payload_length {
            32 => B256::decode(buf).map(HashOrNumber::Hash),
            0..=8 => u64::decode(buf).map(HashOrNumber::Number),
            _ => Err(alloy_rlp::Error::UnexpectedLength),
        }
    }
}

/// `GetBlockHeaders` (0x03) body: `[origin, amount, skip, reverse]`; the
/// reply holds at most `amount` headers, `skip` blocks apart, rising unless
/// `reverse` (`B:eth/protocols/eth/protocol.go`, `GetBlockHeadersRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct GetBlockHeaders {
    /// The first block.
    pub origin: HashOrNumber,
    /// Most headers wanted (we serve at most [`MAX_HEADERS_SERVE`](crate::protocol::MAX_HEADERS_SERVE)).
    pub amount: u64,
    /// Blocks left out between two returned headers.
    pub skip: u64,
    /// Walk towards genesis instead of towards the head.
    pub reverse: bool,
}

/// `BlockHeaders` (0x04) body: the headers' RLP, each copied as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct BlockHeaders(pub Vec<RawRlp>);

/// `GetBlockBodies` (0x05) body: the hashes of the blocks wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct GetBlockBodies(pub Vec<B256>);

/// `BlockBodies` (0x06) body: each body's RLP
/// (`[transactions, uncles]`, plus withdrawals where a chain has them),
/// copied as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct BlockBodies(pub Vec<RawRlp>);

/// One entry of a `NewBlockHashes` announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockHashNumber {
    /// The announced block's hash.
    pub hash: B256,
    /// The announced block's number.
    pub number: u64,
}

/// `NewBlockHashes` (0x01): `[[hash, number], ...]`, blocks the sender has.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct NewBlockHashes(pub Vec<BlockHashNumber>);

/// `NewBlock` (0x07): `[block, td]`, a whole block pushed to us with the
/// sender's total difficulty at it. Bor still sends it on eth/69.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct NewBlock {
    /// The block's RLP: `[header, transactions, uncles, ...]`.
    pub block: RawRlp,
    /// Total difficulty including this block.
    pub total_difficulty: U256,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_or_number_is_told_apart_by_length() {
        let hash = B256::repeat_byte(0xde);
        let encoded = alloy_rlp::encode(HashOrNumber::Hash(hash));
        assert_eq!(encoded.len(), 33);
        assert_eq!(
            alloy_rlp::decode_exact::<HashOrNumber>(&encoded).unwrap(),
            HashOrNumber::Hash(hash)
        );
        for number in [0, 1, 0x7f, 0x80, 9999, u64::MAX] {
            let encoded = alloy_rlp::encode(HashOrNumber::Number(number));
            assert_eq!(
                alloy_rlp::decode_exact::<HashOrNumber>(&encoded).unwrap(),
                HashOrNumber::Number(number)
            );
        }
        // 9 to 31 and 33 bytes, a list, a non-canonical number.
        assert!(alloy_rlp::decode_exact::<HashOrNumber>(&[0x89; 10]).is_err());
        let mut long = vec![0xa1];
        long.extend([1; 33]);
        assert!(alloy_rlp::decode_exact::<HashOrNumber>(&long).is_err());
        assert!(alloy_rlp::decode_exact::<HashOrNumber>(&[0xc0]).is_err());
        assert!(alloy_rlp::decode_exact::<HashOrNumber>(&[0x82, 0x00, 0x01]).is_err());
    }

    #[test]
    fn reverse_is_a_strict_bool() {
        let request = GetBlockHeaders {
            origin: HashOrNumber::Number(5),
            amount: 1,
            skip: 0,
            reverse: true,
        };
        let encoded = alloy_rlp::encode(request);
        assert_eq!(encoded, [0xc4, 0x05, 0x01, 0x80, 0x01]);
        assert!(
            alloy_rlp::decode_exact::<GetBlockHeaders>(&[0xc4, 0x05, 0x01, 0x80, 0x02]).is_err()
        );
    }
}
