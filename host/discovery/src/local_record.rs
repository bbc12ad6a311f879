//! Our own node record (ENR, EIP-778): secp256k1 identity, ip, tcp, udp and
//! the `eth` fork-id entry. One record serves discv4 (ENRResponse, the
//! `enr-seq` in Ping/Pong) and discv5; when discv5 runs, the record lives in
//! discv5's own shared cell so both protocols always hand out the same one.

use std::{net::IpAddr, sync::Arc};

use alloy_primitives::Bytes;
use enr::CombinedKey;
use parking_lot::RwLock;
use secp256k1::SecretKey;

use crate::{
    error::DiscoveryError,
    fork_id::{ETH_ENR_KEY, ForkId, encode_eth_entry},
};

/// The ENR type used throughout (the one `discv5` uses).
pub type Enr = discv5::Enr;

/// Converts our secp256k1 node key into the ENR library's key type.
pub fn enr_key(key: &SecretKey) -> Result<CombinedKey, DiscoveryError> {
    let mut bytes = key.secret_bytes();
    CombinedKey::secp256k1_from_bytes(&mut bytes).map_err(|e| DiscoveryError::Enr(e.to_string()))
}

/// Builds and signs a fresh record (sequence number 1).
///
/// `ip` is the advertised address (none: the record carries ports only);
/// `udp` is the discovery port, `tcp` the RLPx port (0: not advertised).
pub fn build_enr(
    key: &CombinedKey,
    ip: Option<IpAddr>,
    udp: u16,
    tcp: u16,
    fork_id: ForkId,
) -> Result<Enr, DiscoveryError> {
    let mut builder = Enr::builder();
    let v6 = matches!(ip, Some(IpAddr::V6(_)));
    if let Some(ip) = ip {
        builder.ip(ip);
    }
    if v6 {
        builder.udp6(udp);
        if tcp != 0 {
            builder.tcp6(tcp);
        }
    } else {
        builder.udp4(udp);
        if tcp != 0 {
            builder.tcp4(tcp);
        }
    }
    builder.add_value_rlp(ETH_ENR_KEY, encode_eth_entry(fork_id).into());
    builder
        .build(key)
        .map_err(|e| DiscoveryError::Enr(e.to_string()))
}

/// Our record, shared between the discv4 service, discv5 and the API.
#[derive(Clone)]
pub struct LocalRecord {
    key: Arc<CombinedKey>,
    enr: Arc<RwLock<Enr>>,
}

impl LocalRecord {
    /// Wraps a record cell (ours, or discv5's `external_enr()`) and its key.
    pub fn new(key: CombinedKey, enr: Arc<RwLock<Enr>>) -> Self {
        Self {
            key: Arc::new(key),
            enr,
        }
    }

    /// A copy of the current record.
    pub fn enr(&self) -> Enr {
        self.enr.read().clone()
    }

    /// The current sequence number (sent as `enr-seq` in Ping and Pong).
    pub fn seq(&self) -> u64 {
        self.enr.read().seq()
    }

    /// The current record as RLP (the ENRResponse payload).
    pub fn rlp(&self) -> Bytes {
        Bytes::from(alloy_rlp::encode(&*self.enr.read()))
    }

    /// Replaces the `eth` entry; the sequence number goes up and the record
    /// is re-signed. A no-op if the fork id is unchanged.
    pub fn set_fork_id(&self, fork_id: ForkId) -> Result<(), DiscoveryError> {
        let value = encode_eth_entry(fork_id);
        let mut enr = self.enr.write();
        if enr.get_raw_rlp(ETH_ENR_KEY) == Some(value.as_slice()) {
            return Ok(());
        }
        enr.insert_raw_rlp(ETH_ENR_KEY, value.into(), &self.key)
            .map_err(|e| DiscoveryError::Enr(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        fork_id::decode_eth_entry,
        node::{node_hash, peer_id_of_secret},
    };

    fn key() -> SecretKey {
        SecretKey::from_byte_array([7; 32]).expect("key")
    }

    #[test]
    fn record_carries_endpoint_identity_and_fork_id() {
        let fork = ForkId::from(([1, 2, 3, 4], 99));
        let combined = enr_key(&key()).expect("key");
        let enr = build_enr(
            &combined,
            Some("10.1.2.3".parse().expect("ip")),
            30301,
            30303,
            fork,
        )
        .expect("enr");
        assert!(enr.verify());
        assert_eq!(enr.seq(), 1);
        assert_eq!(enr.ip4(), Some("10.1.2.3".parse().expect("ip")));
        assert_eq!(enr.udp4(), Some(30301));
        assert_eq!(enr.tcp4(), Some(30303));
        assert_eq!(enr.node_id().raw(), node_hash(&peer_id_of_secret(&key())).0);
        let eth = enr.get_raw_rlp(ETH_ENR_KEY).expect("eth entry");
        assert_eq!(decode_eth_entry(eth), Ok(fork));
    }

    #[test]
    fn fork_id_update_bumps_seq_once() {
        let combined = enr_key(&key()).expect("key");
        let enr = build_enr(&combined, None, 1, 0, ForkId::from(([0; 4], 0))).expect("enr");
        let record = LocalRecord::new(enr_key(&key()).expect("key"), Arc::new(RwLock::new(enr)));
        let next = ForkId::from(([9; 4], 5));
        record.set_fork_id(next).expect("set");
        record.set_fork_id(next).expect("set again");
        assert_eq!(record.seq(), 2);
        let enr = record.enr();
        assert!(enr.verify());
        assert_eq!(
            decode_eth_entry(enr.get_raw_rlp(ETH_ENR_KEY).expect("eth")),
            Ok(next)
        );
        // The RLP form decodes back to the same record.
        let decoded: Enr = alloy_rlp::Decodable::decode(&mut record.rlp().as_ref()).expect("rlp");
        assert_eq!(decoded, enr);
    }
}
