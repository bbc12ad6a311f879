//! EIP-8's "RLPx Handshake" and "devp2p Base Protocol" test vectors, read
//! from `testdata/devp2p/eip8/` (sources in `testdata/devp2p/README.md`).

use std::{collections::HashMap, path::PathBuf};

use alloy_primitives::{B256, Bytes};
use hypasis_rlpx::{
    HandshakeFormat, Hello,
    handshake::{Initiator, PacketReader, Recipient},
    node_id, node_id_of,
    secrets::{HandshakeTranscript, Role, Secrets},
};
use secp256k1::{
    PublicKey, SECP256K1, SecretKey,
    rand::{SeedableRng, rngs::StdRng},
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/devp2p/eip8")
}

fn vector(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    hex::decode(text.trim()).unwrap()
}

/// `handshake.txt`: `name = hex` lines.
struct Params(HashMap<String, Vec<u8>>);

impl Params {
    fn load() -> Self {
        let text = std::fs::read_to_string(dir().join("handshake.txt")).unwrap();
        let map = text
            .lines()
            .filter(|line| !line.starts_with('#') && line.contains('='))
            .map(|line| {
                let (name, value) = line.split_once('=').unwrap();
                (name.trim().to_string(), hex::decode(value.trim()).unwrap())
            })
            .collect();
        Params(map)
    }
    fn bytes(&self, name: &str) -> &[u8] {
        &self.0[name]
    }
    fn key(&self, name: &str) -> SecretKey {
        SecretKey::from_byte_array(self.bytes(name).try_into().unwrap()).unwrap()
    }
    fn b256(&self, name: &str) -> B256 {
        B256::from_slice(self.bytes(name))
    }
    fn public(&self, name: &str) -> PublicKey {
        PublicKey::from_secret_key(SECP256K1, &self.key(name))
    }
}

fn recipient_b(p: &Params) -> Recipient {
    Recipient::with_ephemeral(
        &p.key("static-key-b"),
        p.key("ephemeral-key-b"),
        p.b256("nonce-b"),
    )
}

fn initiator_a(p: &Params, format: HandshakeFormat) -> Initiator {
    let remote = node_id_of(&p.key("static-key-b"));
    let mut rng = StdRng::seed_from_u64(8);
    Initiator::with_ephemeral(
        &p.key("static-key-a"),
        remote,
        format,
        p.key("ephemeral-key-a"),
        p.b256("nonce-a"),
        &mut rng,
    )
    .unwrap()
}

#[test]
fn every_auth_vector_decodes_at_b() {
    let p = Params::load();
    let cases = [
        ("auth1_legacy.hex", HandshakeFormat::Legacy, 4u64, vec![]),
        ("auth2_eip8_v4.hex", HandshakeFormat::Eip8, 4, vec![]),
        (
            "auth3_eip8_v56.hex",
            HandshakeFormat::Eip8,
            56,
            vec![&[0x01][..], &[0x02], &[0xC2, 0x04, 0x05]],
        ),
    ];
    for (file, format, version, rest) in cases {
        let packet = vector(file);
        let auth = recipient_b(&p)
            .read_auth(&packet)
            .unwrap()
            .unwrap_or_else(|| panic!("{file}: incomplete"));
        assert_eq!(auth.format, format, "{file}");
        assert_eq!(auth.packet, packet, "{file}: whole packet consumed");
        assert_eq!(
            auth.remote_id(),
            node_id_of(&p.key("static-key-a")),
            "{file}"
        );
        assert_eq!(auth.body.nonce, p.b256("nonce-a"), "{file}");
        assert_eq!(auth.body.version, version, "{file}");
        assert_eq!(
            auth.body.rest,
            rest.iter()
                .map(|r| Bytes::copy_from_slice(r))
                .collect::<Vec<_>>(),
            "{file}"
        );
        assert_eq!(
            auth.remote_ephemeral,
            p.public("ephemeral-key-a"),
            "{file}: ephemeral key recovered"
        );
        assert_eq!(
            auth.body.signature[..],
            p.bytes("auth-signature")[..],
            "{file}"
        );
        // Fed byte by byte, the packet is only complete at its last byte.
        let mut recipient = recipient_b(&p);
        for end in 0..packet.len() {
            assert!(
                recipient.read_auth(&packet[..end]).unwrap().is_none(),
                "{file}: complete at {end}"
            );
        }
        assert!(recipient.read_auth(&packet).unwrap().is_some());
    }
}

#[test]
fn every_ack_vector_decodes_at_a() {
    let p = Params::load();
    let cases = [
        ("ack1_legacy.hex", HandshakeFormat::Legacy, 4u64, vec![]),
        ("ack2_eip8_v4.hex", HandshakeFormat::Eip8, 4, vec![]),
        (
            "ack3_eip8_v57.hex",
            HandshakeFormat::Eip8,
            57,
            vec![&[0x06][..], &[0xC2, 0x07, 0x08], &[0x81, 0xFA]],
        ),
    ];
    for (file, format, version, rest) in cases {
        let packet = vector(file);
        let mut initiator = initiator_a(&p, HandshakeFormat::Eip8);
        let ack = initiator
            .read_ack(&packet)
            .unwrap()
            .unwrap_or_else(|| panic!("{file}: incomplete"));
        assert_eq!(ack.format, format, "{file}");
        assert_eq!(ack.packet, packet, "{file}");
        assert_eq!(
            ack.body.ephemeral_id,
            node_id(&p.public("ephemeral-key-b")),
            "{file}"
        );
        assert_eq!(ack.body.nonce, p.b256("nonce-b"), "{file}");
        assert_eq!(ack.body.version, version, "{file}");
        assert_eq!(
            ack.body.rest,
            rest.iter()
                .map(|r| Bytes::copy_from_slice(r))
                .collect::<Vec<_>>(),
            "{file}"
        );
        let mut initiator = initiator_a(&p, HandshakeFormat::Eip8);
        for end in 0..packet.len() {
            assert!(
                initiator.read_ack(&packet[..end]).unwrap().is_none(),
                "{file}: complete at {end}"
            );
        }
    }
}

fn transcript<'a>(
    role: Role,
    p: &Params,
    local: &'a SecretKey,
    remote: &'a PublicKey,
    auth: &'a [u8],
    ack: &'a [u8],
) -> HandshakeTranscript<'a> {
    let remote_id = match role {
        Role::Initiator => node_id_of(&p.key("static-key-b")),
        Role::Recipient => node_id_of(&p.key("static-key-a")),
    };
    HandshakeTranscript {
        role,
        remote_id,
        local_ephemeral: local,
        remote_ephemeral: remote,
        initiator_nonce: p.b256("nonce-a"),
        recipient_nonce: p.b256("nonce-b"),
        auth_packet: auth,
        ack_packet: ack,
    }
}

#[test]
fn b_derives_the_spec_secrets_for_auth2_ack2() {
    let p = Params::load();
    let (auth2, ack2) = (vector("auth2_eip8_v4.hex"), vector("ack2_eip8_v4.hex"));
    let recipient = recipient_b(&p);
    let auth = recipient_b(&p).read_auth(&auth2).unwrap().unwrap();
    let secrets = recipient.secrets(&auth, &ack2);
    assert_eq!(secrets.aes_secret, p.b256("aes-secret"));
    assert_eq!(secrets.mac_secret, p.b256("mac-secret"));
    assert_eq!(secrets.remote_id, node_id_of(&p.key("static-key-a")));
    let mut ingress = secrets.ingress_mac.clone();
    ingress.update(b"foo");
    assert_eq!(ingress.digest(), p.b256("ingress-mac-foo"));

    // A, from the same packets, derives the same secrets with the MACs crossed.
    let (eph_a, eph_b_pub) = (p.key("ephemeral-key-a"), p.public("ephemeral-key-b"));
    let a = Secrets::derive(&transcript(
        Role::Initiator,
        &p,
        &eph_a,
        &eph_b_pub,
        &auth2,
        &ack2,
    ));
    assert_eq!(
        (a.aes_secret, a.mac_secret),
        (secrets.aes_secret, secrets.mac_secret)
    );
    assert_eq!(a.egress_mac.digest(), secrets.ingress_mac.digest());
    assert_eq!(a.ingress_mac.digest(), secrets.egress_mac.digest());
}

#[test]
fn legacy_auth1_ack1_give_matching_secrets_on_both_sides() {
    let p = Params::load();
    let (auth1, ack1) = (vector("auth1_legacy.hex"), vector("ack1_legacy.hex"));
    let recipient = recipient_b(&p);
    let auth = recipient_b(&p).read_auth(&auth1).unwrap().unwrap();
    let b = recipient.secrets(&auth, &ack1);
    let mut initiator = initiator_a(&p, HandshakeFormat::Legacy);
    let ack = initiator.read_ack(&ack1).unwrap().unwrap();
    assert_eq!(ack.remote_ephemeral, p.public("ephemeral-key-b"));
    let (eph_a, eph_b_pub) = (p.key("ephemeral-key-a"), p.public("ephemeral-key-b"));
    let a = Secrets::derive(&transcript(
        Role::Initiator,
        &p,
        &eph_a,
        &eph_b_pub,
        &auth1,
        &ack1,
    ));
    assert_eq!((a.aes_secret, a.mac_secret), (b.aes_secret, b.mac_secret));
    assert_eq!(a.egress_mac.digest(), b.ingress_mac.digest());
    assert_eq!(a.ingress_mac.digest(), b.egress_mac.digest());
    // The nonces are the same as in the EIP-8 case, and so is ecdh(ephA, ephB):
    // only the MAC seeds (which absorb the packets) differ.
    let auth2 = recipient_b(&p)
        .read_auth(&vector("auth2_eip8_v4.hex"))
        .unwrap()
        .unwrap();
    let b2 = recipient.secrets(&auth2, &vector("ack2_eip8_v4.hex"));
    assert_eq!(b.aes_secret, b2.aes_secret);
    assert_ne!(b.ingress_mac.digest(), b2.ingress_mac.digest());
}

#[test]
fn our_auth_bodies_match_the_vectors_plaintext() {
    // Built from A's keys and nonce, our auth bodies equal the ones inside
    // the vectors except for the signature: the vectors' signing nonce was
    // random, ours is RFC 6979. Both signatures recover A's ephemeral key.
    let p = Params::load();
    let key_b = p.key("static-key-b");
    let decrypt = |packet: &[u8]| {
        PacketReader::auth()
            .read(packet, &key_b)
            .unwrap()
            .unwrap()
            .plaintext
    };

    for format in [HandshakeFormat::Legacy, HandshakeFormat::Eip8] {
        let initiator = initiator_a(&p, format);
        let auth = recipient_b(&p)
            .read_auth(initiator.auth_packet())
            .unwrap()
            .unwrap();
        assert_eq!(auth.format, format);
        assert_eq!(
            auth.remote_ephemeral,
            p.public("ephemeral-key-a"),
            "{format:?}: our signature verifies"
        );
    }

    let ours = decrypt(initiator_a(&p, HandshakeFormat::Legacy).auth_packet());
    let theirs = decrypt(&vector("auth1_legacy.hex"));
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(
        ours[65..],
        theirs[65..],
        "legacy auth body after the signature"
    );

    let ours = decrypt(initiator_a(&p, HandshakeFormat::Eip8).auth_packet());
    let theirs = decrypt(&vector("auth2_eip8_v4.hex"));
    // f8a7 (the list) b841 (the signature) ‖ 65 bytes ‖ pubkey, nonce, version; then padding.
    let list_len = 2 + 0xA7;
    assert_eq!(theirs[..4], [0xF8, 0xA7, 0xB8, 0x41]);
    assert_eq!(ours[..4], theirs[..4]);
    assert_eq!(
        ours[4 + 65..list_len],
        theirs[4 + 65..list_len],
        "EIP-8 auth list after the signature"
    );
    assert!(
        (100..=300).contains(&(ours.len() - list_len)),
        "padding of {}",
        ours.len() - list_len
    );
}

#[test]
fn eip8_hello_vector_decodes_with_its_extra_elements() {
    let hello = Hello::decode(&vector("hello_v22.hex")).unwrap();
    assert_eq!(hello.protocol_version, 55);
    assert_eq!(hello.client_name, "kneth/v0.91/plan9");
    let caps: Vec<String> = hello.capabilities.iter().map(|c| c.to_string()).collect();
    assert_eq!(caps, ["eth/61", "mork/22"]);
    assert_eq!(hello.listen_port, 9999);
    // The id is node A's, the initiator of the handshake vectors.
    assert_eq!(hello.id, node_id_of(&Params::load().key("static-key-a")));
    let rest: Vec<String> = hello.rest.iter().map(hex::encode).collect();
    assert_eq!(
        rest,
        [
            "c883666f6f836261720304"[..18].to_string(),
            "03".into(),
            "04".into()
        ]
    );
}
