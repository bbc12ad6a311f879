//! The Hello message (`protoHandshake`, go-ethereum `p2p/peer.go`):
//!
//! ```text
//! rlp([version, client-name, [[cap-name, cap-version], ...], listen-port, node-id, ...])
//! ```
//!
//! Decoding is forward compatible (EIP-8): extra list elements are kept as
//! raw RLP and ignored, extra elements inside a capability are skipped and
//! trailing bytes after the list are ignored. The node id must be 64 bytes
//! and not all zero (`readProtocolHandshake`, `p2p/transport.go`).

use alloy_primitives::Bytes;
use alloy_rlp::{Decodable, Encodable, Header};

use crate::{
    auth::raw_items,
    capability::{Capability, Protocol},
    error::P2pError,
    id::NodeId,
    protocol::{BASE_PROTOCOL_VERSION, NODE_ID_LEN},
};

/// A Hello, ours or the peer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Base protocol version (we send [`BASE_PROTOCOL_VERSION`]).
    pub protocol_version: u64,
    /// Client name, e.g. `bor/v2.2.11/linux-amd64/go1.24.6`.
    pub client_name: String,
    /// Capabilities offered.
    pub capabilities: Vec<Capability>,
    /// TCP listening port (0 when not listening); informational.
    pub listen_port: u64,
    /// The sender's node id.
    pub id: NodeId,
    /// Additional list elements (raw RLP), ignored.
    pub rest: Vec<Bytes>,
}

impl Hello {
    /// Our Hello: version 5, offering every protocol in `protocols`.
    pub fn new(
        client_name: impl Into<String>,
        listen_port: u16,
        id: NodeId,
        protocols: &[Protocol],
    ) -> Self {
        Hello {
            protocol_version: BASE_PROTOCOL_VERSION,
            client_name: client_name.into(),
            capabilities: protocols.iter().map(Protocol::capability).collect(),
            listen_port: u64::from(listen_port),
            id,
            rest: Vec::new(),
        }
    }

    /// The message payload (without the message id).
    pub fn encode(&self) -> Vec<u8> {
        let mut caps = Vec::new();
        for cap in &self.capabilities {
            let mut item = Vec::new();
            cap.name.as_bytes().encode(&mut item);
            cap.version.encode(&mut item);
            Header {
                list: true,
                payload_length: item.len(),
            }
            .encode(&mut caps);
            caps.extend_from_slice(&item);
        }
        let mut payload = Vec::with_capacity(128 + caps.len());
        self.protocol_version.encode(&mut payload);
        self.client_name.as_bytes().encode(&mut payload);
        Header {
            list: true,
            payload_length: caps.len(),
        }
        .encode(&mut payload);
        payload.extend_from_slice(&caps);
        self.listen_port.encode(&mut payload);
        self.id.0.encode(&mut payload);
        for item in &self.rest {
            payload.extend_from_slice(item);
        }
        let mut out = Vec::with_capacity(payload.len() + 3);
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    /// Decodes and checks a Hello payload: [`P2pError::InvalidHello`] when it
    /// does not decode, [`P2pError::InvalidIdentity`] for a bad node id.
    pub fn decode(payload: &[u8]) -> Result<Self, P2pError> {
        let mut buf = payload;
        let mut items = open_list(&mut buf).map_err(P2pError::InvalidHello)?;
        let protocol_version = u64::decode(&mut items).map_err(P2pError::InvalidHello)?;
        let client_name = decode_text(&mut items).map_err(P2pError::InvalidHello)?;
        let mut cap_items = open_list(&mut items).map_err(P2pError::InvalidHello)?;
        let mut capabilities = Vec::new();
        while !cap_items.is_empty() {
            let mut fields = open_list(&mut cap_items).map_err(P2pError::InvalidHello)?;
            let name = decode_text(&mut fields).map_err(P2pError::InvalidHello)?;
            let version = u64::decode(&mut fields).map_err(P2pError::InvalidHello)?;
            capabilities.push(Capability { name, version });
        }
        let listen_port = u64::decode(&mut items).map_err(P2pError::InvalidHello)?;
        let id = Header::decode_bytes(&mut items, false).map_err(P2pError::InvalidHello)?;
        if id.len() != NODE_ID_LEN || id.iter().all(|&b| b == 0) {
            return Err(P2pError::InvalidIdentity { len: id.len() });
        }
        let rest = raw_items(items).map_err(P2pError::InvalidHello)?;
        Ok(Hello {
            protocol_version,
            client_name,
            capabilities,
            listen_port,
            id: NodeId::from_slice(id),
            rest,
        })
    }
}

/// The payload of the RLP list at the front of `buf`, advancing past it.
fn open_list<'a>(buf: &mut &'a [u8]) -> alloy_rlp::Result<&'a [u8]> {
    Header::decode_bytes(buf, true)
}

/// An RLP string read as text; invalid UTF-8 is replaced, not refused (Go
/// strings are bytes).
fn decode_text(buf: &mut &[u8]) -> alloy_rlp::Result<String> {
    Ok(String::from_utf8_lossy(Header::decode_bytes(buf, false)?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Hello {
        Hello::new(
            "hypasis-sync/v0.1.0",
            30303,
            NodeId::repeat_byte(0xAB),
            &[Protocol::new("eth", 68, 17), Protocol::new("snap", 1, 8)],
        )
    }

    #[test]
    fn hello_round_trips() {
        let ours = hello();
        assert_eq!(Hello::decode(&ours.encode()).unwrap(), ours);
        assert_eq!(
            ours.capabilities,
            [Capability::new("eth", 68), Capability::new("snap", 1)]
        );
    }

    #[test]
    fn extra_elements_and_trailing_bytes_are_tolerated() {
        let mut with_rest = hello();
        with_rest.rest = vec![
            Bytes::from_static(&[0x03]),
            Bytes::from_static(&[0xC2, 0x01, 0x02]),
        ];
        let mut encoded = with_rest.encode();
        encoded.extend_from_slice(b"trailing");
        assert_eq!(Hello::decode(&encoded).unwrap(), with_rest);
    }

    #[test]
    fn bad_ids_are_invalid_identity() {
        for id in [vec![0u8; 64], vec![1u8; 63], vec![1u8; 65], vec![]] {
            let mut payload = Vec::new();
            5u64.encode(&mut payload);
            b"x".as_slice().encode(&mut payload);
            Header {
                list: true,
                payload_length: 0,
            }
            .encode(&mut payload);
            0u64.encode(&mut payload);
            id.as_slice().encode(&mut payload);
            let mut msg = Vec::new();
            Header {
                list: true,
                payload_length: payload.len(),
            }
            .encode(&mut msg);
            msg.extend_from_slice(&payload);
            assert!(
                matches!(Hello::decode(&msg), Err(P2pError::InvalidIdentity { len }) if len == id.len()),
                "id of {} bytes",
                id.len()
            );
        }
    }

    #[test]
    fn malformed_hellos_are_invalid() {
        let good = hello().encode();
        for cut in 0..good.len() {
            assert!(Hello::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            Hello::decode(&[0x80]),
            Err(P2pError::InvalidHello(_))
        ));
        assert!(matches!(
            Hello::decode(&[0xC1, 0xC0]),
            Err(P2pError::InvalidHello(_))
        ));
    }
}
