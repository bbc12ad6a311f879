//! A devp2p message inside a frame: `rlp(msg-id) ‖ msg-data`, where after
//! Hello `msg-data` is snappy-compressed (block format) when the peer's
//! Hello version is at least 5 (`SetSnappy`, `p2p/transport.go`; limits in
//! `p2p/rlpx/rlpx.go`). The id is never compressed.

use alloy_rlp::{Decodable, Encodable};
use bytes::{Bytes, BytesMut};

use crate::{error::P2pError, protocol::MAX_FRAME_SIZE};

/// A message as it came off the wire, not yet decompressed: its decoded
/// size can be checked against a limit before any allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// Wire message id (capability offset included).
    pub id: u64,
    /// `msg-data`, compressed when `compressed`.
    pub data: Bytes,
    /// Whether `data` is snappy-compressed.
    pub compressed: bool,
}

impl RawMessage {
    /// Splits a frame into id and data.
    pub fn parse(frame: BytesMut, compressed: bool) -> Result<Self, P2pError> {
        let frame = frame.freeze();
        let mut buf = &frame[..];
        let id = u64::decode(&mut buf).map_err(P2pError::InvalidMessageId)?;
        let data = frame.slice(frame.len() - buf.len()..);
        Ok(RawMessage {
            id,
            data,
            compressed,
        })
    }

    /// The size `data` decodes to, read from the snappy header without
    /// decompressing.
    pub fn decoded_len(&self) -> Result<usize, P2pError> {
        if !self.compressed {
            return Ok(self.data.len());
        }
        snap::raw::decompress_len(&self.data)
            .map_err(|cause| P2pError::Snappy { id: self.id, cause })
    }

    /// The decoded `msg-data`, refusing (before allocating) anything that
    /// decodes to more than `max` bytes or more than [`MAX_FRAME_SIZE`].
    pub fn decode(self, max: usize) -> Result<Bytes, P2pError> {
        let size = self.decoded_len()?;
        let max = max.min(MAX_FRAME_SIZE);
        if size > max {
            return Err(P2pError::MessageTooBig {
                id: self.id,
                size,
                max,
            });
        }
        if !self.compressed {
            return Ok(self.data);
        }
        let mut out = vec![0u8; size];
        let written = snap::raw::Decoder::new()
            .decompress(&self.data, &mut out)
            .map_err(|cause| P2pError::Snappy { id: self.id, cause })?;
        out.truncate(written);
        Ok(Bytes::from(out))
    }
}

/// Builds a frame for message `id` carrying `data`, compressing it when
/// `compress`. Refuses plain data over [`MAX_FRAME_SIZE`].
pub fn encode_frame(id: u64, data: &[u8], compress: bool) -> Result<Bytes, P2pError> {
    if data.len() > MAX_FRAME_SIZE {
        return Err(P2pError::MessageTooBig {
            id,
            size: data.len(),
            max: MAX_FRAME_SIZE,
        });
    }
    let mut frame = Vec::with_capacity(9 + data.len());
    id.encode(&mut frame);
    if compress {
        let start = frame.len();
        frame.resize(start + snap::raw::max_compress_len(data.len()), 0);
        let written = snap::raw::Encoder::new()
            .compress(data, &mut frame[start..])
            .map_err(|cause| P2pError::Snappy { id, cause })?;
        frame.truncate(start + written);
    } else {
        frame.extend_from_slice(data);
    }
    Ok(Bytes::from(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(frame: Bytes, compressed: bool) -> RawMessage {
        RawMessage::parse(BytesMut::from(&frame[..]), compressed).unwrap()
    }

    #[test]
    fn plain_and_compressed_frames_round_trip() {
        let data = b"hello hello hello hello hello hello".repeat(20);
        for compress in [false, true] {
            let frame = encode_frame(0x13, &data, compress).unwrap();
            assert_eq!(frame[0], 0x13);
            if compress {
                assert!(frame.len() < data.len());
            }
            let raw = parse(frame, compress);
            assert_eq!(raw.id, 0x13);
            assert_eq!(raw.decoded_len().unwrap(), data.len());
            assert_eq!(raw.decode(MAX_FRAME_SIZE).unwrap(), data);
        }
        // Multi-byte id and empty data.
        let raw = parse(encode_frame(300, &[], true).unwrap(), true);
        assert_eq!((raw.id, raw.decode(10).unwrap().len()), (300, 0));
    }

    #[test]
    fn the_limit_is_checked_before_decompressing() {
        let data = vec![0u8; 1000];
        let raw = parse(encode_frame(0x10, &data, true).unwrap(), true);
        assert!(raw.data.len() < 100);
        assert!(matches!(
            raw.decode(999),
            Err(P2pError::MessageTooBig {
                id: 0x10,
                size: 1000,
                max: 999
            })
        ));
        // A snappy header claiming 2^24 bytes: refused without allocating.
        let bomb = RawMessage {
            id: 0x10,
            data: Bytes::from_static(&[0x80, 0x80, 0x80, 0x08]),
            compressed: true,
        };
        assert_eq!(bomb.decoded_len().unwrap(), 1 << 24);
        assert!(
            matches!(bomb.decode(usize::MAX), Err(P2pError::MessageTooBig { size, max: MAX_FRAME_SIZE, .. }) if size == 1 << 24)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            RawMessage::parse(BytesMut::new(), true),
            Err(P2pError::InvalidMessageId(_))
        ));
        assert!(matches!(
            RawMessage::parse(BytesMut::from(&[0xC0][..]), true),
            Err(P2pError::InvalidMessageId(_))
        ));
        let raw = parse(Bytes::from_static(&[0x10, 0x05, 0xFF, 0xFF]), true);
        assert!(matches!(raw.decode(100), Err(P2pError::Snappy { .. })));
        assert!(encode_frame(1, &vec![0u8; MAX_FRAME_SIZE + 1], false).is_err());
    }
}
