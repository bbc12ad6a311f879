//! The session secrets both sides derive once auth and ack are exchanged
//! (devp2p `rlpx.md`, "Secrets"):
//!
//! ```text
//! ephemeral-key = ecdh(ephemeral-privkey, remote-ephemeral-pubk)
//! shared-secret = keccak256(ephemeral-key ‖ keccak256(recipient-nonce ‖ initiator-nonce))
//! aes-secret    = keccak256(ephemeral-key ‖ shared-secret)
//! mac-secret    = keccak256(ephemeral-key ‖ aes-secret)
//!
//! initiator: egress-mac = keccak256.init((mac-secret ⊕ recipient-nonce) ‖ auth)
//!            ingress-mac = keccak256.init((mac-secret ⊕ initiator-nonce) ‖ ack)
//! recipient: egress-mac = keccak256.init((mac-secret ⊕ initiator-nonce) ‖ ack)
//!            ingress-mac = keccak256.init((mac-secret ⊕ recipient-nonce) ‖ auth)
//! ```
//!
//! `auth` and `ack` are the packets exactly as sent, EIP-8 size prefix included.

use alloy_primitives::{B256, keccak256};
use secp256k1::{PublicKey, SecretKey};

use crate::{ecies::ecdh_x, id::NodeId, mac::RlpxMac};

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We dialled and sent auth.
    Initiator,
    /// We accepted and sent ack.
    Recipient,
}

/// Everything the framing layer needs, derived at the end of the handshake.
/// Its `Debug` shows the remote id only.
#[derive(Clone)]
pub struct Secrets {
    /// The node id the handshake proved for the other side.
    pub remote_id: NodeId,
    /// Key of both AES-256-CTR streams (IV zero).
    pub aes_secret: B256,
    /// Key of the MAC's block cipher.
    pub mac_secret: B256,
    /// MAC state for what we send.
    pub egress_mac: RlpxMac,
    /// MAC state for what we receive.
    pub ingress_mac: RlpxMac,
}

/// The handshake values [`Secrets::derive`] starts from.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeTranscript<'a> {
    /// Our end.
    pub role: Role,
    /// The other side's node id (static key).
    pub remote_id: NodeId,
    /// Our ephemeral secret key.
    pub local_ephemeral: &'a SecretKey,
    /// The other side's ephemeral public key.
    pub remote_ephemeral: &'a PublicKey,
    /// The initiator's nonce (from auth).
    pub initiator_nonce: B256,
    /// The recipient's nonce (from ack).
    pub recipient_nonce: B256,
    /// The auth packet as sent on the wire.
    pub auth_packet: &'a [u8],
    /// The ack packet as sent on the wire.
    pub ack_packet: &'a [u8],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("remote_id", &self.remote_id)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// Derives the secrets from a finished handshake.
    pub fn derive(t: &HandshakeTranscript<'_>) -> Secrets {
        let ephemeral_key = ecdh_x(t.remote_ephemeral, t.local_ephemeral);
        let nonce_hash =
            keccak256([t.recipient_nonce.as_slice(), t.initiator_nonce.as_slice()].concat());
        let shared_secret = keccak256([&ephemeral_key[..], nonce_hash.as_slice()].concat());
        let aes_secret = keccak256([&ephemeral_key[..], shared_secret.as_slice()].concat());
        let mac_secret = keccak256([&ephemeral_key[..], aes_secret.as_slice()].concat());

        // (mac-secret ⊕ recipient-nonce) ‖ auth, and (mac-secret ⊕ initiator-nonce) ‖ ack.
        let mut after_auth = RlpxMac::new(mac_secret);
        after_auth.update((mac_secret ^ t.recipient_nonce).as_slice());
        after_auth.update(t.auth_packet);
        let mut after_ack = RlpxMac::new(mac_secret);
        after_ack.update((mac_secret ^ t.initiator_nonce).as_slice());
        after_ack.update(t.ack_packet);

        let (egress_mac, ingress_mac) = match t.role {
            Role::Initiator => (after_auth, after_ack),
            Role::Recipient => (after_ack, after_auth),
        };
        Secrets {
            remote_id: t.remote_id,
            aes_secret,
            mac_secret,
            egress_mac,
            ingress_mac,
        }
    }
}
