//! RLPx frames (devp2p `rlpx.md`, "Framing"):
//!
//! ```text
//! frame = header-ciphertext ‖ header-mac ‖ frame-ciphertext ‖ frame-mac
//! header-ciphertext = aes(aes-secret, header)
//! header = frame-size (24-bit BE) ‖ header-data ‖ header-padding (to 16 bytes)
//! header-data = rlp([capability-id, context-id])     always [0, 0]; ignored on read
//! frame-ciphertext = aes(aes-secret, frame-data ‖ frame-padding (to 16 bytes))
//! frame-data = rlp(msg-id) ‖ msg-data
//! ```
//!
//! `aes` is one AES-256-CTR keystream per direction (IV zero) running over
//! every header and body of the connection; the MACs are [`RlpxMac`].
//! [`FrameCipher`] is the pure state of both directions.

use aes::Aes256;
use bytes::BytesMut;
use ctr::cipher::{KeyIvInit, StreamCipher};

use crate::{
    error::RlpxError,
    mac::RlpxMac,
    protocol::{FRAME_BLOCK, FRAME_HEADER_LEN, MAC_LEN, MAX_FRAME_SIZE, ZERO_HEADER_DATA},
    secrets::Secrets,
};

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// `len` rounded up to the AES block.
pub fn padded(len: usize) -> usize {
    len.div_ceil(FRAME_BLOCK) * FRAME_BLOCK
}

/// Bytes a frame body of `size` takes on the wire: padded data and its MAC.
pub fn body_wire_len(size: usize) -> usize {
    padded(size) + MAC_LEN
}

/// Constant-time equality of two MACs.
fn mac_eq(a: &[u8; MAC_LEN], b: &[u8]) -> bool {
    b.len() == MAC_LEN && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Encryption and MAC state of both directions of an established connection.
pub struct FrameCipher {
    egress_aes: Aes256Ctr,
    ingress_aes: Aes256Ctr,
    egress_mac: RlpxMac,
    ingress_mac: RlpxMac,
}

impl std::fmt::Debug for FrameCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCipher").finish_non_exhaustive()
    }
}

impl FrameCipher {
    /// The state right after the handshake.
    pub fn new(secrets: &Secrets) -> Self {
        let key = secrets.aes_secret.0.into();
        let iv = [0u8; 16].into();
        FrameCipher {
            egress_aes: Aes256Ctr::new(&key, &iv),
            ingress_aes: Aes256Ctr::new(&key, &iv),
            egress_mac: secrets.egress_mac.clone(),
            ingress_mac: secrets.ingress_mac.clone(),
        }
    }

    /// Appends one whole frame carrying `frame_data` (`rlp(msg-id) ‖
    /// msg-data`) to `out`. Refuses data over the 24-bit limit.
    pub fn write_frame(&mut self, frame_data: &[u8], out: &mut BytesMut) -> Result<(), RlpxError> {
        let size = frame_data.len();
        if size > MAX_FRAME_SIZE {
            return Err(RlpxError::MessageTooBig {
                size,
                max: MAX_FRAME_SIZE,
            });
        }
        out.reserve(FRAME_HEADER_LEN + body_wire_len(size));

        let mut header = [0u8; 16];
        header[..3].copy_from_slice(&(size as u32).to_be_bytes()[1..]);
        header[3..6].copy_from_slice(&ZERO_HEADER_DATA);
        self.egress_aes.apply_keystream(&mut header);
        self.egress_mac.update_header(&header);
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.egress_mac.tag());

        let start = out.len();
        out.extend_from_slice(frame_data);
        out.resize(start + padded(size), 0);
        self.egress_aes.apply_keystream(&mut out[start..]);
        self.egress_mac.update_body(&out[start..]);
        out.extend_from_slice(&self.egress_mac.tag());
        Ok(())
    }

    /// Checks and decrypts a frame header, giving the frame size. The header
    /// data (capability and context ids) is covered by the MAC and ignored.
    pub fn read_header(&mut self, header: &[u8; FRAME_HEADER_LEN]) -> Result<usize, RlpxError> {
        let mut ciphertext = [0u8; 16];
        ciphertext.copy_from_slice(&header[..16]);
        self.ingress_mac.update_header(&ciphertext);
        if !mac_eq(&self.ingress_mac.tag(), &header[16..]) {
            return Err(RlpxError::TagCheckHeaderFailed);
        }
        self.ingress_aes.apply_keystream(&mut ciphertext);
        Ok(usize::from(ciphertext[0]) << 16
            | usize::from(ciphertext[1]) << 8
            | usize::from(ciphertext[2]))
    }

    /// Checks and decrypts, in place, a frame body of `size` bytes of data
    /// (`body` is [`body_wire_len`]`(size)` bytes). Returns the frame data.
    pub fn read_body<'a>(
        &mut self,
        body: &'a mut [u8],
        size: usize,
    ) -> Result<&'a [u8], RlpxError> {
        let Some(mac_at) = body.len().checked_sub(MAC_LEN) else {
            return Err(RlpxError::InvalidState("frame body shorter than its MAC"));
        };
        if mac_at != padded(size) {
            return Err(RlpxError::InvalidState(
                "frame body length does not match its size",
            ));
        }
        let (ciphertext, mac) = body.split_at_mut(mac_at);
        self.ingress_mac.update_body(ciphertext);
        if !mac_eq(&self.ingress_mac.tag(), mac) {
            return Err(RlpxError::TagCheckBodyFailed);
        }
        self.ingress_aes.apply_keystream(ciphertext);
        Ok(&ciphertext[..size])
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;

    use super::*;
    use crate::id::NodeId;

    /// Two matching ends: `a`'s egress is `b`'s ingress and vice versa.
    fn pair() -> (FrameCipher, FrameCipher) {
        let mut one = RlpxMac::new(B256::repeat_byte(2));
        one.update(b"one");
        let mut two = RlpxMac::new(B256::repeat_byte(2));
        two.update(b"two");
        let a = Secrets {
            remote_id: NodeId::ZERO,
            aes_secret: B256::repeat_byte(1),
            mac_secret: B256::repeat_byte(2),
            egress_mac: one.clone(),
            ingress_mac: two.clone(),
        };
        let b = Secrets {
            egress_mac: two,
            ingress_mac: one,
            ..a.clone()
        };
        (FrameCipher::new(&a), FrameCipher::new(&b))
    }

    fn read(cipher: &mut FrameCipher, wire: &[u8]) -> Result<Vec<u8>, RlpxError> {
        let mut header = [0u8; FRAME_HEADER_LEN];
        header.copy_from_slice(&wire[..FRAME_HEADER_LEN]);
        let size = cipher.read_header(&header)?;
        let mut body = wire[FRAME_HEADER_LEN..].to_vec();
        Ok(cipher.read_body(&mut body, size)?.to_vec())
    }

    #[test]
    fn frames_round_trip_in_both_directions() {
        let (mut a, mut b) = pair();
        for len in [1usize, 15, 16, 17, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut wire = BytesMut::new();
            a.write_frame(&data, &mut wire).unwrap();
            assert_eq!(wire.len(), FRAME_HEADER_LEN + body_wire_len(len));
            assert_eq!(read(&mut b, &wire).unwrap(), data);
            let mut wire = BytesMut::new();
            b.write_frame(&data, &mut wire).unwrap();
            assert_eq!(read(&mut a, &wire).unwrap(), data);
        }
    }

    #[test]
    fn tampering_fails_the_header_or_body_mac() {
        let (mut a, mut b) = pair();
        let mut wire = BytesMut::new();
        a.write_frame(b"\x80hello", &mut wire).unwrap();
        let mut bad = wire.to_vec();
        bad[3] ^= 1;
        assert!(matches!(
            read(&mut b, &bad),
            Err(RlpxError::TagCheckHeaderFailed)
        ));

        let (mut a, mut b) = pair();
        let mut wire = BytesMut::new();
        a.write_frame(b"\x80hello", &mut wire).unwrap();
        let mut bad = wire.to_vec();
        bad[FRAME_HEADER_LEN + 2] ^= 1;
        assert!(matches!(
            read(&mut b, &bad),
            Err(RlpxError::TagCheckBodyFailed)
        ));
    }

    #[test]
    fn oversize_frames_are_refused_on_write() {
        let (mut a, _) = pair();
        let data = vec![0u8; MAX_FRAME_SIZE + 1];
        assert!(matches!(
            a.write_frame(&data, &mut BytesMut::new()),
            Err(RlpxError::MessageTooBig { size, max: MAX_FRAME_SIZE }) if size == MAX_FRAME_SIZE + 1
        ));
    }
}
