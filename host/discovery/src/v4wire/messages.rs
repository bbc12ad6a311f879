//! The six discv4 messages and their RLP bodies (discv4.md, EIP-8, EIP-868).
//!
//! Encoding is canonical RLP. Decoding follows EIP-8: list elements after the
//! known ones, and bytes after the list, are ignored.

use alloy_primitives::{B256, B512, Bytes};
use alloy_rlp::{BufMut, Encodable, Header, RlpEncodable};

use super::fields::{Endpoint, ListReader, decode_node};
use crate::{error::DecodeError, node::NodeRecord, protocol};

/// `expiration` fields are absolute Unix seconds. They are compared as a
/// SIGNED 64-bit number, as go-ethereum does (`time.Unix(int64(ts), 0)`):
/// its test suite sends "past" expirations as `2^64 - t`, which must read as
/// negative (long ago), not as the far future.
pub fn is_expired(expiration: u64, now_unix: i64) -> bool {
    (expiration as i64) < now_unix
}

/// Ping: `[version, from, to, expiration, enr-seq?, ...]`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable)]
#[rlp(trailing)]
pub struct Ping {
    /// Protocol version; 4. Not checked on receipt (go-ethereum ignores it).
    pub version: u64,
    /// The sender's claimed endpoint. Ignored for replies: we answer the
    /// observed source address.
    pub from: Endpoint,
    /// The recipient's endpoint as the sender sees it.
    pub to: Endpoint,
    /// Absolute Unix time after which the packet is void.
    pub expiration: u64,
    /// The sender's ENR sequence number (EIP-868), if given.
    pub enr_seq: Option<u64>,
}

/// Pong: `[to, ping-hash, expiration, enr-seq?, ...]`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable)]
#[rlp(trailing)]
pub struct Pong {
    /// The source endpoint the Ping was seen from.
    pub to: Endpoint,
    /// The hash of the Ping being answered.
    pub reply_token: B256,
    /// Absolute Unix time after which the packet is void.
    pub expiration: u64,
    /// The sender's ENR sequence number (EIP-868), if given.
    pub enr_seq: Option<u64>,
}

/// FindNode: `[target, expiration, ...]`; the target is a 64-byte public key.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable)]
pub struct FindNode {
    /// The node id whose neighbourhood is asked for.
    pub target: B512,
    /// Absolute Unix time after which the packet is void.
    pub expiration: u64,
}

/// Neighbors: `[[node, ...], expiration, ...]`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable)]
pub struct Neighbours {
    /// The nodes, each `[ip, udp, tcp, id]`.
    pub nodes: Vec<NodeRecord>,
    /// Absolute Unix time after which the packet is void.
    pub expiration: u64,
}

/// ENRRequest (EIP-868): `[expiration, ...]`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable)]
pub struct EnrRequest {
    /// Absolute Unix time after which the packet is void.
    pub expiration: u64,
}

/// ENRResponse (EIP-868): `[request-hash, record, ...]`. The record is kept as
/// its raw RLP so the wire layer stays independent of the ENR library; see
/// [`EnrResponse::enr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrResponse {
    /// The hash of the ENRRequest being answered.
    pub reply_token: B256,
    /// The node record, as RLP (a list `[signature, seq, k, v, ...]`).
    pub record: Bytes,
}

impl EnrResponse {
    /// Decodes and verifies the carried record.
    pub fn enr(&self) -> Result<discv5::Enr, alloy_rlp::Error> {
        alloy_rlp::Decodable::decode(&mut self.record.as_ref())
    }
}

impl Encodable for EnrResponse {
    fn encode(&self, out: &mut dyn BufMut) {
        Header {
            list: true,
            payload_length: self.reply_token.length() + self.record.len(),
        }
        .encode(out);
        self.reply_token.encode(out);
        out.put_slice(&self.record);
    }

    fn length(&self) -> usize {
        let payload = self.reply_token.length() + self.record.len();
        payload + alloy_rlp::length_of_length(payload)
    }
}

/// Any discv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Ping (0x01).
    Ping(Ping),
    /// Pong (0x02).
    Pong(Pong),
    /// FindNode (0x03).
    FindNode(FindNode),
    /// Neighbors (0x04).
    Neighbours(Neighbours),
    /// ENRRequest (0x05).
    EnrRequest(EnrRequest),
    /// ENRResponse (0x06).
    EnrResponse(EnrResponse),
}

impl Message {
    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        match self {
            Message::Ping(_) => protocol::PING,
            Message::Pong(_) => protocol::PONG,
            Message::FindNode(_) => protocol::FIND_NODE,
            Message::Neighbours(_) => protocol::NEIGHBOURS,
            Message::EnrRequest(_) => protocol::ENR_REQUEST,
            Message::EnrResponse(_) => protocol::ENR_RESPONSE,
        }
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Ping(_) => "Ping",
            Message::Pong(_) => "Pong",
            Message::FindNode(_) => "FindNode",
            Message::Neighbours(_) => "Neighbours",
            Message::EnrRequest(_) => "EnrRequest",
            Message::EnrResponse(_) => "EnrResponse",
        }
    }

    /// The `expiration` field, for the messages that have one.
    pub fn expiration(&self) -> Option<u64> {
        match self {
            Message::Ping(p) => Some(p.expiration),
            Message::Pong(p) => Some(p.expiration),
            Message::FindNode(p) => Some(p.expiration),
            Message::Neighbours(p) => Some(p.expiration),
            Message::EnrRequest(p) => Some(p.expiration),
            Message::EnrResponse(_) => None,
        }
    }

    /// The RLP body (everything after the type byte).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Message::Ping(p) => p.encode(out),
            Message::Pong(p) => p.encode(out),
            Message::FindNode(p) => p.encode(out),
            Message::Neighbours(p) => p.encode(out),
            Message::EnrRequest(p) => p.encode(out),
            Message::EnrResponse(p) => p.encode(out),
        }
    }

    /// Decodes the RLP body of a packet of type `packet_type`.
    pub fn decode_body(packet_type: u8, mut body: &[u8]) -> Result<Self, DecodeError> {
        let buf = &mut body;
        Ok(match packet_type {
            protocol::PING => {
                let mut list = ListReader::open(buf, "Ping")?;
                let version = list.next("version")?;
                let from = Endpoint::decode_from(&mut list, "from")?;
                let to = Endpoint::decode_from(&mut list, "to")?;
                let expiration = list.next("expiration")?;
                // EIP-868 enr-seq; anything else in its place is EIP-8 junk.
                let enr_seq = optional_u64(&mut list);
                Message::Ping(Ping {
                    version,
                    from,
                    to,
                    expiration,
                    enr_seq,
                })
            }
            protocol::PONG => {
                let mut list = ListReader::open(buf, "Pong")?;
                let to = Endpoint::decode_from(&mut list, "to")?;
                let reply_token = list.next("reply token")?;
                let expiration = list.next("expiration")?;
                let enr_seq = optional_u64(&mut list);
                Message::Pong(Pong {
                    to,
                    reply_token,
                    expiration,
                    enr_seq,
                })
            }
            protocol::FIND_NODE => {
                let mut list = ListReader::open(buf, "FindNode")?;
                let target = list.next("target")?;
                let expiration = list.next("expiration")?;
                Message::FindNode(FindNode { target, expiration })
            }
            protocol::NEIGHBOURS => {
                let mut list = ListReader::open(buf, "Neighbours")?;
                let mut node_list = list.next_list("nodes")?;
                let mut nodes = Vec::new();
                while !node_list.is_empty() {
                    nodes.push(decode_node(&mut node_list)?);
                }
                let expiration = list.next("expiration")?;
                Message::Neighbours(Neighbours { nodes, expiration })
            }
            protocol::ENR_REQUEST => {
                let mut list = ListReader::open(buf, "EnrRequest")?;
                let expiration = list.next("expiration")?;
                Message::EnrRequest(EnrRequest { expiration })
            }
            protocol::ENR_RESPONSE => {
                let mut list = ListReader::open(buf, "EnrResponse")?;
                let reply_token = list.next("reply token")?;
                let record = Bytes::copy_from_slice(list.next_raw_list("record")?);
                Message::EnrResponse(EnrResponse {
                    reply_token,
                    record,
                })
            }
            other => return Err(DecodeError::UnknownType(other)),
        })
    }
}

/// An optional trailing `u64` (EIP-868 `enr-seq`): absent, or not a valid
/// integer (EIP-8 junk in its place), reads as `None`.
fn optional_u64(list: &mut ListReader<'_>) -> Option<u64> {
    if list.is_empty() {
        return None;
    }
    list.next::<u64>("enr-seq").ok()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn endpoint(ip: &str, udp: u16, tcp: u16) -> Endpoint {
        Endpoint {
            ip: ip.parse::<IpAddr>().expect("ip"),
            udp,
            tcp,
        }
    }

    fn round_trip(message: Message) {
        let mut body = Vec::new();
        message.encode_body(&mut body);
        let decoded = Message::decode_body(message.packet_type(), &body).expect("decode");
        assert_eq!(decoded, message);
    }

    #[test]
    fn every_message_round_trips() {
        let id = B512::repeat_byte(0x11);
        round_trip(Message::Ping(Ping {
            version: 4,
            from: endpoint("127.0.0.1", 30303, 30304),
            to: endpoint("::1", 1, 0),
            expiration: 1_700_000_000,
            enr_seq: Some(7),
        }));
        round_trip(Message::Ping(Ping {
            version: 4,
            from: endpoint("10.0.0.1", 0, 0),
            to: endpoint("10.0.0.2", 65535, 65535),
            expiration: u64::MAX,
            enr_seq: None,
        }));
        round_trip(Message::Pong(Pong {
            to: endpoint("192.168.1.1", 30303, 0),
            reply_token: B256::repeat_byte(0xab),
            expiration: 1,
            enr_seq: Some(1),
        }));
        round_trip(Message::FindNode(FindNode {
            target: id,
            expiration: 1_700_000_000,
        }));
        round_trip(Message::Neighbours(Neighbours {
            nodes: vec![],
            expiration: 5,
        }));
        round_trip(Message::Neighbours(Neighbours {
            nodes: vec![
                NodeRecord {
                    id,
                    ip: "1.2.3.4".parse().expect("ip"),
                    udp: 30303,
                    tcp: 30303,
                },
                NodeRecord {
                    id: B512::repeat_byte(0x22),
                    ip: "2001:db8::1".parse().expect("ip"),
                    udp: 1,
                    tcp: 2,
                },
            ],
            expiration: 5,
        }));
        round_trip(Message::EnrRequest(EnrRequest { expiration: 9 }));
        // A record-shaped list (the body of a real ENR is tested elsewhere).
        round_trip(Message::EnrResponse(EnrResponse {
            reply_token: B256::repeat_byte(0x01),
            record: Bytes::from_static(&[0xc3, 0x01, 0x02, 0x03]),
        }));
    }

    #[test]
    fn expiration_is_signed() {
        let now = 1_700_000_000i64;
        assert!(!is_expired((now + 20) as u64, now));
        assert!(is_expired((now - 1) as u64, now));
        // go-ethereum's v4test "past expiration": -(now + 20) as uint64.
        assert!(is_expired(((now + 20) as u64).wrapping_neg(), now));
    }

    #[test]
    fn junk_in_enr_seq_position_is_ignored() {
        // [4, from, to, exp, [1,2]]: a list where enr-seq would be.
        let ping = Ping {
            version: 4,
            from: endpoint("127.0.0.1", 1, 1),
            to: endpoint("127.0.0.1", 2, 2),
            expiration: 3,
            enr_seq: None,
        };
        let mut fields = Vec::new();
        ping.version.encode(&mut fields);
        ping.from.encode(&mut fields);
        ping.to.encode(&mut fields);
        ping.expiration.encode(&mut fields);
        fields.extend_from_slice(&[0xc2, 0x01, 0x02]);
        let mut body = Vec::new();
        Header {
            list: true,
            payload_length: fields.len(),
        }
        .encode(&mut body);
        body.extend_from_slice(&fields);
        assert_eq!(
            Message::decode_body(protocol::PING, &body).expect("decode"),
            Message::Ping(ping)
        );
    }

    #[test]
    fn truncated_bodies_are_errors() {
        let mut body = Vec::new();
        Message::FindNode(FindNode {
            target: B512::repeat_byte(3),
            expiration: 10,
        })
        .encode_body(&mut body);
        for cut in 0..body.len() {
            assert!(Message::decode_body(protocol::FIND_NODE, &body[..cut]).is_err());
        }
        assert_eq!(
            Message::decode_body(0x42, &body),
            Err(DecodeError::UnknownType(0x42))
        );
    }
}
