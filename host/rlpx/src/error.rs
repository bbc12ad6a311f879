//! The crate's errors: [`RlpxError`] for the transport (handshake, framing)
//! and [`P2pError`] for the base protocol on top of it.

use std::time::Duration;

use alloy_primitives::B512;

use crate::disconnect::DisconnectReason;

/// An RLPx transport failure: the ECIES handshake or a frame.
#[derive(Debug, thiserror::Error)]
pub enum RlpxError {
    /// The socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The connection closed before the handshake finished.
    #[error("connection closed during the RLPx handshake")]
    ClosedDuringHandshake,
    /// The handshake did not finish in time.
    #[error("RLPx handshake timed out after {0:?}")]
    HandshakeTimeout(Duration),
    /// A node id or public key is not a point on secp256k1.
    #[error("invalid public key (not a secp256k1 point)")]
    InvalidPublicKey,
    /// An ECIES message is shorter than its fixed parts.
    #[error("ECIES message of {len} bytes is shorter than the {min}-byte minimum")]
    EciesTooShort {
        /// Bytes received.
        len: usize,
        /// The least a valid message can have.
        min: usize,
    },
    /// The HMAC tag of an ECIES message does not match: not for our key, or
    /// corrupted.
    #[error("ECIES tag check failed (not encrypted to our key, or corrupted)")]
    TagCheckDecryptFailed,
    /// An EIP-8 handshake packet announces more than we read.
    #[error("handshake packet of {size} bytes exceeds the {max}-byte limit")]
    HandshakeTooBig {
        /// Announced size (the 16-bit prefix).
        size: usize,
        /// Our limit.
        max: usize,
    },
    /// The decrypted auth body does not decode.
    #[error("invalid auth body: {0}")]
    InvalidAuthData(&'static str),
    /// The decrypted ack body does not decode.
    #[error("invalid ack body: {0}")]
    InvalidAckData(&'static str),
    /// The auth signature does not recover the initiator's ephemeral key.
    #[error("invalid auth signature")]
    InvalidAuthSignature,
    /// The legacy auth's hash of the ephemeral key does not match the key
    /// recovered from its signature.
    #[error("auth ephemeral-key hash does not match the signature")]
    EphemeralKeyHashMismatch,
    /// The header MAC does not match.
    #[error("frame header MAC check failed")]
    TagCheckHeaderFailed,
    /// The frame MAC does not match.
    #[error("frame body MAC check failed")]
    TagCheckBodyFailed,
    /// A frame is larger than allowed (24-bit limit, or the lower limit in
    /// force, e.g. for the first frame which must be a Hello).
    #[error("message of {size} bytes exceeds the {max}-byte limit")]
    MessageTooBig {
        /// Frame size (announced or attempted).
        size: usize,
        /// The limit in force.
        max: usize,
    },
    /// The codec was asked to do something its state does not allow (a
    /// programming error in the caller, never caused by the peer).
    #[error("RLPx codec misuse: {0}")]
    InvalidState(&'static str),
}

/// A devp2p base-protocol failure. [`P2pError::disconnect_reason`] says what
/// to tell the peer before closing.
#[derive(Debug, thiserror::Error)]
pub enum P2pError {
    /// The transport failed.
    #[error(transparent)]
    Rlpx(#[from] RlpxError),
    /// The peer sent Disconnect (before or after Hello).
    #[error("peer disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// The connection closed without a Disconnect.
    #[error("connection closed by the peer")]
    ConnectionClosed,
    /// The Hello exchange did not finish in time.
    #[error("Hello exchange timed out after {0:?}")]
    HandshakeTimeout(Duration),
    /// Nothing arrived from the peer for too long.
    #[error("nothing received for {0:?}")]
    ReadTimeout(Duration),
    /// A write did not complete in time.
    #[error("write did not complete within {0:?}")]
    WriteTimeout(Duration),
    /// The first message is larger than a Hello may be.
    #[error("Hello of {size} bytes exceeds the {max}-byte limit")]
    HelloTooBig {
        /// Message size.
        size: usize,
        /// Our limit.
        max: usize,
    },
    /// The first message is neither Hello nor Disconnect.
    #[error("expected Hello, got message id {0:#x}")]
    ExpectedHello(u64),
    /// The Hello does not decode.
    #[error("invalid Hello: {0}")]
    InvalidHello(alloy_rlp::Error),
    /// The Hello's node id is not 64 bytes or is all zero.
    #[error("invalid node identity in Hello ({len} bytes)")]
    InvalidIdentity {
        /// Length of the id received.
        len: usize,
    },
    /// The Hello's node id differs from the key that did the RLPx handshake.
    #[error("Hello node id {got} differs from the handshake's {expected}")]
    UnexpectedIdentity {
        /// The id the RLPx handshake proved (boxed: keeps the error small).
        expected: Box<B512>,
        /// The id in Hello.
        got: Box<B512>,
    },
    /// The peer shares none of our capabilities.
    #[error("no shared capability")]
    NoSharedCapabilities,
    /// A frame does not start with a valid RLP message id.
    #[error("invalid message id: {0}")]
    InvalidMessageId(alloy_rlp::Error),
    /// A message id beyond every negotiated capability.
    #[error("message id {0:#x} is outside every shared capability")]
    MessageIdOutOfRange(u64),
    /// A compressed message is not valid snappy data.
    #[error("invalid snappy data in message {id:#x}: {cause}")]
    Snappy {
        /// Wire id of the message.
        id: u64,
        /// Decoder error.
        cause: snap::Error,
    },
    /// A message decompresses to more than its limit (checked before
    /// decompressing).
    #[error("message {id:#x} of {size} bytes exceeds the {max}-byte limit")]
    MessageTooBig {
        /// Wire id of the message.
        id: u64,
        /// Decoded size.
        size: usize,
        /// The limit in force.
        max: usize,
    },
    /// We tried to send on a capability the peer does not share.
    #[error("capability {0} is not shared with this peer")]
    UnknownCapability(String),
    /// We tried to send a message id beyond the capability's length.
    #[error("message id {id:#x} is outside {capability}'s {length} ids")]
    InvalidOutgoingId {
        /// The capability name.
        capability: String,
        /// The relative id.
        id: u64,
        /// The capability's message count.
        length: u64,
    },
}

impl P2pError {
    /// The reason to send the peer in a Disconnect before closing, or `None`
    /// when nothing should be sent (the peer left, or the socket is broken).
    /// go-ethereum `p2p/peer.go` `run` and `p2p/transport.go` `close`.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        use DisconnectReason as R;
        match self {
            P2pError::Disconnected(_) | P2pError::ConnectionClosed | P2pError::WriteTimeout(_) => {
                None
            }
            P2pError::Rlpx(RlpxError::Io(_)) => None,
            P2pError::Rlpx(RlpxError::MessageTooBig { .. }) => Some(R::ProtocolError),
            P2pError::Rlpx(_) => None,
            P2pError::HandshakeTimeout(_) => None,
            P2pError::ReadTimeout(_) => Some(R::ReadTimeout),
            P2pError::InvalidIdentity { .. } => Some(R::InvalidIdentity),
            P2pError::UnexpectedIdentity { .. } => Some(R::UnexpectedIdentity),
            P2pError::NoSharedCapabilities => Some(R::UselessPeer),
            P2pError::UnknownCapability(_) | P2pError::InvalidOutgoingId { .. } => None,
            P2pError::HelloTooBig { .. }
            | P2pError::ExpectedHello(_)
            | P2pError::InvalidHello(_)
            | P2pError::InvalidMessageId(_)
            | P2pError::MessageIdOutOfRange(_)
            | P2pError::Snappy { .. }
            | P2pError::MessageTooBig { .. } => Some(R::ProtocolError),
        }
    }
}
