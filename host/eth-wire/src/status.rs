//! The Status handshake message (0x00) in its three shapes: eth/68, Bor's
//! eth/69 (which keeps the total difficulty) and go-ethereum's eth/69
//! (which drops it, and which Bor cannot decode).

use alloy_eip2124::ForkId;
use alloy_primitives::{B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

use crate::block_range::BlockRangeUpdate;
use crate::raw::count_list_items;

/// eth/68 Status: `[version, networkid, td, head, genesis, forkid]`
/// (`B:eth/protocols/eth/protocol.go`, `StatusPacket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Status68 {
    /// The negotiated protocol version (68).
    pub version: u32,
    /// The network id (137 on mainnet, 80002 on Amoy).
    pub network_id: u64,
    /// Total difficulty of the sender's head. Bor syncs from the peer with
    /// the highest TD, and only if it exceeds its own.
    pub total_difficulty: U256,
    /// The sender's head hash.
    pub head: B256,
    /// The genesis hash.
    pub genesis: B256,
    /// The sender's EIP-2124 fork id.
    pub fork_id: ForkId,
}

/// Bor's eth/69 Status: `[version, networkid, td, genesis, forkid,
/// earliest, latest, latestHash]` — upstream eth/69 without TD is *not*
/// what Bor sends or accepts (`B[eth69]:eth/protocols/eth/protocol.go`,
/// `StatusPacket69`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Status69 {
    /// The negotiated protocol version (69).
    pub version: u32,
    /// The network id.
    pub network_id: u64,
    /// Total difficulty at `latest` (Bor keeps it on eth/69).
    pub total_difficulty: U256,
    /// The genesis hash.
    pub genesis: B256,
    /// The sender's EIP-2124 fork id.
    pub fork_id: ForkId,
    /// The oldest block the sender serves.
    pub earliest: u64,
    /// The sender's head number.
    pub latest: u64,
    /// The sender's head hash.
    pub latest_hash: B256,
}

impl Status69 {
    /// The block range this status announces, for validation.
    pub const fn block_range(&self) -> BlockRangeUpdate {
        BlockRangeUpdate {
            earliest: self.earliest,
            latest: self.latest,
            latest_hash: self.latest_hash,
        }
    }
}

/// go-ethereum's eth/69 Status (v1.16+): `[version, networkid, genesis,
/// forkid, earliest, latest, latestHash]`, no TD. We never send it; we only
/// recognise it, to disconnect such a peer with a clear reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct GethStatus69 {
    /// The negotiated protocol version (69).
    pub version: u32,
    /// The network id.
    pub network_id: u64,
    /// The genesis hash.
    pub genesis: B256,
    /// The sender's EIP-2124 fork id.
    pub fork_id: ForkId,
    /// The oldest block the sender serves.
    pub earliest: u64,
    /// The sender's head number.
    pub latest: u64,
    /// The sender's head hash.
    pub latest_hash: B256,
}

/// Number of fields in go-ethereum's TD-less eth/69 Status.
const GETH_STATUS69_FIELDS: usize = 7;

/// Whether `payload` is go-ethereum's TD-less eth/69 Status: a 7-item list
/// that decodes in that layout (a 7-item list that does not is just malformed).
pub(crate) fn is_geth_status69(payload: &[u8]) -> bool {
    count_list_items(payload).is_ok_and(|count| count == GETH_STATUS69_FIELDS)
        && alloy_rlp::decode_exact::<GethStatus69>(payload).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eip2124::ForkHash;
    use alloy_rlp::{Decodable, Encodable};

    fn fork_id() -> ForkId {
        ForkId {
            hash: ForkHash([0x22, 0xd5, 0x23, 0xb2]),
            next: 0,
        }
    }

    #[test]
    fn status68_layout() {
        let status = Status68 {
            version: 68,
            network_id: 137,
            total_difficulty: U256::from(0x1234),
            head: B256::repeat_byte(0xaa),
            genesis: B256::repeat_byte(0xbb),
            fork_id: fork_id(),
        };
        let encoded = alloy_rlp::encode(status);
        // [0x44, 0x81 0x89, 0x82 0x1234, hash, hash, [0x84 22d523b2, 0x80]]
        let mut expected = vec![0xf8, 0x4f, 0x44, 0x81, 0x89, 0x82, 0x12, 0x34, 0xa0];
        expected.extend([0xaa; 32]);
        expected.push(0xa0);
        expected.extend([0xbb; 32]);
        expected.extend([0xc6, 0x84, 0x22, 0xd5, 0x23, 0xb2, 0x80]);
        assert_eq!(encoded, expected);
        assert_eq!(
            alloy_rlp::decode_exact::<Status68>(&encoded).unwrap(),
            status
        );
    }

    #[test]
    fn bor_status69_has_eight_fields_and_geth_seven() {
        let bor = Status69 {
            version: 69,
            network_id: 137,
            total_difficulty: U256::from(7),
            genesis: B256::repeat_byte(1),
            fork_id: fork_id(),
            earliest: 0,
            latest: 100,
            latest_hash: B256::repeat_byte(2),
        };
        let encoded = alloy_rlp::encode(bor);
        assert_eq!(count_list_items(&encoded).unwrap(), 8);
        assert!(!is_geth_status69(&encoded));
        assert_eq!(Status69::decode(&mut &encoded[..]).unwrap(), bor);

        let geth = GethStatus69 {
            version: 69,
            network_id: 137,
            genesis: B256::repeat_byte(1),
            fork_id: fork_id(),
            earliest: 0,
            latest: 100,
            latest_hash: B256::repeat_byte(2),
        };
        let mut encoded = Vec::new();
        geth.encode(&mut encoded);
        assert_eq!(count_list_items(&encoded).unwrap(), 7);
        assert!(is_geth_status69(&encoded));
        assert!(Status69::decode(&mut &encoded[..]).is_err());
        // Seven items of the wrong kinds are not go-ethereum's status.
        assert!(!is_geth_status69(&[0xc7, 1, 2, 3, 4, 5, 6, 7]));
    }
}
