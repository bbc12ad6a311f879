//! [`RlpxCodec`]: the tokio-util `Decoder`/`Encoder` state machine that runs
//! the handshake and then the framing over a byte stream:
//!
//! ```text
//! initiator:  send Auth → read Ack → Header ⇄ Body
//! recipient:  read Auth → send Ack → Header ⇄ Body
//! ```
//!
//! The cryptography lives in [`crate::handshake`] and [`crate::frame`]; this
//! file only moves bytes between them and the buffers.

use bytes::{Buf, Bytes, BytesMut};
use secp256k1::SecretKey;
use tokio_util::codec::{Decoder, Encoder};
use tracing::trace;

use crate::{
    auth::HandshakeFormat,
    error::RlpxError,
    frame::{FrameCipher, body_wire_len},
    handshake::{Initiator, Recipient},
    id::NodeId,
    protocol::{FRAME_HEADER_LEN, MAX_FRAME_SIZE},
    secrets::Secrets,
};

/// What the decoder yields.
#[derive(Debug, PartialEq, Eq)]
pub enum IngressItem {
    /// Recipient: the auth arrived from this node; send [`EgressItem::Ack`].
    Auth(NodeId),
    /// Initiator: the ack arrived; frames may flow.
    Ack,
    /// One frame's data: `rlp(msg-id) ‖ msg-data`.
    Frame(BytesMut),
}

/// What the encoder takes.
#[derive(Debug, PartialEq, Eq)]
pub enum EgressItem {
    /// Initiator: send the auth packet (first thing on the wire).
    Auth,
    /// Recipient: send the ack packet (after [`IngressItem::Auth`]).
    Ack,
    /// One frame's data: `rlp(msg-id) ‖ msg-data`.
    Frame(Bytes),
}

#[derive(Debug)]
enum Handshake {
    Initiator {
        initiator: Box<Initiator>,
        auth_sent: bool,
    },
    Recipient(Box<Recipient>),
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Reading {
    Header,
    Body { size: usize },
    Failed,
}

/// The RLPx codec of one connection.
#[derive(Debug)]
pub struct RlpxCodec {
    handshake: Handshake,
    pending_ack: Option<Vec<u8>>,
    cipher: Option<FrameCipher>,
    reading: Reading,
    max_frame_size: usize,
    remote_id: Option<NodeId>,
}

impl RlpxCodec {
    /// The dialling side, which will send an auth of `format` to `remote_id`.
    pub fn initiator(
        our_key: &SecretKey,
        remote_id: NodeId,
        format: HandshakeFormat,
    ) -> Result<Self, RlpxError> {
        Ok(Self::from_initiator(Initiator::new(
            our_key, remote_id, format,
        )?))
    }

    /// The dialling side from a prepared [`Initiator`] (fixed randomness).
    pub fn from_initiator(initiator: Initiator) -> Self {
        let remote_id = Some(initiator.remote_id());
        Self::with(
            Handshake::Initiator {
                initiator: Box::new(initiator),
                auth_sent: false,
            },
            remote_id,
        )
    }

    /// The accepting side.
    pub fn recipient(our_key: &SecretKey) -> Self {
        Self::from_recipient(Recipient::new(our_key))
    }

    /// The accepting side from a prepared [`Recipient`] (fixed randomness).
    pub fn from_recipient(recipient: Recipient) -> Self {
        Self::with(Handshake::Recipient(Box::new(recipient)), None)
    }

    /// A codec already past the handshake, framing with `secrets` (for
    /// tests, fuzzing and benchmarks that start from known secrets).
    pub fn from_secrets(secrets: &Secrets) -> Self {
        let mut codec = Self::with(Handshake::Done, Some(secrets.remote_id));
        codec.cipher = Some(FrameCipher::new(secrets));
        codec
    }

    fn with(handshake: Handshake, remote_id: Option<NodeId>) -> Self {
        RlpxCodec {
            handshake,
            pending_ack: None,
            cipher: None,
            reading: Reading::Header,
            max_frame_size: MAX_FRAME_SIZE,
            remote_id,
        }
    }

    /// The remote node id: known from the start when dialling, after
    /// [`IngressItem::Auth`] when accepting.
    pub fn remote_id(&self) -> Option<NodeId> {
        self.remote_id
    }

    /// Lowers (or restores) the largest frame accepted on read; a larger
    /// announced size fails with [`RlpxError::MessageTooBig`] before its body
    /// is read. Capped at [`MAX_FRAME_SIZE`].
    pub fn set_max_frame_size(&mut self, max: usize) {
        self.max_frame_size = max.min(MAX_FRAME_SIZE);
    }

    /// The largest frame accepted on read.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<IngressItem>, RlpxError> {
        let Some(cipher) = self.cipher.as_mut() else {
            return Err(RlpxError::InvalidState(
                "frame before the handshake finished",
            ));
        };
        loop {
            match self.reading {
                Reading::Failed => {
                    return Err(RlpxError::InvalidState("read after a failed frame"));
                }
                Reading::Header => {
                    let Some(header) = buf.get(..FRAME_HEADER_LEN) else {
                        return Ok(None);
                    };
                    let mut bytes = [0u8; FRAME_HEADER_LEN];
                    bytes.copy_from_slice(header);
                    let size = cipher.read_header(&bytes)?;
                    buf.advance(FRAME_HEADER_LEN);
                    if size > self.max_frame_size {
                        return Err(RlpxError::MessageTooBig {
                            size,
                            max: self.max_frame_size,
                        });
                    }
                    trace!(target: "rlpx", size, "frame header");
                    self.reading = Reading::Body { size };
                }
                Reading::Body { size } => {
                    let wire = body_wire_len(size);
                    if buf.len() < wire {
                        buf.reserve(wire - buf.len());
                        return Ok(None);
                    }
                    let mut body = buf.split_to(wire);
                    let data_len = cipher.read_body(&mut body, size)?.len();
                    body.truncate(data_len);
                    self.reading = Reading::Header;
                    return Ok(Some(IngressItem::Frame(body)));
                }
            }
        }
    }
}

impl Decoder for RlpxCodec {
    type Item = IngressItem;
    type Error = RlpxError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<IngressItem>, RlpxError> {
        let result = match &mut self.handshake {
            Handshake::Done => self.decode_frame(buf),
            Handshake::Initiator {
                auth_sent: false, ..
            } => Err(RlpxError::InvalidState("reading before the auth was sent")),
            Handshake::Initiator {
                initiator,
                auth_sent: true,
            } => match initiator.read_ack(buf) {
                Ok(Some(ack)) => {
                    buf.advance(ack.packet.len());
                    trace!(target: "rlpx", format = ?ack.format, "ack received");
                    self.cipher = Some(FrameCipher::new(&initiator.secrets(&ack)));
                    self.handshake = Handshake::Done;
                    Ok(Some(IngressItem::Ack))
                }
                other => other.map(|_| None),
            },
            Handshake::Recipient(recipient) => match recipient.read_auth(buf) {
                Ok(Some(auth)) => {
                    buf.advance(auth.packet.len());
                    trace!(target: "rlpx", format = ?auth.format, "auth received");
                    let (ack, secrets) = recipient.respond(&auth, &mut secp256k1::rand::rng())?;
                    self.pending_ack = Some(ack);
                    self.cipher = Some(FrameCipher::new(&secrets));
                    self.remote_id = Some(auth.remote_id());
                    self.handshake = Handshake::Done;
                    Ok(Some(IngressItem::Auth(auth.remote_id())))
                }
                other => other.map(|_| None),
            },
        };
        if result.is_err() {
            self.reading = Reading::Failed;
        }
        result
    }
}

impl Encoder<EgressItem> for RlpxCodec {
    type Error = RlpxError;

    fn encode(&mut self, item: EgressItem, buf: &mut BytesMut) -> Result<(), RlpxError> {
        match item {
            EgressItem::Auth => match &mut self.handshake {
                Handshake::Initiator {
                    initiator,
                    auth_sent,
                } if !*auth_sent => {
                    buf.extend_from_slice(initiator.auth_packet());
                    *auth_sent = true;
                    Ok(())
                }
                _ => Err(RlpxError::InvalidState("auth sent by a recipient or twice")),
            },
            EgressItem::Ack => {
                let ack = self
                    .pending_ack
                    .take()
                    .ok_or(RlpxError::InvalidState("ack without an auth to answer"))?;
                buf.extend_from_slice(&ack);
                Ok(())
            }
            EgressItem::Frame(data) => match (&mut self.cipher, &self.pending_ack) {
                (Some(cipher), None) => cipher.write_frame(&data, buf),
                _ => Err(RlpxError::InvalidState(
                    "frame before the handshake finished",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::node_id_of;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_byte_array([byte; 32]).unwrap()
    }

    /// The whole state machine in memory: auth, ack, frames both ways.
    #[test]
    fn the_state_machine_runs_without_a_socket() {
        let mut a =
            RlpxCodec::initiator(&key(1), node_id_of(&key(2)), HandshakeFormat::Eip8).unwrap();
        let mut b = RlpxCodec::recipient(&key(2));
        assert_eq!(
            (a.remote_id(), b.remote_id()),
            (Some(node_id_of(&key(2))), None)
        );
        let (mut a_to_b, mut b_to_a) = (BytesMut::new(), BytesMut::new());

        assert!(
            matches!(a.decode(&mut b_to_a), Err(RlpxError::InvalidState(_))),
            "read before auth"
        );
        let mut a =
            RlpxCodec::initiator(&key(1), node_id_of(&key(2)), HandshakeFormat::Eip8).unwrap();
        assert!(matches!(
            a.encode(EgressItem::Frame(Bytes::new()), &mut a_to_b),
            Err(RlpxError::InvalidState(_))
        ));
        assert!(matches!(
            b.encode(EgressItem::Ack, &mut b_to_a),
            Err(RlpxError::InvalidState(_))
        ));

        a.encode(EgressItem::Auth, &mut a_to_b).unwrap();
        assert!(matches!(
            a.encode(EgressItem::Auth, &mut a_to_b),
            Err(RlpxError::InvalidState(_))
        ));
        assert_eq!(
            b.decode(&mut a_to_b).unwrap(),
            Some(IngressItem::Auth(node_id_of(&key(1))))
        );
        assert!(a_to_b.is_empty());
        assert_eq!(b.remote_id(), Some(node_id_of(&key(1))));
        assert!(matches!(
            b.encode(EgressItem::Frame(Bytes::new()), &mut b_to_a),
            Err(RlpxError::InvalidState(_))
        ));
        b.encode(EgressItem::Ack, &mut b_to_a).unwrap();
        assert_eq!(a.decode(&mut b_to_a).unwrap(), Some(IngressItem::Ack));

        for (data, from_a) in [
            (&b"\x80hello"[..], true),
            (b"\x10", false),
            (&[7u8; 40][..], true),
        ] {
            let (sender, receiver, wire) = if from_a {
                (&mut a, &mut b, &mut a_to_b)
            } else {
                (&mut b, &mut a, &mut b_to_a)
            };
            sender
                .encode(EgressItem::Frame(Bytes::copy_from_slice(data)), wire)
                .unwrap();
            // Fed in two halves, the frame appears only when complete.
            let mut rest = wire.split_off(wire.len() / 2);
            assert_eq!(receiver.decode(wire).unwrap(), None);
            wire.unsplit(rest.split());
            assert_eq!(
                receiver.decode(wire).unwrap(),
                Some(IngressItem::Frame(BytesMut::from(data)))
            );
        }
    }
}
