//! Errors, in `eth` protocol terms.

use std::fmt;

use alloy_eip2124::ValidationError;
use alloy_primitives::B256;

use crate::message_id::MessageId;
use crate::version::EthVersion;

/// Why an incoming `eth` message was refused. Every variant is a reason to
/// disconnect the peer (`DiscProtocolError`, or `DiscUselessPeer` for
/// [`MessageError::GethStatus69`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The id is not a message of the negotiated version (including ids that
    /// eth/67 removed and BlockRangeUpdate on eth/68).
    #[error("message id {id:#04x} is not an {version} message")]
    UnknownMessage {
        /// The id received, relative to the eth offset.
        id: u64,
        /// The negotiated version.
        version: EthVersion,
    },
    /// The payload is over the 10 MiB eth limit; refused before decoding.
    #[error("{message} of {size} bytes exceeds the {max}-byte message limit")]
    TooBig {
        /// Which message.
        message: MessageId,
        /// Its payload size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The payload is not valid RLP for the message.
    #[error("malformed {message}: {source}")]
    Malformed {
        /// Which message.
        message: MessageId,
        /// What the RLP decoder found.
        #[source]
        source: alloy_rlp::Error,
    },
    /// Bytes follow the message's RLP item.
    #[error("{message} has {extra} bytes after its RLP item")]
    TrailingBytes {
        /// Which message.
        message: MessageId,
        /// How many bytes follow.
        extra: usize,
    },
    /// An eth/69 Status in go-ethereum's layout (7 fields, no total
    /// difficulty) instead of Bor's (8 fields): the peer is not a Bor node.
    #[error("peer speaks go-ethereum's eth/69 (Status without total difficulty), not Bor's")]
    GethStatus69,
    /// A NewPooledTransactionHashes whose three lists differ in length.
    #[error("NewPooledTransactionHashes lists {types} types, {sizes} sizes and {hashes} hashes")]
    AnnouncementMismatch {
        /// Length of the type list.
        types: usize,
        /// Length of the size list.
        sizes: usize,
        /// Length of the hash list.
        hashes: usize,
    },
}

/// Which receipt of a block a [`ReceiptError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptPosition {
    /// The receipt at this index of the stored list.
    Index(usize),
    /// Bor's separately stored state-sync receipt.
    StateSync,
}

impl fmt::Display for ReceiptPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiptPosition::Index(index) => write!(f, "receipt {index}"),
            ReceiptPosition::StateSync => f.write_str("the state-sync receipt"),
        }
    }
}

/// Why stored receipts could not be converted to eth/69: the stored bytes
/// are not what the store promises (a list of consensus receipts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The block's receipts are not an RLP list.
    #[error("stored block receipts are not an RLP list: {source}")]
    NotAList {
        /// What the RLP decoder found.
        #[source]
        source: alloy_rlp::Error,
    },
    /// Bytes follow the block's receipt list.
    #[error("stored block receipts have {extra} bytes after the list")]
    TrailingBytes {
        /// How many bytes follow.
        extra: usize,
    },
    /// A receipt is not valid RLP.
    #[error("{position} is malformed: {source}")]
    Malformed {
        /// Which receipt.
        position: ReceiptPosition,
        /// What the RLP decoder found.
        #[source]
        source: alloy_rlp::Error,
    },
    /// A typed receipt whose envelope is too short or whose type byte is not
    /// an EIP-2718 type (1..=0x7f).
    #[error("{position} is not a typed receipt envelope")]
    BadEnvelope {
        /// Which receipt.
        position: ReceiptPosition,
    },
    /// A receipt without exactly `[status, cumulativeGas, bloom, logs]`.
    #[error("{position} has {count} fields, not 4")]
    FieldCount {
        /// Which receipt.
        position: ReceiptPosition,
        /// How many it has.
        count: usize,
    },
    /// A bloom that is not 256 bytes.
    #[error("{position} has a {length}-byte bloom, not 256")]
    BloomLength {
        /// Which receipt.
        position: ReceiptPosition,
        /// Its length.
        length: usize,
    },
    /// The state-sync receipt is a typed receipt; Bor writes it as type 0.
    #[error("the state-sync receipt is not a legacy (type 0) receipt")]
    StateSyncNotLegacy,
    /// The state-sync receipt has cumulative gas; Bor's client recognises
    /// it (and leaves it out of the receipt root) by a cumulative gas of 0.
    #[error("the state-sync receipt has cumulative gas {gas}, not 0")]
    StateSyncGas {
        /// Its cumulative gas.
        gas: u64,
    },
}

/// Why a block range (BlockRangeUpdate, or the range in Status69) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockRangeError {
    /// The earliest block is above the latest.
    #[error("block range {earliest}..={latest} is inverted")]
    EarliestAfterLatest {
        /// The announced earliest block.
        earliest: u64,
        /// The announced latest block.
        latest: u64,
    },
    /// The latest block hash is zero.
    #[error("block range ending at {latest} has a zero head hash")]
    ZeroLatestHash {
        /// The announced latest block.
        latest: u64,
    },
}

/// Why our fork id could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForkIdError {
    /// The chain spec has no genesis hash yet (a devnet before it is learnt).
    #[error("chain `{chain}` has no genesis hash, so it has no fork id")]
    UnknownGenesis {
        /// The chain's name.
        chain: String,
    },
}

/// Why a peer's Status was refused, in the order Bor checks
/// (`B:eth/protocols/eth/handshake.go`, `readStatus`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Another network (`errNetworkIDMismatch`).
    #[error("network id {theirs} is not ours ({ours})")]
    NetworkIdMismatch {
        /// Our network id.
        ours: u64,
        /// The peer's.
        theirs: u64,
    },
    /// The Status carries another version than negotiated (`errProtocolVersionMismatch`).
    #[error("status says protocol version {theirs}, negotiated {ours}")]
    VersionMismatch {
        /// The negotiated version.
        ours: u32,
        /// The version in the peer's Status.
        theirs: u32,
    },
    /// Another genesis (`errGenesisMismatch`).
    #[error("genesis {theirs} is not ours ({ours})")]
    GenesisMismatch {
        /// Our genesis hash.
        ours: B256,
        /// The peer's.
        theirs: B256,
    },
    /// The EIP-2124 filter refused the peer's fork id (`errForkIDRejected`).
    #[error("fork id rejected: {0}")]
    ForkIdRejected(#[from] ValidationError),
    /// A total difficulty of more than 100 bits.
    #[error("total difficulty of {bits} bits exceeds 100")]
    TotalDifficultyTooLarge {
        /// Its bit length.
        bits: usize,
    },
    /// The block range in an eth/69 Status is invalid (`errInvalidBlockRange`).
    #[error("invalid block range: {0}")]
    BlockRange(#[from] BlockRangeError),
}
