//! The RLPx key exchange as two pure state holders, [`Initiator`] and
//! [`Recipient`] (devp2p `rlpx.md`, "Initial Handshake"; EIP-8):
//!
//! ```text
//! initiator → recipient   auth   (signed with the initiator's ephemeral key)
//! recipient → initiator   ack    (same format as the auth it answers)
//! ```
//!
//! They build and read packets from byte slices and derive [`Secrets`]; the
//! codec drives them over a socket. Packets we send are EIP-8 unless asked
//! otherwise; we read both formats.

use alloy_primitives::{B256, keccak256};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
    rand::Rng,
};

use crate::{
    auth::{AckBody, AuthBody, HandshakeFormat},
    ecies,
    error::RlpxError,
    id::{NodeId, node_id, public_key},
    protocol::{
        ECIES_OVERHEAD, EIP8_MAX_PADDING, EIP8_MIN_PADDING, HANDSHAKE_VERSION,
        LEGACY_ACK_PACKET_SIZE, LEGACY_AUTH_PACKET_SIZE, MAX_HANDSHAKE_PACKET_SIZE,
    },
    secrets::{HandshakeTranscript, Role, Secrets},
};

/// A handshake packet taken from the front of a buffer and decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptedPacket {
    /// How it was encoded.
    pub format: HandshakeFormat,
    /// The bytes as they were on the wire (size prefix included); the
    /// caller consumes this many bytes.
    pub packet: Vec<u8>,
    /// The decrypted body.
    pub plaintext: Vec<u8>,
}

/// Reads one handshake packet of either format from a growing buffer.
///
/// A packet that starts with `0x04` may be a legacy one (an ECIES message
/// begins with the uncompressed-key tag) or an EIP-8 one of 1024–1279 bytes;
/// the legacy reading is tried once the fixed legacy length has arrived, as
/// EIP-8 describes, and EIP-8 is assumed after that.
#[derive(Clone, Debug)]
pub struct PacketReader {
    legacy_len: usize,
    legacy_ruled_out: bool,
}

impl PacketReader {
    /// A reader for auth packets (legacy length 307).
    pub fn auth() -> Self {
        PacketReader {
            legacy_len: LEGACY_AUTH_PACKET_SIZE,
            legacy_ruled_out: false,
        }
    }

    /// A reader for ack packets (legacy length 210).
    pub fn ack() -> Self {
        PacketReader {
            legacy_len: LEGACY_ACK_PACKET_SIZE,
            legacy_ruled_out: false,
        }
    }

    /// The packet at the front of `buf`, `Ok(None)` while incomplete. Refuses
    /// EIP-8 packets whose size prefix exceeds [`MAX_HANDSHAKE_PACKET_SIZE`].
    pub fn read(
        &mut self,
        buf: &[u8],
        ours: &SecretKey,
    ) -> Result<Option<DecryptedPacket>, RlpxError> {
        if buf.first() == Some(&0x04) && !self.legacy_ruled_out {
            // EIP-8 packets starting with 0x04 are at least 1026 bytes, longer
            // than either legacy packet: waiting for the legacy length is safe.
            let Some(candidate) = buf.get(..self.legacy_len) else {
                return Ok(None);
            };
            if let Ok(plaintext) = ecies::decrypt(ours, candidate, &[]) {
                return Ok(Some(DecryptedPacket {
                    format: HandshakeFormat::Legacy,
                    packet: candidate.to_vec(),
                    plaintext,
                }));
            }
            self.legacy_ruled_out = true;
        }
        let Some(prefix) = buf.get(..2) else {
            return Ok(None);
        };
        let size = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        if size > MAX_HANDSHAKE_PACKET_SIZE {
            return Err(RlpxError::HandshakeTooBig {
                size,
                max: MAX_HANDSHAKE_PACKET_SIZE,
            });
        }
        let Some(packet) = buf.get(..2 + size) else {
            return Ok(None);
        };
        let plaintext = ecies::decrypt(ours, &packet[2..], prefix)?;
        Ok(Some(DecryptedPacket {
            format: HandshakeFormat::Eip8,
            packet: packet.to_vec(),
            plaintext,
        }))
    }
}

/// Encrypts a handshake body to `remote` as a packet of `format`: EIP-8 adds
/// random padding (100–300 bytes) and the authenticated size prefix.
fn seal<R: Rng + ?Sized>(
    format: HandshakeFormat,
    legacy_body: impl FnOnce() -> Vec<u8>,
    eip8_body: impl FnOnce() -> Vec<u8>,
    remote: &PublicKey,
    rng: &mut R,
) -> Result<Vec<u8>, RlpxError> {
    match format {
        HandshakeFormat::Legacy => ecies::encrypt(remote, &legacy_body(), &[], rng),
        HandshakeFormat::Eip8 => {
            let mut body = eip8_body();
            let padding = rng.random_range(EIP8_MIN_PADDING..=EIP8_MAX_PADDING);
            body.resize(body.len() + padding, 0);
            let size = u16::try_from(body.len() + ECIES_OVERHEAD)
                .map_err(|_| RlpxError::InvalidState("handshake body larger than 64 KiB"))?;
            let prefix = size.to_be_bytes();
            let mut packet = prefix.to_vec();
            packet.extend_from_slice(&ecies::encrypt(remote, &body, &prefix, rng)?);
            Ok(packet)
        }
    }
}

/// `static-shared-secret ⊕ nonce`: what the auth signature signs.
fn signed_token(ours: &SecretKey, theirs: &PublicKey, initiator_nonce: B256) -> Message {
    let shared = B256::from(ecies::ecdh_x(theirs, ours));
    Message::from_digest((shared ^ initiator_nonce).0)
}

/// The dialling side: builds auth, then reads ack.
#[derive(Debug)]
pub struct Initiator {
    remote_id: NodeId,
    ephemeral: SecretKey,
    nonce: B256,
    auth_packet: Vec<u8>,
    reader: PacketReader,
    our_key: SecretKey,
}

/// An ack read by the [`Initiator`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedAck {
    /// How it was encoded.
    pub format: HandshakeFormat,
    /// The packet as it was on the wire.
    pub packet: Vec<u8>,
    /// Its body.
    pub body: AckBody,
    /// The recipient's ephemeral public key.
    pub remote_ephemeral: PublicKey,
}

impl Initiator {
    /// Starts a handshake with `remote_id` with fresh randomness, sending an
    /// auth of `format`.
    pub fn new(
        our_key: &SecretKey,
        remote_id: NodeId,
        format: HandshakeFormat,
    ) -> Result<Self, RlpxError> {
        let mut rng = secp256k1::rand::rng();
        let ephemeral = SecretKey::new(&mut rng);
        let nonce = B256::from(rng.random::<[u8; 32]>());
        Self::with_ephemeral(our_key, remote_id, format, ephemeral, nonce, &mut rng)
    }

    /// [`Self::new`] with the ephemeral key and nonce given, and `rng` for
    /// the ECIES encryption and padding (for vectors and fuzzing).
    pub fn with_ephemeral<R: Rng + ?Sized>(
        our_key: &SecretKey,
        remote_id: NodeId,
        format: HandshakeFormat,
        ephemeral: SecretKey,
        nonce: B256,
        rng: &mut R,
    ) -> Result<Self, RlpxError> {
        let remote_key = public_key(&remote_id)?;
        let signature =
            SECP256K1.sign_ecdsa_recoverable(signed_token(our_key, &remote_key, nonce), &ephemeral);
        let (recovery_id, compact) = signature.serialize_compact();
        let mut sig = [0u8; 65];
        sig[..64].copy_from_slice(&compact);
        sig[64] = i32::from(recovery_id) as u8;
        let ephemeral_id = node_id(&PublicKey::from_secret_key(SECP256K1, &ephemeral));
        let body = AuthBody {
            signature: sig,
            initiator_id: crate::id::node_id_of(our_key),
            nonce,
            version: HANDSHAKE_VERSION,
            ephemeral_hash: Some(keccak256(ephemeral_id)),
            rest: Vec::new(),
        };
        let auth_packet = seal(
            format,
            || body.encode_legacy(),
            || body.encode_eip8(),
            &remote_key,
            rng,
        )?;
        Ok(Initiator {
            remote_id,
            ephemeral,
            nonce,
            auth_packet,
            reader: PacketReader::ack(),
            our_key: *our_key,
        })
    }

    /// The auth packet to send.
    pub fn auth_packet(&self) -> &[u8] {
        &self.auth_packet
    }

    /// The node id we are dialling.
    pub fn remote_id(&self) -> NodeId {
        self.remote_id
    }

    /// The ack at the front of `buf`, `Ok(None)` while incomplete.
    pub fn read_ack(&mut self, buf: &[u8]) -> Result<Option<ReceivedAck>, RlpxError> {
        let Some(packet) = self.reader.read(buf, &self.our_key)? else {
            return Ok(None);
        };
        let body = match packet.format {
            HandshakeFormat::Legacy => AckBody::decode_legacy(&packet.plaintext)?,
            HandshakeFormat::Eip8 => AckBody::decode_eip8(&packet.plaintext)?,
        };
        let remote_ephemeral = public_key(&body.ephemeral_id)?;
        Ok(Some(ReceivedAck {
            format: packet.format,
            packet: packet.packet,
            body,
            remote_ephemeral,
        }))
    }

    /// The session secrets once `ack` has been read.
    pub fn secrets(&self, ack: &ReceivedAck) -> Secrets {
        Secrets::derive(&HandshakeTranscript {
            role: Role::Initiator,
            remote_id: self.remote_id,
            local_ephemeral: &self.ephemeral,
            remote_ephemeral: &ack.remote_ephemeral,
            initiator_nonce: self.nonce,
            recipient_nonce: ack.body.nonce,
            auth_packet: &self.auth_packet,
            ack_packet: &ack.packet,
        })
    }
}

/// The accepting side: reads auth, then builds ack.
#[derive(Debug)]
pub struct Recipient {
    our_key: SecretKey,
    ephemeral: SecretKey,
    nonce: B256,
    reader: PacketReader,
}

/// An auth read by the [`Recipient`], signature checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedAuth {
    /// How it was encoded (the ack answers in kind).
    pub format: HandshakeFormat,
    /// The packet as it was on the wire.
    pub packet: Vec<u8>,
    /// Its body.
    pub body: AuthBody,
    /// The initiator's static key.
    pub remote_key: PublicKey,
    /// The initiator's ephemeral key, recovered from the signature.
    pub remote_ephemeral: PublicKey,
}

impl ReceivedAuth {
    /// The initiator's node id.
    pub fn remote_id(&self) -> NodeId {
        self.body.initiator_id
    }
}

impl Recipient {
    /// Waits for a handshake with fresh randomness.
    pub fn new(our_key: &SecretKey) -> Self {
        let mut rng = secp256k1::rand::rng();
        let ephemeral = SecretKey::new(&mut rng);
        Self::with_ephemeral(our_key, ephemeral, B256::from(rng.random::<[u8; 32]>()))
    }

    /// [`Self::new`] with the ephemeral key and nonce given.
    pub fn with_ephemeral(our_key: &SecretKey, ephemeral: SecretKey, nonce: B256) -> Self {
        Recipient {
            our_key: *our_key,
            ephemeral,
            nonce,
            reader: PacketReader::auth(),
        }
    }

    /// The auth at the front of `buf`, `Ok(None)` while incomplete.
    pub fn read_auth(&mut self, buf: &[u8]) -> Result<Option<ReceivedAuth>, RlpxError> {
        let Some(packet) = self.reader.read(buf, &self.our_key)? else {
            return Ok(None);
        };
        let body = match packet.format {
            HandshakeFormat::Legacy => AuthBody::decode_legacy(&packet.plaintext)?,
            HandshakeFormat::Eip8 => AuthBody::decode_eip8(&packet.plaintext)?,
        };
        let remote_key = public_key(&body.initiator_id)?;
        let recovery_id = RecoveryId::try_from(i32::from(body.signature[64]))
            .map_err(|_| RlpxError::InvalidAuthSignature)?;
        let signature = RecoverableSignature::from_compact(&body.signature[..64], recovery_id)
            .map_err(|_| RlpxError::InvalidAuthSignature)?;
        let remote_ephemeral = SECP256K1
            .recover_ecdsa(
                signed_token(&self.our_key, &remote_key, body.nonce),
                &signature,
            )
            .map_err(|_| RlpxError::InvalidAuthSignature)?;
        if let Some(hash) = body.ephemeral_hash
            && hash != keccak256(node_id(&remote_ephemeral))
        {
            return Err(RlpxError::EphemeralKeyHashMismatch);
        }
        Ok(Some(ReceivedAuth {
            format: packet.format,
            packet: packet.packet,
            body,
            remote_key,
            remote_ephemeral,
        }))
    }

    /// The ack answering `auth` (in the same format) and the session secrets.
    pub fn respond<R: Rng + ?Sized>(
        &self,
        auth: &ReceivedAuth,
        rng: &mut R,
    ) -> Result<(Vec<u8>, Secrets), RlpxError> {
        let body = AckBody {
            ephemeral_id: node_id(&PublicKey::from_secret_key(SECP256K1, &self.ephemeral)),
            nonce: self.nonce,
            version: HANDSHAKE_VERSION,
            rest: Vec::new(),
        };
        let ack_packet = seal(
            auth.format,
            || body.encode_legacy(),
            || body.encode_eip8(),
            &auth.remote_key,
            rng,
        )?;
        let secrets = self.secrets(auth, &ack_packet);
        Ok((ack_packet, secrets))
    }

    /// The session secrets for `auth` answered by `ack_packet` (the bytes we
    /// sent).
    pub fn secrets(&self, auth: &ReceivedAuth, ack_packet: &[u8]) -> Secrets {
        Secrets::derive(&HandshakeTranscript {
            role: Role::Recipient,
            remote_id: auth.remote_id(),
            local_ephemeral: &self.ephemeral,
            remote_ephemeral: &auth.remote_ephemeral,
            initiator_nonce: auth.body.nonce,
            recipient_nonce: self.nonce,
            auth_packet: &auth.packet,
            ack_packet,
        })
    }
}

#[cfg(test)]
mod tests {
    use secp256k1::rand::{SeedableRng, rngs::StdRng};

    use super::*;
    use crate::id::node_id_of;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_byte_array([byte; 32]).unwrap()
    }

    #[test]
    fn both_formats_agree_on_the_secrets_in_memory() {
        let mut rng = StdRng::seed_from_u64(3);
        for format in [HandshakeFormat::Eip8, HandshakeFormat::Legacy] {
            let (a, b) = (key(1), key(2));
            let mut initiator = Initiator::with_ephemeral(
                &a,
                node_id_of(&b),
                format,
                key(3),
                B256::repeat_byte(5),
                &mut rng,
            )
            .unwrap();
            let mut recipient = Recipient::with_ephemeral(&b, key(4), B256::repeat_byte(6));
            let auth = recipient
                .read_auth(initiator.auth_packet())
                .unwrap()
                .unwrap();
            assert_eq!((auth.format, auth.remote_id()), (format, node_id_of(&a)));
            let (ack_packet, b_secrets) = recipient.respond(&auth, &mut rng).unwrap();
            let ack = initiator.read_ack(&ack_packet).unwrap().unwrap();
            assert_eq!(ack.format, format, "the ack answers in kind");
            let a_secrets = initiator.secrets(&ack);
            assert_eq!(a_secrets.remote_id, node_id_of(&b));
            assert_eq!(b_secrets.remote_id, node_id_of(&a));
            assert_eq!(a_secrets.aes_secret, b_secrets.aes_secret);
            assert_eq!(a_secrets.mac_secret, b_secrets.mac_secret);
            assert_eq!(
                a_secrets.egress_mac.digest(),
                b_secrets.ingress_mac.digest()
            );
            assert_eq!(
                a_secrets.ingress_mac.digest(),
                b_secrets.egress_mac.digest()
            );
            let len = initiator.auth_packet().len();
            match format {
                HandshakeFormat::Legacy => assert_eq!((len, ack_packet.len()), (307, 210)),
                HandshakeFormat::Eip8 => {
                    assert!((2 + 169 + 113 + 100..=2 + 169 + 113 + 300).contains(&len))
                }
            }
        }
    }

    #[test]
    fn an_eip8_packet_whose_size_starts_with_0x04_is_not_mistaken_for_legacy() {
        // A size prefix of 0x04xx (1024–1279 bytes) begins like a legacy packet.
        let mut rng = StdRng::seed_from_u64(4);
        let ours = key(2);
        let public = PublicKey::from_secret_key(SECP256K1, &ours);
        let body = vec![0xC0; 1100 - ECIES_OVERHEAD];
        let prefix = 1100u16.to_be_bytes();
        assert_eq!(prefix[0], 0x04);
        let mut packet = prefix.to_vec();
        packet.extend_from_slice(&ecies::encrypt(&public, &body, &prefix, &mut rng).unwrap());
        let mut reader = PacketReader::auth();
        for end in [0, 1, 2, 306, 307, 308, 1000, 1101] {
            assert!(
                reader.read(&packet[..end], &ours).unwrap().is_none(),
                "complete at {end}"
            );
        }
        let read = reader.read(&packet, &ours).unwrap().unwrap();
        assert_eq!(
            (read.format, read.plaintext.len(), read.packet.len()),
            (HandshakeFormat::Eip8, body.len(), 1102)
        );
    }

    #[test]
    fn a_forged_or_mismatched_auth_is_refused() {
        let mut rng = StdRng::seed_from_u64(5);
        let (a, b) = (key(1), key(2));
        // Legacy auth whose ephemeral-key hash does not match the signature.
        let initiator = Initiator::with_ephemeral(
            &a,
            node_id_of(&b),
            HandshakeFormat::Legacy,
            key(3),
            B256::ZERO,
            &mut rng,
        )
        .unwrap();
        let mut recipient = Recipient::with_ephemeral(&b, key(4), B256::ZERO);
        let mut plain = PacketReader::auth()
            .read(initiator.auth_packet(), &b)
            .unwrap()
            .unwrap()
            .plaintext;
        plain[70] ^= 1;
        let packet = ecies::encrypt(
            &PublicKey::from_secret_key(SECP256K1, &b),
            &plain,
            &[],
            &mut rng,
        )
        .unwrap();
        assert!(matches!(
            recipient.read_auth(&packet),
            Err(RlpxError::EphemeralKeyHashMismatch)
        ));
        // A recovery id of 4 is not a signature.
        plain[70] ^= 1;
        plain[64] = 4;
        let packet = ecies::encrypt(
            &PublicKey::from_secret_key(SECP256K1, &b),
            &plain,
            &[],
            &mut rng,
        )
        .unwrap();
        assert!(matches!(
            recipient.read_auth(&packet),
            Err(RlpxError::InvalidAuthSignature)
        ));
        // An auth for someone else.
        let other = Initiator::with_ephemeral(
            &a,
            node_id_of(&key(9)),
            HandshakeFormat::Eip8,
            key(3),
            B256::ZERO,
            &mut rng,
        )
        .unwrap();
        assert!(matches!(
            recipient.read_auth(other.auth_packet()),
            Err(RlpxError::TagCheckDecryptFailed)
        ));
    }
}
