//! The plaintext bodies of the two handshake packets, in both encodings
//! (devp2p `rlpx.md` "Initial Handshake", EIP-8):
//!
//! ```text
//! legacy auth  = sig ‖ keccak256(ephemeral-pubk) ‖ initiator-pubk ‖ initiator-nonce ‖ 0x00
//! legacy ack   = recipient-ephemeral-pubk ‖ recipient-nonce ‖ 0x00
//! EIP-8 auth   = rlp([sig, initiator-pubk, initiator-nonce, auth-vsn, ...]) ‖ junk
//! EIP-8 ack    = rlp([recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...]) ‖ junk
//! ```
//!
//! EIP-8 decoding ignores the version, additional list elements and anything
//! after the list. Pure encoding and decoding; no cryptography here.

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, Header};

use crate::{
    error::RlpxError,
    id::NodeId,
    protocol::{HANDSHAKE_VERSION, LEGACY_ACK_BODY_SIZE, LEGACY_AUTH_BODY_SIZE},
};

/// How a handshake packet is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeFormat {
    /// The original fixed-size encoding (RLPx v4 before EIP-8): 307-byte auth,
    /// 210-byte ack, no size prefix.
    Legacy,
    /// EIP-8: a 16-bit size prefix, an RLP body and random padding.
    Eip8,
}

/// The auth body the initiator sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthBody {
    /// Recoverable signature (r ‖ s ‖ v, v ∈ {0, 1}) by the initiator's
    /// ephemeral key over `static-shared-secret ⊕ initiator-nonce`.
    pub signature: [u8; 65],
    /// The initiator's node id (static public key).
    pub initiator_id: NodeId,
    /// The initiator's nonce.
    pub nonce: B256,
    /// `auth-vsn` (4 for legacy packets); ignored, as EIP-8 requires.
    pub version: u64,
    /// Legacy only: keccak256 of the initiator's ephemeral public key.
    pub ephemeral_hash: Option<B256>,
    /// EIP-8 only: the additional list elements, each as raw RLP.
    pub rest: Vec<Bytes>,
}

/// The ack body the recipient sends back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckBody {
    /// The recipient's ephemeral public key, as a node id.
    pub ephemeral_id: NodeId,
    /// The recipient's nonce.
    pub nonce: B256,
    /// `ack-vsn` (4 for legacy packets); ignored, as EIP-8 requires.
    pub version: u64,
    /// EIP-8 only: the additional list elements, each as raw RLP.
    pub rest: Vec<Bytes>,
}

impl AuthBody {
    /// The legacy encoding (194 bytes). `ephemeral_hash` must be set.
    pub fn encode_legacy(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEGACY_AUTH_BODY_SIZE);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(self.ephemeral_hash.unwrap_or_default().as_slice());
        out.extend_from_slice(self.initiator_id.as_slice());
        out.extend_from_slice(self.nonce.as_slice());
        out.push(0x00);
        out
    }

    /// The EIP-8 RLP list (without padding).
    pub fn encode_eip8(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(200);
        self.signature.encode(&mut payload);
        self.initiator_id.0.encode(&mut payload);
        self.nonce.0.encode(&mut payload);
        self.version.encode(&mut payload);
        for item in &self.rest {
            payload.extend_from_slice(item);
        }
        wrap_list(payload)
    }

    /// Decodes a legacy body: exactly 194 bytes.
    pub fn decode_legacy(body: &[u8]) -> Result<Self, RlpxError> {
        if body.len() != LEGACY_AUTH_BODY_SIZE {
            return Err(RlpxError::InvalidAuthData(
                "legacy auth body is not 194 bytes",
            ));
        }
        let mut signature = [0u8; 65];
        signature.copy_from_slice(&body[..65]);
        Ok(AuthBody {
            signature,
            ephemeral_hash: Some(B256::from_slice(&body[65..97])),
            initiator_id: NodeId::from_slice(&body[97..161]),
            nonce: B256::from_slice(&body[161..193]),
            version: HANDSHAKE_VERSION,
            rest: Vec::new(),
        })
    }

    /// Decodes an EIP-8 body (an RLP list, then anything).
    pub fn decode_eip8(body: &[u8]) -> Result<Self, RlpxError> {
        let bad = RlpxError::InvalidAuthData;
        let mut items = open_list(body).map_err(|_| bad("not an RLP list"))?;
        let signature = <[u8; 65]>::decode(&mut items).map_err(|_| bad("signature"))?;
        let initiator_id =
            <[u8; 64]>::decode(&mut items).map_err(|_| bad("initiator public key"))?;
        let nonce = <[u8; 32]>::decode(&mut items).map_err(|_| bad("nonce"))?;
        let version = u64::decode(&mut items).map_err(|_| bad("version"))?;
        let rest = raw_items(items).map_err(|_| bad("additional elements"))?;
        Ok(AuthBody {
            signature,
            initiator_id: NodeId::from(initiator_id),
            nonce: B256::from(nonce),
            version,
            ephemeral_hash: None,
            rest,
        })
    }
}

impl AckBody {
    /// The legacy encoding (97 bytes).
    pub fn encode_legacy(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEGACY_ACK_BODY_SIZE);
        out.extend_from_slice(self.ephemeral_id.as_slice());
        out.extend_from_slice(self.nonce.as_slice());
        out.push(0x00);
        out
    }

    /// The EIP-8 RLP list (without padding).
    pub fn encode_eip8(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(120);
        self.ephemeral_id.0.encode(&mut payload);
        self.nonce.0.encode(&mut payload);
        self.version.encode(&mut payload);
        for item in &self.rest {
            payload.extend_from_slice(item);
        }
        wrap_list(payload)
    }

    /// Decodes a legacy body: exactly 97 bytes.
    pub fn decode_legacy(body: &[u8]) -> Result<Self, RlpxError> {
        if body.len() != LEGACY_ACK_BODY_SIZE {
            return Err(RlpxError::InvalidAckData("legacy ack body is not 97 bytes"));
        }
        Ok(AckBody {
            ephemeral_id: NodeId::from_slice(&body[..64]),
            nonce: B256::from_slice(&body[64..96]),
            version: HANDSHAKE_VERSION,
            rest: Vec::new(),
        })
    }

    /// Decodes an EIP-8 body (an RLP list, then anything).
    pub fn decode_eip8(body: &[u8]) -> Result<Self, RlpxError> {
        let bad = RlpxError::InvalidAckData;
        let mut items = open_list(body).map_err(|_| bad("not an RLP list"))?;
        let ephemeral_id =
            <[u8; 64]>::decode(&mut items).map_err(|_| bad("ephemeral public key"))?;
        let nonce = <[u8; 32]>::decode(&mut items).map_err(|_| bad("nonce"))?;
        let version = u64::decode(&mut items).map_err(|_| bad("version"))?;
        let rest = raw_items(items).map_err(|_| bad("additional elements"))?;
        Ok(AckBody {
            ephemeral_id: NodeId::from(ephemeral_id),
            nonce: B256::from(nonce),
            version,
            rest,
        })
    }
}

/// `payload` with an RLP list header in front.
fn wrap_list(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&payload);
    out
}

/// The payload of the RLP list at the front of `data` (trailing bytes are
/// the EIP-8 padding and are ignored).
fn open_list(mut data: &[u8]) -> alloy_rlp::Result<&[u8]> {
    let header = Header::decode(&mut data)?;
    if !header.list {
        return Err(alloy_rlp::Error::UnexpectedString);
    }
    Ok(&data[..header.payload_length])
}

/// Splits a list payload into its items, each kept as raw RLP.
pub(crate) fn raw_items(mut data: &[u8]) -> alloy_rlp::Result<Vec<Bytes>> {
    let mut items = Vec::new();
    while !data.is_empty() {
        let before = data;
        let header = Header::decode(&mut data)?;
        data = &data[header.payload_length..];
        items.push(Bytes::copy_from_slice(&before[..before.len() - data.len()]));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> AuthBody {
        AuthBody {
            signature: [1u8; 65],
            initiator_id: NodeId::repeat_byte(2),
            nonce: B256::repeat_byte(3),
            version: 4,
            ephemeral_hash: Some(B256::repeat_byte(5)),
            rest: Vec::new(),
        }
    }

    #[test]
    fn legacy_auth_and_ack_round_trip() {
        let auth = auth();
        let encoded = auth.encode_legacy();
        assert_eq!(encoded.len(), LEGACY_AUTH_BODY_SIZE);
        assert_eq!(AuthBody::decode_legacy(&encoded).unwrap(), auth);

        let ack = AckBody {
            ephemeral_id: NodeId::repeat_byte(9),
            nonce: B256::repeat_byte(8),
            version: 4,
            rest: vec![],
        };
        let encoded = ack.encode_legacy();
        assert_eq!(encoded.len(), LEGACY_ACK_BODY_SIZE);
        assert_eq!(AckBody::decode_legacy(&encoded).unwrap(), ack);
    }

    #[test]
    fn eip8_bodies_round_trip_and_ignore_padding_and_extra_elements() {
        let mut auth = auth();
        auth.ephemeral_hash = None;
        auth.version = 56;
        auth.rest = vec![
            Bytes::from_static(&[0x01]),
            Bytes::from_static(&[0xC2, 0x04, 0x05]),
        ];
        let mut encoded = auth.encode_eip8();
        encoded.extend_from_slice(&[0u8; 150]);
        assert_eq!(AuthBody::decode_eip8(&encoded).unwrap(), auth);

        let ack = AckBody {
            ephemeral_id: NodeId::repeat_byte(9),
            nonce: B256::repeat_byte(8),
            version: 57,
            rest: vec![Bytes::from_static(&[0x81, 0xFA])],
        };
        let mut encoded = ack.encode_eip8();
        encoded.extend_from_slice(&[0xAA; 100]);
        assert_eq!(AckBody::decode_eip8(&encoded).unwrap(), ack);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(matches!(
            AuthBody::decode_legacy(&[0u8; 193]),
            Err(RlpxError::InvalidAuthData(_))
        ));
        assert!(matches!(
            AckBody::decode_legacy(&[0u8; 98]),
            Err(RlpxError::InvalidAckData(_))
        ));
        assert!(matches!(
            AuthBody::decode_eip8(&[0x80]),
            Err(RlpxError::InvalidAuthData(_))
        ));
        assert!(matches!(
            AuthBody::decode_eip8(&[]),
            Err(RlpxError::InvalidAuthData(_))
        ));
        // A list whose signature is 64 bytes instead of 65.
        let mut payload = Vec::new();
        [0u8; 64].encode(&mut payload);
        assert!(matches!(
            AuthBody::decode_eip8(&wrap_list(payload)),
            Err(RlpxError::InvalidAuthData("signature"))
        ));
        assert!(matches!(
            AckBody::decode_eip8(&[0xC0]),
            Err(RlpxError::InvalidAckData(_))
        ));
    }
}
