//! Deterministic keys and a deterministic random stream, from the seed.

use alloy_primitives::{Address, keccak256};
use secp256k1::{SECP256K1, SecretKey};

/// A key derived from the seed for a purpose (`validator`, `account`, …).
pub fn derive_key(seed: u64, purpose: &str, index: u64) -> SecretKey {
    let mut counter = 0u64;
    loop {
        let mut input = Vec::with_capacity(32 + purpose.len());
        input.extend_from_slice(b"hypasis-devnet");
        input.extend_from_slice(&seed.to_be_bytes());
        input.extend_from_slice(purpose.as_bytes());
        input.extend_from_slice(&index.to_be_bytes());
        input.extend_from_slice(&counter.to_be_bytes());
        if let Ok(key) = SecretKey::from_byte_array(keccak256(&input).0) {
            return key;
        }
        counter += 1;
    }
}

/// The address of a key.
pub fn address_of(key: &SecretKey) -> Address {
    hypasis_polygon::bor::address_of(&key.public_key(SECP256K1))
}

/// A small, fast, deterministic random stream (SplitMix64).
#[derive(Debug, Clone)]
pub struct Stream(u64);

impl Stream {
    /// A stream for one use of the seed.
    pub fn new(seed: u64, purpose: u64) -> Self {
        Stream(seed ^ purpose.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True `percent` times out of 100.
    pub fn chance(&mut self, percent: u8) -> bool {
        self.below(100) < u64::from(percent)
    }

    /// 32 random bytes.
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_streams_are_deterministic() {
        assert_eq!(derive_key(1, "validator", 0), derive_key(1, "validator", 0));
        assert_ne!(derive_key(1, "validator", 0), derive_key(2, "validator", 0));
        assert_ne!(derive_key(1, "validator", 0), derive_key(1, "account", 0));
        let mut a = Stream::new(7, 1);
        let mut b = Stream::new(7, 1);
        assert_eq!((a.next_u64(), a.below(10)), (b.next_u64(), b.below(10)));
    }
}
