//! discv4 behaviour of the pure state machine: packets in, packets out, no
//! sockets and no waiting. Mirrors the cases of go-ethereum's `devp2p discv4
//! test` suite (which `devp2p_suite.rs` runs for real when available).

use std::{net::SocketAddr, sync::Arc};

use alloy_primitives::{B256, B512};
use hypasis_discovery::{
    Enr, ForkId, NodeRecord,
    local_record::{LocalRecord, build_enr, enr_key},
    node::peer_id_of_secret,
    v4node::{Now, Outbound, V4Node, V4Settings},
    v4wire::{self, Endpoint, EnrRequest, FindNode, Message, Neighbours, Ping, Pong},
};
use parking_lot::RwLock;
use secp256k1::SecretKey;

const NODE_ADDR: &str = "127.0.0.1:30303";

fn key(seed: u8) -> SecretKey {
    SecretKey::from_byte_array([seed; 32]).expect("key")
}

fn node_under_test() -> (V4Node, Now) {
    let addr: SocketAddr = NODE_ADDR.parse().expect("addr");
    let fork = ForkId::from(([0x22, 0xd5, 0x23, 0xb2], 0));
    let enr = build_enr(
        &enr_key(&key(1)).expect("key"),
        Some(addr.ip()),
        addr.port(),
        30303,
        fork,
    )
    .expect("enr");
    let record = LocalRecord::new(enr_key(&key(1)).expect("key"), Arc::new(RwLock::new(enr)));
    let settings = V4Settings {
        key: key(1),
        endpoint: Endpoint {
            ip: addr.ip(),
            udp: addr.port(),
            tcp: 30303,
        },
        bootnodes: vec![],
    };
    let now = Now::current();
    let mut node = V4Node::new(settings, record, now);
    // The first tick runs the (empty) bootstrap lookup.
    assert!(node.on_tick(now).is_empty());
    (node, now)
}

/// A tester: a key and a source address.
struct Tester {
    key: SecretKey,
    addr: SocketAddr,
}

impl Tester {
    fn new(seed: u8, addr: &str) -> Self {
        Self {
            key: key(seed),
            addr: addr.parse().expect("addr"),
        }
    }

    fn record(&self) -> NodeRecord {
        NodeRecord {
            id: peer_id_of_secret(&self.key),
            ip: self.addr.ip(),
            udp: self.addr.port(),
            tcp: 0,
        }
    }

    /// Sends `message` from `addr`; returns its hash and the decoded replies.
    fn send_from(
        &self,
        node: &mut V4Node,
        now: Now,
        addr: SocketAddr,
        message: Message,
    ) -> (B256, Vec<Message>) {
        let (datagram, hash) = v4wire::encode(&self.key, &message);
        let out = node.on_datagram(now, addr, &datagram);
        (hash, decode_all(&out, addr))
    }

    fn send(&self, node: &mut V4Node, now: Now, message: Message) -> (B256, Vec<Message>) {
        self.send_from(node, now, self.addr, message)
    }

    fn ping(&self, now: Now, expiration: u64) -> Message {
        Message::Ping(Ping {
            version: 4,
            from: Endpoint {
                ip: self.addr.ip(),
                udp: self.addr.port(),
                tcp: 0,
            },
            to: Endpoint {
                ip: "127.0.0.1".parse().expect("ip"),
                udp: 30303,
                tcp: 0,
            },
            expiration: expiration.max(now.expiration()),
            enr_seq: None,
        })
    }

    /// The v4test `bond()`: ping, answer the node's Ping, take its Pong.
    fn bond(&self, node: &mut V4Node, now: Now) {
        let (ping_hash, replies) = self.send(node, now, self.ping(now, 0));
        let (pong, their_ping) = pong_and_ping(&replies, ping_hash);
        assert_eq!(pong.to.ip, self.addr.ip());
        let answer = Message::Pong(Pong {
            to: Endpoint {
                ip: "127.0.0.1".parse().expect("ip"),
                udp: 30303,
                tcp: 0,
            },
            reply_token: their_ping,
            expiration: now.expiration(),
            enr_seq: None,
        });
        let (_, replies) = self.send(node, now, answer);
        assert!(
            replies.is_empty(),
            "nothing is sent right after bonding: {replies:?}"
        );
    }

    fn find_node(&self, now: Now, target: B512, expiration: u64) -> Message {
        Message::FindNode(FindNode {
            target,
            expiration: expiration.max(now.expiration()),
        })
    }
}

/// Decodes what the node sent; checks every packet went to `to`.
fn decode_all(out: &[Outbound], to: SocketAddr) -> Vec<Message> {
    out.iter()
        .map(|o| {
            assert_eq!(o.to, to, "replies go to the observed source");
            let packet = v4wire::decode(&o.datagram).expect("node sends valid packets");
            assert_eq!(packet.sender, peer_id_of_secret(&key(1)));
            packet.message
        })
        .collect()
}

/// Exactly one Pong quoting `ping_hash` and one Ping; returns the Pong and
/// the hash of the Ping.
fn pong_and_ping(replies: &[Message], ping_hash: B256) -> (Pong, B256) {
    assert_eq!(replies.len(), 2, "{replies:?}");
    let Message::Pong(pong) = &replies[0] else {
        panic!("first reply is not a Pong: {replies:?}");
    };
    assert_eq!(pong.reply_token, ping_hash);
    let Message::Ping(ping) = &replies[1] else {
        panic!("second reply is not a Ping: {replies:?}");
    };
    let (_, their_hash) = v4wire::encode(&key(1), &Message::Ping(ping.clone()));
    // Re-signing is deterministic (RFC 6979), so the hash is the one sent.
    (pong.clone(), their_hash)
}

/// Frames `body` under any packet type, signed with `key` (discv4.md layout).
fn frame(key: &SecretKey, packet_type: u8, body: &[u8]) -> Vec<u8> {
    use alloy_primitives::keccak256;
    use secp256k1::{Message as Digest, SECP256K1};
    let mut datagram = vec![0u8; 97];
    datagram.push(packet_type);
    datagram.extend_from_slice(body);
    let digest = keccak256(&datagram[97..]);
    let (recovery, compact) = SECP256K1
        .sign_ecdsa_recoverable(Digest::from_digest(digest.0), key)
        .serialize_compact();
    datagram[32..96].copy_from_slice(&compact);
    datagram[96] = i32::from(recovery) as u8;
    let hash = keccak256(&datagram[32..]);
    datagram[..32].copy_from_slice(hash.as_slice());
    datagram
}

/// go-ethereum's "past" expiration: `-(now + 20s)` as uint64.
fn past(now: Now) -> u64 {
    now.expiration().wrapping_neg()
}

#[test]
fn ping_gets_pong_to_observed_address_and_a_ping_back() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    // A wrong `from` (192.0.2.0) is ignored: replies go to the source.
    let mut ping = tester.ping(now, 0);
    if let Message::Ping(p) = &mut ping {
        p.from.ip = "192.0.2.0".parse().expect("ip");
    }
    let (hash, replies) = tester.send(&mut node, now, ping);
    let (pong, _) = pong_and_ping(&replies, hash);
    assert_eq!(pong.to.udp, 40000);
    assert!(pong.enr_seq.is_some());
    assert_eq!(node.table_size(), 0, "not in the table before it answers");
}

#[test]
fn expired_and_unknown_packets_are_ignored() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    let mut expired = tester.ping(now, 0);
    if let Message::Ping(p) = &mut expired {
        p.expiration = past(now);
    }
    assert!(tester.send(&mut node, now, expired).1.is_empty());
    // Ping/WrongPacketType: a valid frame of type 66.
    let mut body = Vec::new();
    tester.ping(now, 0).encode_body(&mut body);
    let wrong_type = frame(&tester.key, 66, &body);
    assert_eq!(
        v4wire::decode(&wrong_type),
        Err(hypasis_discovery::DecodeError::UnknownType(66))
    );
    assert!(node.on_datagram(now, tester.addr, &wrong_type).is_empty());
    // Garbage and a corrupted frame never produce output.
    assert!(
        node.on_datagram(now, tester.addr, b"not a packet")
            .is_empty()
    );
    let (mut datagram, _) = v4wire::encode(&tester.key, &tester.ping(now, 0));
    datagram[40] ^= 0xff;
    assert!(node.on_datagram(now, tester.addr, &datagram).is_empty());
}

#[test]
fn findnode_requires_endpoint_proof_from_the_same_ip() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    let target = B512::repeat_byte(0x55);
    let (_, replies) = tester.send(&mut node, now, tester.find_node(now, target, 0));
    assert!(replies.is_empty(), "no answer without endpoint proof");

    tester.bond(&mut node, now);
    assert_eq!(node.table_size(), 1);
    let (_, replies) = tester.send(&mut node, now, tester.find_node(now, target, 0));
    assert!(
        matches!(replies.as_slice(), [Message::Neighbours(_)]),
        "{replies:?}"
    );

    // Amplification/WrongIP: same key, other IP.
    let other: SocketAddr = "127.0.0.2:40000".parse().expect("addr");
    let (_, replies) = tester.send_from(&mut node, now, other, tester.find_node(now, target, 0));
    assert!(replies.is_empty());

    // Findnode/PastExpiration.
    let (_, replies) = tester.send(&mut node, now, tester.find_node(now, target, past(now)));
    assert!(replies.is_empty());
}

#[test]
fn pong_with_wrong_token_does_not_bond() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    let (hash, replies) = tester.send(&mut node, now, tester.ping(now, 0));
    pong_and_ping(&replies, hash);
    let bad = Message::Pong(Pong {
        to: Endpoint {
            ip: "127.0.0.1".parse().expect("ip"),
            udp: 30303,
            tcp: 0,
        },
        reply_token: B256::ZERO,
        expiration: now.expiration(),
        enr_seq: None,
    });
    assert!(tester.send(&mut node, now, bad).1.is_empty());
    assert_eq!(node.table_size(), 0);
    let (_, replies) = tester.send(&mut node, now, tester.find_node(now, B512::ZERO, 0));
    assert!(replies.is_empty(), "no Neighbors after a forged Pong");
}

#[test]
fn unsolicited_neighbours_are_never_used() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    tester.bond(&mut node, now);
    let fake = NodeRecord {
        id: peer_id_of_secret(&key(9)),
        ip: "1.2.3.4".parse().expect("ip"),
        udp: 30303,
        tcp: 30303,
    };
    let unsolicited = Message::Neighbours(Neighbours {
        nodes: vec![fake],
        expiration: now.expiration(),
    });
    assert!(
        tester.send(&mut node, now, unsolicited).1.is_empty(),
        "not even a Ping to it"
    );
    let (_, replies) = tester.send(&mut node, now, tester.find_node(now, fake.id, 0));
    let [Message::Neighbours(answer)] = replies.as_slice() else {
        panic!("expected Neighbors: {replies:?}");
    };
    assert!(answer.nodes.iter().all(|n| n.id != fake.id));
    assert_eq!(answer.nodes, vec![tester.record()]);
}

#[test]
fn bonded_ping_gets_only_a_pong() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    tester.bond(&mut node, now);
    let (hash, replies) = tester.send(&mut node, now, tester.ping(now, 0));
    let [Message::Pong(pong)] = replies.as_slice() else {
        panic!("expected one Pong: {replies:?}");
    };
    assert_eq!(pong.reply_token, hash);
}

#[test]
fn enr_request_answered_with_our_record_when_bonded() {
    let (mut node, now) = node_under_test();
    let tester = Tester::new(2, "127.0.0.1:40000");
    let request = Message::EnrRequest(EnrRequest {
        expiration: now.expiration(),
    });
    assert!(tester.send(&mut node, now, request.clone()).1.is_empty());
    tester.bond(&mut node, now);
    let (hash, replies) = tester.send(&mut node, now, request);
    let [Message::EnrResponse(response)] = replies.as_slice() else {
        panic!("expected ENRResponse: {replies:?}");
    };
    assert_eq!(response.reply_token, hash);
    let enr: Enr = response.enr().expect("valid record");
    assert!(enr.verify());
    assert_eq!(enr.udp4(), Some(30303));
    assert!(enr.get_raw_rlp("eth").is_some());
}

#[test]
fn full_answers_are_split_into_several_packets() {
    let (mut node, now) = node_under_test();
    let testers: Vec<Tester> = (10..40)
        .map(|i| Tester::new(i, &format!("127.0.0.1:{}", 41000 + u16::from(i))))
        .collect();
    for tester in &testers {
        tester.bond(&mut node, now);
    }
    assert_eq!(node.table_size(), testers.len());
    let asker = &testers[0];
    let (_, replies) = asker.send(&mut node, now, asker.find_node(now, B512::ZERO, 0));
    assert!(replies.len() >= 2, "16 nodes need two packets");
    let total: usize = replies
        .iter()
        .map(|m| match m {
            Message::Neighbours(n) => n.nodes.len(),
            other => panic!("unexpected {other:?}"),
        })
        .sum();
    assert_eq!(total, 16);
}

#[test]
fn a_banned_node_is_ignored_dropped_and_not_told_of_until_lifted() {
    let (mut node, now) = node_under_test();
    let asker = Tester::new(2, "127.0.0.1:40000");
    let banned = Tester::new(3, "127.0.0.2:40001");
    asker.bond(&mut node, now);
    banned.bond(&mut node, now);
    assert_eq!(node.table_size(), 2);
    let told_of = |node: &mut V4Node| -> Vec<B512> {
        let (_, replies) = asker.send(node, now, asker.find_node(now, B512::ZERO, 0));
        replies
            .iter()
            .flat_map(|m| match m {
                Message::Neighbours(n) => n.nodes.iter().map(|r| r.id).collect::<Vec<_>>(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    assert!(told_of(&mut node).contains(&banned.record().id));

    let until = now.instant + std::time::Duration::from_secs(60);
    node.ban(banned.record().id, banned.addr.ip(), until);
    assert_eq!(node.table_size(), 1, "a banned node leaves the table");
    assert!(!told_of(&mut node).contains(&banned.record().id));
    let (_, replies) = banned.send(&mut node, now, banned.ping(now, 0));
    assert!(replies.is_empty(), "a banned node's ping gets no pong");
    // Its IP is banned too, whatever key signs.
    let stranger = Tester::new(4, "127.0.0.2:40002");
    let (_, replies) = stranger.send(&mut node, now, stranger.ping(now, 0));
    assert!(replies.is_empty(), "the banned IP is ignored");

    assert!(node.lift_ban(&banned.record().id));
    let (hash, replies) = banned.send(&mut node, now, banned.ping(now, 0));
    assert!(
        matches!(replies.first(), Some(Message::Pong(pong)) if pong.reply_token == hash),
        "answered again once lifted: {replies:?}"
    );
}
