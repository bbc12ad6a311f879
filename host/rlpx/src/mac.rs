//! The RLPx frame MAC: a running keccak256 state, seeded at the handshake,
//! that each header and frame ciphertext is absorbed into, mixed with the
//! state's own digest encrypted under the mac-secret (devp2p `rlpx.md`,
//! "Framing" / "MAC"):
//!
//! ```text
//! header-mac-seed = aes(mac-secret, digest(mac)[:16]) ⊕ header-ciphertext
//! mac             = update(mac, header-mac-seed);  header-mac = digest(mac)[:16]
//!
//! mac             = update(mac, frame-ciphertext)
//! frame-mac-seed  = aes(mac-secret, digest(mac)[:16]) ⊕ digest(mac)[:16]
//! mac             = update(mac, frame-mac-seed);   frame-mac  = digest(mac)[:16]
//! ```
//!
//! `aes` here is AES-256 on one block (ECB), `digest` reads the state
//! without finishing it.

use aes::{
    Aes256,
    cipher::{BlockEncrypt, KeyInit},
};
use alloy_primitives::B256;
use keccak_asm::{Digest, Keccak256};

use crate::protocol::MAC_LEN;

/// One direction's MAC state (egress or ingress).
#[derive(Clone)]
pub struct RlpxMac {
    cipher: Aes256,
    hasher: Keccak256,
}

impl std::fmt::Debug for RlpxMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RlpxMac").finish_non_exhaustive()
    }
}

impl RlpxMac {
    /// An empty state keyed with the mac-secret.
    pub fn new(mac_secret: B256) -> Self {
        RlpxMac {
            cipher: Aes256::new(&mac_secret.0.into()),
            hasher: Keccak256::new(),
        }
    }

    /// Absorbs raw bytes (used to seed the state at the handshake).
    pub fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// The full keccak256 digest of everything absorbed so far.
    pub fn digest(&self) -> B256 {
        B256::from_slice(&self.hasher.clone().finalize())
    }

    /// The first 16 bytes of [`Self::digest`]: what goes on the wire.
    pub fn tag(&self) -> [u8; MAC_LEN] {
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(&self.digest()[..MAC_LEN]);
        tag
    }

    /// `aes(mac-secret, digest[:16])`.
    fn encrypted_tag(&self) -> [u8; MAC_LEN] {
        let mut block = self.tag().into();
        self.cipher.encrypt_block(&mut block);
        block.into()
    }

    /// Absorbs a 16-byte header ciphertext; the header MAC is then [`Self::tag`].
    pub fn update_header(&mut self, header_ciphertext: &[u8; MAC_LEN]) {
        let mut seed = self.encrypted_tag();
        for (s, h) in seed.iter_mut().zip(header_ciphertext) {
            *s ^= h;
        }
        self.hasher.update(seed);
    }

    /// Absorbs a (padded) frame ciphertext; the frame MAC is then [`Self::tag`].
    pub fn update_body(&mut self, frame_ciphertext: &[u8]) {
        self.hasher.update(frame_ciphertext);
        let previous = self.tag();
        let mut seed = self.encrypted_tag();
        for (s, p) in seed.iter_mut().zip(previous) {
            *s ^= p;
        }
        self.hasher.update(seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_does_not_consume_the_running_state() {
        let mut mac = RlpxMac::new(B256::repeat_byte(1));
        mac.update(b"fo");
        let _ = mac.digest();
        mac.update(b"o");
        assert_eq!(mac.digest(), alloy_primitives::keccak256(b"foo"));
    }

    #[test]
    fn both_sides_of_a_connection_compute_the_same_tags() {
        let mut egress = RlpxMac::new(B256::repeat_byte(7));
        egress.update(b"seed");
        let mut ingress = egress.clone();
        egress.update_header(&[9u8; 16]);
        ingress.update_header(&[9u8; 16]);
        assert_eq!(egress.tag(), ingress.tag());
        egress.update_body(&[1u8; 32]);
        ingress.update_body(&[1u8; 32]);
        assert_eq!(egress.tag(), ingress.tag());
        ingress.update_body(&[2u8; 32]);
        assert_ne!(egress.tag(), ingress.tag());
    }
}
