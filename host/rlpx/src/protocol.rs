//! Every constant of the RLPx transport and the devp2p base protocol, with
//! the place it comes from.
//!
//! Sources: the devp2p specs (`rlpx.md`), EIP-8, go-ethereum v1.15.11
//! (`p2p/rlpx/rlpx.go`, `p2p/peer.go`, `p2p/transport.go`, `p2p/server.go`)
//! and Bor v2.2.11 (`p2p/rlpx/rlpx.go`), which has the same values.

use std::time::Duration;

// ---------------------------------------------------------------- handshake

/// The RLPx handshake version we put in auth and ack bodies (`auth-vsn`,
/// `ack-vsn`; EIP-8). Received versions are ignored, as EIP-8 requires.
pub const HANDSHAKE_VERSION: u64 = 4;

/// Largest EIP-8 handshake packet we read: the 16-bit size prefix (which does
/// not count itself) must be at most this. Bor `p2p/rlpx/rlpx.go` `readMsg`
/// ("message too big" when `size > 2048`).
pub const MAX_HANDSHAKE_PACKET_SIZE: usize = 2048;

/// Bytes ECIES adds to a plaintext: the 65-byte ephemeral public key, the
/// 16-byte IV and the 32-byte HMAC-SHA256 tag (`eciesOverhead`, rlpx.go).
pub const ECIES_OVERHEAD: usize = 65 + 16 + 32;

/// Size of a pre-EIP-8 auth body: signature (65) ‖ keccak(ephemeral-pubk)
/// (32) ‖ initiator-pubk (64) ‖ nonce (32) ‖ token flag (1) (devp2p
/// `rlpx.md`, "old" format; go-ethereum before EIP-8 `authMsgLen`).
pub const LEGACY_AUTH_BODY_SIZE: usize = 65 + 32 + 64 + 32 + 1;

/// Size of a pre-EIP-8 ack body: ephemeral-pubk (64) ‖ nonce (32) ‖ token
/// flag (1) (`authRespLen`).
pub const LEGACY_ACK_BODY_SIZE: usize = 64 + 32 + 1;

/// A whole pre-EIP-8 auth packet: 307 bytes (EIP-8, "read(307, connection)").
pub const LEGACY_AUTH_PACKET_SIZE: usize = LEGACY_AUTH_BODY_SIZE + ECIES_OVERHEAD;

/// A whole pre-EIP-8 ack packet: 210 bytes.
pub const LEGACY_ACK_PACKET_SIZE: usize = LEGACY_ACK_BODY_SIZE + ECIES_OVERHEAD;

/// Least random padding after an EIP-8 auth/ack body ("at least 100 bytes of
/// junk data", EIP-8). It also keeps EIP-8 packets apart from legacy ones.
pub const EIP8_MIN_PADDING: usize = 100;

/// Most random padding after an EIP-8 auth/ack body (EIP-8 recommends a
/// random amount in [100, 300]).
pub const EIP8_MAX_PADDING: usize = 300;

/// Time allowed for the whole RLPx handshake (`handshakeTimeout`,
/// `p2p/transport.go`; it covers the Hello exchange as well).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- framing

/// Largest frame: the frame size is a 24-bit header field (`maxUint24`,
/// rlpx.go; "message length >= 16MB" beyond it).
pub const MAX_FRAME_SIZE: usize = 0xFF_FFFF;

/// Length of a frame header on the wire: 16 encrypted bytes and a 16-byte MAC.
pub const FRAME_HEADER_LEN: usize = 32;

/// Length of the frame MAC and of every MAC digest on the wire.
pub const MAC_LEN: usize = 16;

/// Frames and headers are padded to a multiple of the AES block size.
pub const FRAME_BLOCK: usize = 16;

/// The header-data every frame carries: `rlp([capability-id, context-id])`
/// with both zero (`zeroHeader`, rlpx.go). Ignored on read.
pub const ZERO_HEADER_DATA: [u8; 3] = [0xC2, 0x80, 0x80];

// ---------------------------------------------------------------- p2p base protocol

/// The devp2p base protocol version we announce in Hello
/// (`baseProtocolVersion`, `p2p/peer.go`).
pub const BASE_PROTOCOL_VERSION: u64 = 5;

/// Message ids the base protocol reserves; capabilities start here
/// (`baseProtocolLength`).
pub const BASE_PROTOCOL_LENGTH: u64 = 16;

/// Largest Hello (and any base-protocol message before it) we accept
/// (`baseProtocolMaxMsgSize`).
pub const MAX_HELLO_SIZE: usize = 2 * 1024;

/// Snappy compression is on after Hello when the remote's version is at least
/// this (`snappyProtocolVersion`).
pub const SNAPPY_PROTOCOL_VERSION: u64 = 5;

/// Hello (`handshakeMsg`).
pub const HELLO_MSG: u64 = 0x00;
/// Disconnect (`discMsg`).
pub const DISCONNECT_MSG: u64 = 0x01;
/// Ping (`pingMsg`).
pub const PING_MSG: u64 = 0x02;
/// Pong (`pongMsg`).
pub const PONG_MSG: u64 = 0x03;

/// Length of a node id: the uncompressed secp256k1 public key without its
/// `0x04` prefix (Hello `ID`, enode).
pub const NODE_ID_LEN: usize = 64;

/// How often we ping an idle peer (`pingInterval`, `p2p/peer.go`).
pub const PING_INTERVAL: Duration = Duration::from_secs(15);

/// A peer that sends nothing for this long is dropped (`frameReadTimeout`,
/// `p2p/server.go`).
pub const FRAME_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed for one write to complete (`frameWriteTimeout`,
/// `p2p/server.go`).
pub const FRAME_WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// Time allowed for writing a Disconnect before closing (`discWriteTimeout`,
/// `p2p/transport.go`).
pub const DISCONNECT_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
