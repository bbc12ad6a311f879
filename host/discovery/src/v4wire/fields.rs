//! RLP building blocks shared by the discv4 messages: an EIP-8 tolerant list
//! reader, and the endpoint / node encodings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use alloy_primitives::B512;
use alloy_rlp::{BufMut, Decodable, Encodable, Header};

use crate::{error::DecodeError, node::NodeRecord};

/// Reads the elements of one RLP list in order. Elements after the ones asked
/// for, and bytes after the list, are ignored (EIP-8: "implementations should
/// ignore any additional list elements in the packet data").
pub(crate) struct ListReader<'a> {
    payload: &'a [u8],
    packet: &'static str,
}

impl<'a> ListReader<'a> {
    /// Opens the list at the front of `buf` and advances `buf` past it.
    pub(crate) fn open(buf: &mut &'a [u8], packet: &'static str) -> Result<Self, DecodeError> {
        let payload = Header::decode_bytes(buf, true)
            .map_err(|source| DecodeError::Rlp { packet, source })?;
        Ok(Self { payload, packet })
    }

    /// Whether every element has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// Decodes the next element as `T`; `field` names it in errors.
    pub(crate) fn next<T: Decodable>(&mut self, field: &'static str) -> Result<T, DecodeError> {
        if self.payload.is_empty() {
            return Err(self.invalid(field));
        }
        T::decode(&mut self.payload).map_err(|source| DecodeError::Rlp {
            packet: self.packet,
            source,
        })
    }

    /// The payload of the next element, which must be a byte string.
    pub(crate) fn next_bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.payload.is_empty() {
            return Err(self.invalid(field));
        }
        Header::decode_bytes(&mut self.payload, false).map_err(|source| DecodeError::Rlp {
            packet: self.packet,
            source,
        })
    }

    /// The next element as raw RLP (header included), which must be a list.
    pub(crate) fn next_raw_list(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.payload;
        let _ =
            ListReader::open(&mut self.payload, self.packet).map_err(|_| self.invalid(field))?;
        Ok(&start[..start.len() - self.payload.len()])
    }

    /// Opens the next element as a nested list.
    pub(crate) fn next_list(&mut self, field: &'static str) -> Result<ListReader<'a>, DecodeError> {
        if self.payload.is_empty() {
            return Err(self.invalid(field));
        }
        ListReader::open(&mut self.payload, self.packet)
    }

    /// An [`DecodeError::InvalidField`] for `field` of this packet.
    pub(crate) fn invalid(&self, field: &'static str) -> DecodeError {
        DecodeError::InvalidField {
            packet: self.packet,
            field,
        }
    }
}

/// A UDP/TCP endpoint as discv4 carries it: `[ip, udp-port, tcp-port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The IP address (4 or 16 bytes on the wire).
    pub ip: IpAddr,
    /// The UDP port.
    pub udp: u16,
    /// The TCP port.
    pub tcp: u16,
}

/// Decodes a wire IP. 4 bytes are IPv4 and 16 bytes IPv6; any other length
/// (which go-ethereum also tolerates) reads as the unspecified address, so
/// that a sloppy `From`/`To` in a Ping never costs the peer its Pong.
pub(crate) fn ip_from_wire(bytes: &[u8]) -> IpAddr {
    match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

fn ip_length(ip: &IpAddr) -> usize {
    match ip {
        IpAddr::V4(ip) => ip.octets().as_slice().length(),
        IpAddr::V6(ip) => ip.octets().as_slice().length(),
    }
}

fn encode_ip(ip: &IpAddr, out: &mut dyn BufMut) {
    match ip {
        IpAddr::V4(ip) => ip.octets().as_slice().encode(out),
        IpAddr::V6(ip) => ip.octets().as_slice().encode(out),
    }
}

impl Endpoint {
    fn payload_length(&self) -> usize {
        ip_length(&self.ip) + self.udp.length() + self.tcp.length()
    }

    /// Decodes `[ip, udp, tcp, ...]` (extra elements ignored).
    pub(crate) fn decode_from(
        list: &mut ListReader<'_>,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let mut inner = list.next_list(field)?;
        let ip = ip_from_wire(inner.next_bytes("endpoint ip")?);
        let udp = inner.next("endpoint udp port")?;
        let tcp = inner.next("endpoint tcp port")?;
        Ok(Self { ip, udp, tcp })
    }
}

impl Encodable for Endpoint {
    fn encode(&self, out: &mut dyn BufMut) {
        Header {
            list: true,
            payload_length: self.payload_length(),
        }
        .encode(out);
        encode_ip(&self.ip, out);
        self.udp.encode(out);
        self.tcp.encode(out);
    }

    fn length(&self) -> usize {
        let payload = self.payload_length();
        payload + alloy_rlp::length_of_length(payload)
    }
}

/// A Neighbors entry on the wire: `[ip, udp-port, tcp-port, node-id]`.
impl Encodable for NodeRecord {
    fn encode(&self, out: &mut dyn BufMut) {
        Header {
            list: true,
            payload_length: node_payload_length(self),
        }
        .encode(out);
        encode_ip(&self.ip, out);
        self.udp.encode(out);
        self.tcp.encode(out);
        self.id.encode(out);
    }

    fn length(&self) -> usize {
        let payload = node_payload_length(self);
        payload + alloy_rlp::length_of_length(payload)
    }
}

fn node_payload_length(node: &NodeRecord) -> usize {
    ip_length(&node.ip) + node.udp.length() + node.tcp.length() + node.id.length()
}

/// Decodes one Neighbors entry `[ip, udp, tcp, id, ...]`.
pub(crate) fn decode_node(list: &mut ListReader<'_>) -> Result<NodeRecord, DecodeError> {
    let mut inner = list.next_list("node")?;
    let ip = ip_from_wire(inner.next_bytes("node ip")?);
    let udp = inner.next("node udp port")?;
    let tcp = inner.next("node tcp port")?;
    let id: B512 = inner.next("node id")?;
    Ok(NodeRecord { id, ip, udp, tcp })
}
