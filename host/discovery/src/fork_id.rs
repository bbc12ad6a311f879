//! The EIP-2124 fork identifier and the `eth` ENR entry that carries it.
//!
//! go-ethereum (and Bor) put `enrEntry{ForkID forkid.ID; Rest []rlp.RawValue
//! "tail"}` under the ENR key `eth` (`eth/protocols/eth/discovery.go`), so
//! the value is `RLP([[fork-hash, fork-next]])`: a one-element list holding
//! the fork id list. Nodes that filter peers by fork id read exactly this.

use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};

use crate::{error::DecodeError, v4wire::ListReader};

/// The ENR key of the entry.
pub const ETH_ENR_KEY: &str = "eth";

/// An EIP-2124 fork identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, RlpEncodable, RlpDecodable)]
pub struct ForkId {
    /// CRC32 of the genesis hash and the passed fork blocks, big-endian.
    pub hash: [u8; 4],
    /// The next scheduled fork block, or 0 if none is known.
    pub next: u64,
}

impl From<([u8; 4], u64)> for ForkId {
    fn from((hash, next): ([u8; 4], u64)) -> Self {
        Self { hash, next }
    }
}

/// The `eth` entry value: `[fork-id, ...]`.
#[derive(RlpEncodable)]
struct EthEntry {
    fork_id: ForkId,
}

/// The RLP value stored under the ENR key `eth` for `fork_id`.
pub fn encode_eth_entry(fork_id: ForkId) -> Vec<u8> {
    let mut out = Vec::new();
    EthEntry { fork_id }.encode(&mut out);
    out
}

/// Reads the fork id out of an `eth` entry value, ignoring any fields after
/// it (go-ethereum's `Rest` tail).
pub fn decode_eth_entry(mut value: &[u8]) -> Result<ForkId, DecodeError> {
    let mut entry = ListReader::open(&mut value, "eth ENR entry")?;
    entry.next("fork id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_entry_bytes() {
        // Polygon mainnet after Prague (hypasis notes §5): 0x22d523b2, next 0.
        let mainnet = ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0));
        assert_eq!(hex::encode(encode_eth_entry(mainnet)), "c7c68422d523b280");
        // Amoy before Prague: 0xb4f6ec4f, next 22765056 (0x015b5e00).
        let amoy = ForkId::from(([0xb4, 0xf6, 0xec, 0x4f], 22_765_056));
        let encoded = encode_eth_entry(amoy);
        assert_eq!(hex::encode(&encoded), "cbca84b4f6ec4f84015b5e00");
        assert_eq!(decode_eth_entry(&encoded), Ok(amoy));
    }

    #[test]
    fn eth_entry_tail_is_ignored() {
        // [[hash, next], 0x01]: go-ethereum's `Rest` tail.
        let value = hex::decode("c8c68422d523b28001").expect("hex");
        assert_eq!(
            decode_eth_entry(&value),
            Ok(ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0)))
        );
    }
}
