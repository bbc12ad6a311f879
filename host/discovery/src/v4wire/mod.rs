//! The discv4 wire format, pure: no sockets, no clocks.
//!
//! A packet is `hash ‖ signature ‖ packet-type ‖ packet-data` where
//! `signature = sign(keccak256(packet-type ‖ packet-data))` (65 bytes,
//! `r ‖ s ‖ recovery-id`) and `hash = keccak256(signature ‖ packet-type ‖
//! packet-data)` (discv4.md "Wire Protocol").

mod fields;
mod messages;

use alloy_primitives::{B256, keccak256};
use secp256k1::{
    Message as SecpMessage, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

pub use fields::Endpoint;
pub(crate) use fields::ListReader;
pub use messages::{
    EnrRequest, EnrResponse, FindNode, Message, Neighbours, Ping, Pong, is_expired,
};

use crate::{
    error::DecodeError,
    node::{NodeRecord, PeerId, peer_id},
    protocol::{HASH_SIZE, HEAD_SIZE, MAX_PACKET_SIZE},
};

/// A decoded, signature-checked packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The message it carries.
    pub message: Message,
    /// The sender's node id, recovered from the signature.
    pub sender: PeerId,
    /// The packet hash (what a Pong or ENRResponse quotes as its reply token).
    pub hash: B256,
}

/// Signs and frames `message` with `key`. Returns the datagram and its hash.
pub fn encode(key: &SecretKey, message: &Message) -> (Vec<u8>, B256) {
    let mut datagram = vec![0u8; HEAD_SIZE];
    datagram.push(message.packet_type());
    message.encode_body(&mut datagram);

    let digest = keccak256(&datagram[HEAD_SIZE..]);
    let signature = SECP256K1.sign_ecdsa_recoverable(SecpMessage::from_digest(digest.0), key);
    let (recovery, compact) = signature.serialize_compact();
    datagram[HASH_SIZE..HASH_SIZE + 64].copy_from_slice(&compact);
    // Recovery ids are 0..=3; the enum's i32 value always fits a byte.
    datagram[HEAD_SIZE - 1] = i32::from(recovery) as u8;

    let hash = keccak256(&datagram[HASH_SIZE..]);
    datagram[..HASH_SIZE].copy_from_slice(hash.as_slice());
    (datagram, hash)
}

/// Whether `datagram` is framed as discv4: long enough, and its first 32
/// bytes are keccak256 of the rest. This is how discv4 frames are told apart
/// from discv5 frames on the shared UDP port.
pub fn is_discv4(datagram: &[u8]) -> bool {
    datagram.len() > HEAD_SIZE
        && datagram.len() <= MAX_PACKET_SIZE
        && keccak256(&datagram[HASH_SIZE..]).as_slice() == &datagram[..HASH_SIZE]
}

/// Splits `nodes` into as few Neighbors messages as keep every packet within
/// the 1280-byte limit (at least one message, empty if there are no nodes).
pub fn split_neighbours(nodes: &[NodeRecord], expiration: u64) -> Vec<Neighbours> {
    let fits = |nodes: &[NodeRecord]| {
        let message = Neighbours {
            nodes: nodes.to_vec(),
            expiration,
        };
        HEAD_SIZE + 1 + alloy_rlp::Encodable::length(&message) <= MAX_PACKET_SIZE
    };
    let mut packets = Vec::new();
    let mut current: Vec<NodeRecord> = Vec::new();
    for node in nodes {
        current.push(*node);
        if !fits(&current) && current.len() > 1 {
            current.pop();
            packets.push(Neighbours {
                nodes: std::mem::take(&mut current),
                expiration,
            });
            current.push(*node);
        }
    }
    if !current.is_empty() || packets.is_empty() {
        packets.push(Neighbours {
            nodes: current,
            expiration,
        });
    }
    packets
}

/// Checks the frame and signature of `datagram` and decodes its message.
/// Never panics, whatever the input.
pub fn decode(datagram: &[u8]) -> Result<Packet, DecodeError> {
    if datagram.len() <= HEAD_SIZE {
        return Err(DecodeError::TooSmall {
            len: datagram.len(),
        });
    }
    if datagram.len() > MAX_PACKET_SIZE {
        return Err(DecodeError::TooBig {
            len: datagram.len(),
            max: MAX_PACKET_SIZE,
        });
    }
    let hash = keccak256(&datagram[HASH_SIZE..]);
    if hash.as_slice() != &datagram[..HASH_SIZE] {
        return Err(DecodeError::HashMismatch);
    }

    let signature = &datagram[HASH_SIZE..HEAD_SIZE];
    let recovery =
        RecoveryId::try_from(i32::from(signature[64])).map_err(|_| DecodeError::BadSignature)?;
    let signature = RecoverableSignature::from_compact(&signature[..64], recovery)
        .map_err(|_| DecodeError::BadSignature)?;
    let digest = keccak256(&datagram[HEAD_SIZE..]);
    let key = SECP256K1
        .recover_ecdsa(SecpMessage::from_digest(digest.0), &signature)
        .map_err(|_| DecodeError::BadSignature)?;

    let packet_type = datagram[HEAD_SIZE];
    let message = Message::decode_body(packet_type, &datagram[HEAD_SIZE + 1..])?;
    Ok(Packet {
        message,
        sender: peer_id(&key),
        hash,
    })
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B512;
    use rand::{Rng, RngCore};

    use super::*;
    use crate::node::peer_id_of_secret;

    fn key() -> SecretKey {
        SecretKey::from_byte_array([0x42; 32]).expect("key")
    }

    #[test]
    fn encode_then_decode_recovers_sender_and_hash() {
        let message = Message::FindNode(FindNode {
            target: B512::repeat_byte(9),
            expiration: 1_800_000_000,
        });
        let (datagram, hash) = encode(&key(), &message);
        assert!(is_discv4(&datagram));
        let packet = decode(&datagram).expect("decode");
        assert_eq!(packet.message, message);
        assert_eq!(packet.hash, hash);
        assert_eq!(packet.sender, peer_id_of_secret(&key()));
    }

    #[test]
    fn tampering_is_detected() {
        let message = Message::EnrRequest(EnrRequest { expiration: 1 });
        let (mut datagram, _) = encode(&key(), &message);
        let last = datagram.len() - 1;
        datagram[last] ^= 1;
        assert_eq!(decode(&datagram), Err(DecodeError::HashMismatch));
        assert!(!is_discv4(&datagram));
        assert_eq!(
            decode(&datagram[..50]),
            Err(DecodeError::TooSmall { len: 50 })
        );
    }

    #[test]
    fn unknown_type_is_an_error_after_the_signature_checks() {
        // Re-frame a valid body under type 66, as go-ethereum's v4test does.
        let message = Message::EnrRequest(EnrRequest { expiration: 1 });
        let (datagram, _) = encode(&key(), &message);
        let mut body = datagram[HEAD_SIZE..].to_vec();
        body[0] = 66;
        let mut framed = vec![0u8; HEAD_SIZE];
        framed.extend_from_slice(&body);
        let digest = keccak256(&framed[HEAD_SIZE..]);
        let sig = SECP256K1.sign_ecdsa_recoverable(SecpMessage::from_digest(digest.0), &key());
        let (rec, compact) = sig.serialize_compact();
        framed[HASH_SIZE..HASH_SIZE + 64].copy_from_slice(&compact);
        framed[HEAD_SIZE - 1] = i32::from(rec) as u8;
        let hash = keccak256(&framed[HASH_SIZE..]);
        framed[..HASH_SIZE].copy_from_slice(hash.as_slice());
        assert_eq!(decode(&framed), Err(DecodeError::UnknownType(66)));
    }

    #[test]
    fn neighbours_are_split_to_fit_1280_bytes() {
        let node = |i: u8, ip: &str| NodeRecord {
            id: B512::repeat_byte(i),
            ip: ip.parse().expect("ip"),
            udp: 30303,
            tcp: 30303,
        };
        assert_eq!(split_neighbours(&[], 1).len(), 1);
        for ip in ["1.2.3.4", "2001:db8::1"] {
            let nodes: Vec<_> = (0..16).map(|i| node(i, ip)).collect();
            let packets = split_neighbours(&nodes, u64::MAX);
            assert!(packets.len() >= 2, "16 nodes never fit one packet");
            let mut all = Vec::new();
            for packet in packets {
                let (datagram, _) = encode(&key(), &Message::Neighbours(packet.clone()));
                assert!(
                    datagram.len() <= MAX_PACKET_SIZE,
                    "{} bytes",
                    datagram.len()
                );
                all.extend(packet.nodes);
            }
            assert_eq!(all, nodes);
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = rand::rng();
        let valid = encode(
            &key(),
            &Message::Ping(Ping {
                version: 4,
                from: Endpoint {
                    ip: "127.0.0.1".parse().expect("ip"),
                    udp: 1,
                    tcp: 2,
                },
                to: Endpoint {
                    ip: "::1".parse().expect("ip"),
                    udp: 3,
                    tcp: 4,
                },
                expiration: 5,
                enr_seq: Some(6),
            }),
        )
        .0;
        for _ in 0..5_000 {
            let len = rng.random_range(0..1400);
            let mut garbage = vec![0u8; len];
            rng.fill_bytes(&mut garbage);
            let _ = decode(&garbage);
            // Garbage bodies behind a valid frame reach the RLP decoder.
            let body_len = rng.random_range(0..200);
            let mut body = vec![0u8; body_len];
            rng.fill_bytes(&mut body);
            for packet_type in 0u8..8 {
                let _ = Message::decode_body(packet_type, &body);
            }
            // Single-byte corruptions of a valid body.
            let mut body = valid[HEAD_SIZE + 1..].to_vec();
            let at = rng.random_range(0..body.len());
            body[at] = rng.random();
            let _ = Message::decode_body(crate::protocol::PING, &body);
        }
    }
}
