//! Node ids: a secp256k1 public key as devp2p writes it (64 bytes, the
//! uncompressed point without its `0x04` tag), and the conversions.

use alloy_primitives::B512;
use secp256k1::{PublicKey, SECP256K1, SecretKey};

use crate::error::RlpxError;

/// A node id: the uncompressed secp256k1 public key without the `0x04` tag
/// (the enode's user part, the Hello `ID`).
pub type NodeId = B512;

/// The node id of a public key.
pub fn node_id(key: &PublicKey) -> NodeId {
    let full = key.serialize_uncompressed();
    let mut id = [0u8; 64];
    id.copy_from_slice(&full[1..]);
    NodeId::from(id)
}

/// The node id belonging to a secret key.
pub fn node_id_of(secret: &SecretKey) -> NodeId {
    node_id(&PublicKey::from_secret_key(SECP256K1, secret))
}

/// The public key a node id stands for; fails when the 64 bytes are not a
/// point on the curve.
pub fn public_key(id: &NodeId) -> Result<PublicKey, RlpxError> {
    let mut full = [0u8; 65];
    full[0] = 0x04;
    full[1..].copy_from_slice(id.as_slice());
    PublicKey::from_byte_array_uncompressed(full).map_err(|_| RlpxError::InvalidPublicKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_the_public_key() {
        let secret = SecretKey::from_byte_array([7u8; 32]).unwrap();
        let id = node_id_of(&secret);
        let key = public_key(&id).unwrap();
        assert_eq!(key, PublicKey::from_secret_key(SECP256K1, &secret));
        assert_eq!(node_id(&key), id);
    }

    #[test]
    fn an_id_off_the_curve_is_refused() {
        assert!(matches!(
            public_key(&NodeId::ZERO),
            Err(RlpxError::InvalidPublicKey)
        ));
        assert!(matches!(
            public_key(&NodeId::repeat_byte(0xff)),
            Err(RlpxError::InvalidPublicKey)
        ));
    }
}
