//! Fuzz target bodies, shared by the cargo-fuzz crate (`fuzz/` at the
//! repository root) and the pseudo-random tests (`tests/fuzz_bodies.rs`).
//! Each takes arbitrary bytes, must never panic, and panics only when an
//! invariant breaks (a frame that decodes to something else than was sent,
//! a corrupted frame that passes its MAC, a valid packet refused).

use std::sync::OnceLock;

use alloy_primitives::B256;
use bytes::{Bytes, BytesMut};
use secp256k1::{
    SecretKey,
    rand::{SeedableRng, rngs::StdRng},
};
use tokio_util::codec::{Decoder, Encoder};

use crate::{
    auth::{AckBody, AuthBody, HandshakeFormat},
    codec::{EgressItem, IngressItem, RlpxCodec},
    disconnect::DisconnectReason,
    handshake::{Initiator, Recipient},
    hello::Hello,
    id::node_id_of,
    message::RawMessage,
    protocol::MAX_FRAME_SIZE,
    secrets::Secrets,
};

/// Fixed keys of the two fuzzing nodes and their ephemeral keys.
struct Fixture {
    key_a: SecretKey,
    key_b: SecretKey,
    ephemeral_a: SecretKey,
    ephemeral_b: SecretKey,
    /// Secrets of A and B after a real handshake between them.
    secrets: Option<(Secrets, Secrets)>,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let key = |b: u8| SecretKey::from_byte_array([b; 32]).ok();
            let mut fixture = Fixture {
                key_a: key(1)?,
                key_b: key(2)?,
                ephemeral_a: key(3)?,
                ephemeral_b: key(4)?,
                secrets: None,
            };
            fixture.secrets = handshake(&fixture);
            Some(fixture)
        })
        .as_ref()
}

fn initiator(f: &Fixture, format: HandshakeFormat) -> Option<Initiator> {
    let mut rng = StdRng::seed_from_u64(0);
    let nonce = B256::repeat_byte(0xA1);
    Initiator::with_ephemeral(
        &f.key_a,
        node_id_of(&f.key_b),
        format,
        f.ephemeral_a,
        nonce,
        &mut rng,
    )
    .ok()
}

fn recipient(f: &Fixture) -> Recipient {
    Recipient::with_ephemeral(&f.key_b, f.ephemeral_b, B256::repeat_byte(0xB2))
}

/// A deterministic in-memory handshake: (initiator's, recipient's) secrets.
fn handshake(f: &Fixture) -> Option<(Secrets, Secrets)> {
    let mut initiator = initiator(f, HandshakeFormat::Eip8)?;
    let mut recipient = recipient(f);
    let auth = recipient.read_auth(initiator.auth_packet()).ok()??;
    let (ack, b) = recipient
        .respond(&auth, &mut StdRng::seed_from_u64(1))
        .ok()?;
    let ack = initiator.read_ack(&ack).ok()??;
    Some((initiator.secrets(&ack), b))
}

/// Runs every message-level decoder on a frame.
fn decode_messages(frame: &BytesMut) {
    for compressed in [false, true] {
        if let Ok(raw) = RawMessage::parse(frame.clone(), compressed) {
            let id = raw.id;
            let _ = raw.decoded_len();
            if let Ok(payload) = raw.decode(MAX_FRAME_SIZE) {
                match id {
                    0 => drop(Hello::decode(&payload)),
                    1 => drop(DisconnectReason::decode_message(&payload)),
                    _ => {}
                }
            }
        }
    }
}

/// Decodes everything in `buf`: the frames, and whether it stopped on an error.
fn drain(decoder: &mut RlpxCodec, buf: &mut BytesMut, frames: &mut Vec<BytesMut>) -> bool {
    loop {
        match decoder.decode(buf) {
            Ok(Some(IngressItem::Frame(frame))) => frames.push(frame),
            Ok(Some(other)) => panic!("handshake item {other:?} after the handshake"),
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

/// `rlpx_frame`: the frame decoder after a fixed handshake.
///
/// Even first byte: the rest is fed as raw bytes, in chunks of
/// `first / 2 + 1` bytes. Odd first byte: the rest is cut into up to four
/// frames, sent with the matching encoder, with one bit flipped when
/// `first / 2` is non-zero; unflipped they must come back exactly, flipped
/// the decoder must fail.
pub fn frame_decoder(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some(Fixture {
        secrets: Some((a, b)),
        ..
    }) = fixture()
    else {
        return;
    };
    let mut decoder = RlpxCodec::from_secrets(b);
    let mut frames = Vec::new();
    if mode & 1 == 0 {
        let mut buf = BytesMut::new();
        for piece in rest.chunks(usize::from(mode >> 1) + 1) {
            buf.extend_from_slice(piece);
            if drain(&mut decoder, &mut buf, &mut frames) {
                break;
            }
        }
        frames.iter().for_each(decode_messages);
        return;
    }
    let mut encoder = RlpxCodec::from_secrets(a);
    let sent: Vec<&[u8]> = if rest.is_empty() {
        vec![rest]
    } else {
        rest.chunks(rest.len().div_ceil(4)).collect()
    };
    let mut wire = BytesMut::new();
    for frame in &sent {
        if encoder
            .encode(EgressItem::Frame(Bytes::copy_from_slice(frame)), &mut wire)
            .is_err()
        {
            return;
        }
    }
    let flip = usize::from(mode >> 1);
    if flip != 0 {
        let at = flip.wrapping_mul(7919) % wire.len();
        wire[at] ^= 1 << (flip % 8);
    }
    let failed = drain(&mut decoder, &mut wire, &mut frames);
    frames.iter().for_each(decode_messages);
    if flip == 0 {
        assert!(!failed, "a valid frame sequence failed");
        assert_eq!(frames.len(), sent.len(), "frames lost");
        assert!(
            frames
                .iter()
                .zip(&sent)
                .all(|(got, want)| got[..] == want[..]),
            "frame changed"
        );
    } else {
        assert!(failed, "a corrupted frame passed its MAC");
    }
}

/// `rlpx_handshake`: the auth and ack readers, and the body parsers on raw
/// plaintext. A first byte ≥ 0xF0 instead corrupts one bit (chosen by the
/// next bytes; none when they are absent) of a valid auth of either format:
/// intact it must be read back, corrupted it must never panic.
pub fn handshake_decoder(data: &[u8]) {
    let Some(f) = fixture() else { return };
    let _ = recipient(f).read_auth(data);
    if let Some(mut initiator) = initiator(f, HandshakeFormat::Eip8) {
        let _ = initiator.read_ack(data);
    }
    let _ = AuthBody::decode_eip8(data);
    let _ = AuthBody::decode_legacy(data);
    let _ = AckBody::decode_eip8(data);
    let _ = AckBody::decode_legacy(data);
    let _ = Hello::decode(data);

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode < 0xF0 {
        return;
    }
    let format = if mode & 1 == 0 {
        HandshakeFormat::Eip8
    } else {
        HandshakeFormat::Legacy
    };
    let Some(initiator) = initiator(f, format) else {
        return;
    };
    let mut packet = initiator.auth_packet().to_vec();
    let position = rest.iter().fold(0usize, |acc, &b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let corrupt = !rest.is_empty();
    if corrupt {
        let at = position % packet.len();
        packet[at] ^= 1 << (position % 8);
    }
    let read = recipient(f).read_auth(&packet);
    if !corrupt {
        let auth = read.ok().flatten();
        assert!(
            auth.is_some_and(|auth| auth.remote_id() == node_id_of(&f.key_a)),
            "a valid auth was refused"
        );
    }
}
