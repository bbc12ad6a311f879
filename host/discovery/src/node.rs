//! Node identities and addresses: the 64-byte discv4 node id, its keccak256
//! hash (the Kademlia key), log-distance, and `enode://` URLs.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use alloy_primitives::{B256, B512, keccak256};
use secp256k1::{PublicKey, SECP256K1, SecretKey};

use crate::error::NodeUrlError;

/// A discv4 node id: the uncompressed secp256k1 public key without its `0x04`
/// prefix (64 bytes), as carried in FindNode targets and Neighbors entries.
pub type PeerId = B512;

/// The node id of a public key.
pub fn peer_id(key: &PublicKey) -> PeerId {
    let uncompressed = key.serialize_uncompressed();
    B512::from_slice(&uncompressed[1..])
}

/// The node id of a secret key.
pub fn peer_id_of_secret(key: &SecretKey) -> PeerId {
    peer_id(&PublicKey::from_secret_key(SECP256K1, key))
}

/// The public key behind a node id, if the id is a point on the curve.
pub fn public_key(id: &PeerId) -> Option<PublicKey> {
    let mut uncompressed = [0u8; 65];
    uncompressed[0] = 0x04;
    uncompressed[1..].copy_from_slice(id.as_slice());
    PublicKey::from_slice(&uncompressed).ok()
}

/// The Kademlia key of a node: keccak256 of its 64-byte id (the "node ID" of
/// ENR's v4 identity scheme).
pub fn node_hash(id: &PeerId) -> B256 {
    keccak256(id)
}

/// Log-distance between two Kademlia keys: the bit length of `a XOR b`,
/// so 0 for equal keys and 1..=256 otherwise.
pub fn log_distance(a: &B256, b: &B256) -> usize {
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return (32 - i) * 8 - diff.leading_zeros() as usize;
        }
    }
    0
}

/// Compares `a` and `b` by XOR distance to `target` (closest first).
pub fn distance_cmp(target: &B256, a: &B256, b: &B256) -> std::cmp::Ordering {
    for i in 0..32 {
        let da = a[i] ^ target[i];
        let db = b[i] ^ target[i];
        if da != db {
            return da.cmp(&db);
        }
    }
    std::cmp::Ordering::Equal
}

/// A node as discv4 knows it: id, IP, UDP (discovery) and TCP (RLPx) ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// The 64-byte node id.
    pub id: PeerId,
    /// The node's IP address.
    pub ip: IpAddr,
    /// The UDP port discovery runs on.
    pub udp: u16,
    /// The TCP port RLPx listens on (0 if unknown).
    pub tcp: u16,
}

impl NodeRecord {
    /// The UDP address to send discovery packets to.
    pub fn udp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.udp)
    }

    /// The Kademlia key of this node.
    pub fn hash(&self) -> B256 {
        node_hash(&self.id)
    }
}

/// Formats as `enode://<id hex>@<ip>:<tcp>[?discport=<udp>]` (the form
/// go-ethereum and Bor print and accept for `--bootnodes`).
impl fmt::Display for NodeRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enode://{}@", hex::encode(self.id))?;
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}")?,
            IpAddr::V6(ip) => write!(f, "[{ip}]")?,
        }
        write!(f, ":{}", self.tcp)?;
        if self.udp != self.tcp {
            write!(f, "?discport={}", self.udp)?;
        }
        Ok(())
    }
}

/// Parses `enode://<128 hex>@<ip>:<port>[?discport=<udp>]`. The port is the
/// TCP port and, without `discport`, also the UDP port.
impl FromStr for NodeRecord {
    type Err = NodeUrlError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let rest = url
            .trim()
            .strip_prefix("enode://")
            .ok_or(NodeUrlError::MissingScheme)?;
        let (id_hex, address) = rest.split_once('@').ok_or(NodeUrlError::MissingAddress)?;
        let id_bytes = hex::decode(id_hex).map_err(|_| NodeUrlError::BadNodeId)?;
        if id_bytes.len() != 64 {
            return Err(NodeUrlError::BadNodeId);
        }
        let id = B512::from_slice(&id_bytes);
        if public_key(&id).is_none() {
            return Err(NodeUrlError::NotOnCurve);
        }
        let (address, query) = match address.split_once('?') {
            Some((address, query)) => (address, Some(query)),
            None => (address, None),
        };
        let socket: SocketAddr = address
            .parse()
            .map_err(|_| NodeUrlError::BadAddress(address.to_string()))?;
        let mut udp = socket.port();
        if let Some(query) = query {
            for pair in query.split('&') {
                if let Some(value) = pair.strip_prefix("discport=") {
                    udp = value
                        .parse()
                        .map_err(|_| NodeUrlError::BadDiscPort(value.to_string()))?;
                }
            }
        }
        Ok(NodeRecord {
            id,
            ip: socket.ip().to_canonical(),
            udp,
            tcp: socket.port(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The key of go-ethereum's p2p/enode tests and of devp2p enr.md.
    const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

    fn key() -> SecretKey {
        let bytes: [u8; 32] = hex::decode(KEY).expect("hex").try_into().expect("32 bytes");
        SecretKey::from_byte_array(bytes).expect("key")
    }

    #[test]
    fn known_key_gives_known_hash() {
        // enr.md: "The node ID is a448f24c…"
        let id = peer_id_of_secret(&key());
        assert_eq!(
            hex::encode(node_hash(&id)),
            "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
        );
        assert_eq!(
            public_key(&id),
            Some(PublicKey::from_secret_key(SECP256K1, &key()))
        );
    }

    #[test]
    fn enode_url_round_trips() {
        let id = peer_id_of_secret(&key());
        let same = format!("enode://{}@10.3.58.6:30303", hex::encode(id));
        let record: NodeRecord = same.parse().expect("parse");
        assert_eq!((record.udp, record.tcp), (30303, 30303));
        assert_eq!(record.to_string(), same);

        let split = format!("enode://{}@[::1]:30303?discport=30301", hex::encode(id));
        let record: NodeRecord = split.parse().expect("parse");
        assert_eq!((record.udp, record.tcp), (30301, 30303));
        assert_eq!(record.to_string(), split);
    }

    #[test]
    fn enode_url_rejections() {
        let id = hex::encode(peer_id_of_secret(&key()));
        let cases = [
            ("enr:abc".to_string(), NodeUrlError::MissingScheme),
            (format!("enode://{id}"), NodeUrlError::MissingAddress),
            (
                "enode://abcd@1.2.3.4:1".to_string(),
                NodeUrlError::BadNodeId,
            ),
            (
                format!("enode://{}@1.2.3.4:1", "00".repeat(64)),
                NodeUrlError::NotOnCurve,
            ),
            (
                format!("enode://{id}@1.2.3.4"),
                NodeUrlError::BadAddress("1.2.3.4".into()),
            ),
            (
                format!("enode://{id}@1.2.3.4:1?discport=x"),
                NodeUrlError::BadDiscPort("x".into()),
            ),
        ];
        for (url, want) in cases {
            assert_eq!(url.parse::<NodeRecord>(), Err(want), "{url}");
        }
    }

    #[test]
    fn log_distance_counts_bits() {
        let zero = B256::ZERO;
        assert_eq!(log_distance(&zero, &zero), 0);
        let mut one = B256::ZERO;
        one[31] = 1;
        assert_eq!(log_distance(&zero, &one), 1);
        let mut top = B256::ZERO;
        top[0] = 0x80;
        assert_eq!(log_distance(&zero, &top), 256);
        let mut mid = B256::ZERO;
        mid[30] = 0x10;
        assert_eq!(log_distance(&one, &mid), 13);
    }
}
