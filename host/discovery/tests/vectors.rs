//! Published vectors: the five discovery packets of EIP-8 ("RLPx Discovery
//! Protocol" test vectors, also in go-ethereum v1.15.11
//! `p2p/discover/v4wire/v4wire_test.go`), go-ethereum's plain Ping vector,
//! and the example record of devp2p `enr.md`.
//! The files are under `testdata/devp2p/`; see its README for provenance.

use std::{net::IpAddr, path::PathBuf};

use alloy_primitives::{B256, B512};
use hypasis_discovery::{
    Enr, NodeRecord,
    local_record::enr_key,
    node::{node_hash, peer_id_of_secret},
    v4wire::{self, Endpoint, FindNode, Message, Neighbours, Ping, Pong},
};
use secp256k1::SecretKey;

/// The key that signed every vector (EIP-8, enr.md).
const VECTOR_KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

fn testdata(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/devp2p")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

fn vector_key() -> SecretKey {
    let bytes: [u8; 32] = hex::decode(VECTOR_KEY)
        .expect("hex")
        .try_into()
        .expect("32");
    SecretKey::from_byte_array(bytes).expect("key")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn id(h: &str) -> B512 {
    B512::from_slice(&hex::decode(h).expect("hex"))
}

/// Decodes a vector file, checks the signer, and checks that our own
/// encoding of the decoded message decodes to the same message.
fn decode_vector(name: &str) -> Message {
    let datagram = hex::decode(testdata(name)).expect("hex");
    let packet = v4wire::decode(&datagram).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        packet.sender,
        peer_id_of_secret(&vector_key()),
        "{name}: signer"
    );
    assert!(v4wire::is_discv4(&datagram));
    let (ours, _) = v4wire::encode(&vector_key(), &packet.message);
    assert_eq!(
        v4wire::decode(&ours).expect("re-decode").message,
        packet.message
    );
    packet.message
}

#[test]
fn geth_plain_ping() {
    let want = Ping {
        version: 4,
        from: Endpoint {
            ip: ip("127.0.0.1"),
            udp: 3322,
            tcp: 5544,
        },
        to: Endpoint {
            ip: ip("::1"),
            udp: 2222,
            tcp: 3333,
        },
        expiration: 1136239445,
        enr_seq: None,
    };
    assert_eq!(decode_vector("discv4-geth-ping.hex"), Message::Ping(want));
}

#[test]
fn eip8_ping_v4_with_extra_elements() {
    // EIP-8: "ping packet with version 4, additional list elements" (0x01,
    // 0x02). Read as EIP-868 does (and go-ethereum's decoder): the first
    // extra element is the enr-seq, the second is ignored.
    let want = Ping {
        version: 4,
        from: Endpoint {
            ip: ip("127.0.0.1"),
            udp: 3322,
            tcp: 5544,
        },
        to: Endpoint {
            ip: ip("::1"),
            udp: 2222,
            tcp: 3333,
        },
        expiration: 1136239445,
        enr_seq: Some(1),
    };
    assert_eq!(
        decode_vector("discv4-eip8-ping-v4.hex"),
        Message::Ping(want)
    );
}

#[test]
fn eip8_ping_v555_with_extra_elements_and_trailing_data() {
    // A list (not an integer) where the enr-seq would be, then random bytes
    // after the packet list: both ignored.
    let want = Ping {
        version: 555,
        from: Endpoint {
            ip: ip("2001:db8:3c4d:15::abcd:ef12"),
            udp: 3322,
            tcp: 5544,
        },
        to: Endpoint {
            ip: ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
            udp: 2222,
            tcp: 33338,
        },
        expiration: 1136239445,
        enr_seq: None,
    };
    assert_eq!(
        decode_vector("discv4-eip8-ping-v555.hex"),
        Message::Ping(want)
    );
}

#[test]
fn eip8_pong_with_extra_elements_and_trailing_data() {
    let want = Pong {
        to: Endpoint {
            ip: ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
            udp: 2222,
            tcp: 33338,
        },
        reply_token: B256::from_slice(
            &hex::decode("fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c954")
                .expect("hex"),
        ),
        expiration: 1136239445,
        enr_seq: None,
    };
    assert_eq!(decode_vector("discv4-eip8-pong.hex"), Message::Pong(want));
}

#[test]
fn eip8_findnode_with_extra_fields() {
    let want = FindNode {
        target: id(
            "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f",
        ),
        expiration: 1136239445,
    };
    assert_eq!(
        decode_vector("discv4-eip8-findnode.hex"),
        Message::FindNode(want)
    );
}

#[test]
fn eip8_neighbours_with_extra_fields() {
    let node = |id_hex: &str, ip_s: &str, udp, tcp| NodeRecord {
        id: id(id_hex),
        ip: ip(ip_s),
        udp,
        tcp,
    };
    let want = Neighbours {
        nodes: vec![
            node(
                "3155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32",
                "99.33.22.55",
                4444,
                4445,
            ),
            node(
                "312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069db",
                "1.2.3.4",
                1,
                1,
            ),
            node(
                "38643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aac",
                "2001:db8:3c4d:15::abcd:ef12",
                3333,
                3333,
            ),
            node(
                "8dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df73",
                "2001:db8:85a3:8d3:1319:8a2e:370:7348",
                999,
                1000,
            ),
        ],
        expiration: 1136239445,
    };
    assert_eq!(
        decode_vector("discv4-eip8-neighbours.hex"),
        Message::Neighbours(want)
    );
}

#[test]
fn enr_md_example_decodes_verifies_and_reencodes() {
    let text = testdata("enr-example.txt");
    let enr: Enr = text
        .parse()
        .expect("enr.md example parses (and its signature verifies)");
    assert!(enr.verify());
    assert_eq!(enr.to_base64(), text, "re-encodes byte-identically");
    assert_eq!(enr.seq(), 1);
    assert_eq!(enr.ip4(), Some("127.0.0.1".parse().expect("ip")));
    assert_eq!(enr.udp4(), Some(30303));
    assert_eq!(enr.id().as_deref(), Some("v4"));
    assert_eq!(
        hex::encode(enr.node_id().raw()),
        "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
    );
    assert_eq!(
        enr.node_id().raw(),
        node_hash(&peer_id_of_secret(&vector_key())).0,
        "signed by the published private key"
    );

    // Rebuilding the same content with the published key gives a record
    // with identical content (the signature bytes differ: ECDSA nonces are
    // the signer's choice) that verifies under the same identity.
    let key = enr_key(&vector_key()).expect("key");
    let rebuilt = Enr::builder()
        .ip4("127.0.0.1".parse().expect("ip"))
        .udp4(30303)
        .build(&key)
        .expect("build");
    assert!(rebuilt.verify());
    assert!(rebuilt.compare_content(&enr));
    assert_eq!(rebuilt.node_id(), enr.node_id());
}
