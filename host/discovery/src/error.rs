//! Errors of this crate, in protocol terms.

use std::net::SocketAddr;

/// Why a datagram is not a valid discv4 packet. Packets that fail to decode
/// are dropped silently by the service (logged at `trace`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than hash, signature and type byte.
    #[error("packet of {len} bytes is too small for a discv4 header")]
    TooSmall {
        /// The datagram length.
        len: usize,
    },
    /// Longer than the 1280 bytes discv4 allows.
    #[error("packet of {len} bytes exceeds the discv4 maximum of {max}")]
    TooBig {
        /// The datagram length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The leading 32 bytes are not keccak256 of the rest.
    #[error("packet hash does not match its contents")]
    HashMismatch,
    /// The signature does not recover a public key.
    #[error("packet signature does not recover a public key")]
    BadSignature,
    /// A packet type this implementation does not know.
    #[error("unknown discv4 packet type {0:#04x}")]
    UnknownType(u8),
    /// The RLP body is malformed.
    #[error("malformed RLP in {packet}: {source}")]
    Rlp {
        /// The packet kind being decoded.
        packet: &'static str,
        /// What alloy-rlp found wrong.
        source: alloy_rlp::Error,
    },
    /// A field has a value RLP allows but discv4 does not.
    #[error("invalid {field} in {packet}")]
    InvalidField {
        /// The packet kind being decoded.
        packet: &'static str,
        /// The offending field.
        field: &'static str,
    },
}

/// Why an `enode://` URL could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NodeUrlError {
    /// The URL does not start with `enode://`.
    #[error("not an enode URL (missing enode:// prefix)")]
    MissingScheme,
    /// No `@` between the node id and the address.
    #[error("missing '@' between node id and address")]
    MissingAddress,
    /// The node id is not 128 hex characters.
    #[error("node id is not 64 bytes of hex")]
    BadNodeId,
    /// The node id is not a point on secp256k1.
    #[error("node id is not a valid secp256k1 public key")]
    NotOnCurve,
    /// The `ip:port` part does not parse.
    #[error("bad address {0:?}")]
    BadAddress(String),
    /// The `discport` query parameter does not parse.
    #[error("bad discport {0:?}")]
    BadDiscPort(String),
}

/// Errors of [`crate::Discovery`].
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The UDP socket could not be bound.
    #[error("cannot bind discovery UDP socket on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A configured bootnode is not a valid enode URL.
    #[error("bootnode {url:?}: {source}")]
    Bootnode {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        source: NodeUrlError,
    },
    /// Our own ENR could not be built or updated.
    #[error("local ENR: {0}")]
    Enr(String),
    /// The discv5 service could not be created or started.
    #[error("discv5: {0}")]
    Discv5(String),
}
