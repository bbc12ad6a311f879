//! Every constant of the `eth` protocol as Bor speaks it: versions, message
//! ids, size and count limits, timeouts. Each one names where it comes from.
//!
//! Notation: `B:` is a file of Bor v2.2.11 (`0xPolygon/bor`, tag v2.2.11),
//! `B[eth69]:` a file of Bor's unreleased eth/69 branches
//! (`avalkov/upstream-v1.16.1`, `manav/eth69-receipt-debugging`), and `G:` a
//! file of go-ethereum v1.15.11.

use std::time::Duration;

/// The capability name negotiated in the devp2p Hello (`G:eth/protocols/eth/protocol.go`, `ProtocolName`).
pub const PROTOCOL_NAME: &str = "eth";

/// Version number of eth/68 (`B:eth/protocols/eth/protocol.go`, `ETH68`).
pub const ETH68: u8 = 68;
/// Version number of eth/69 (`B[eth69]:eth/protocols/eth/protocol.go`, `ETH69`).
pub const ETH69: u8 = 69;

/// Message ids eth/68 reserves after the base protocol (`B:eth/protocols/eth/protocol.go`, `protocolLengths[ETH68]`).
pub const ETH68_MESSAGE_COUNT: u8 = 17;
/// Message ids eth/69 reserves: eth/68's plus BlockRangeUpdate (`B[eth69]:eth/protocols/eth/protocol.go`, `protocolLengths[ETH69]`).
pub const ETH69_MESSAGE_COUNT: u8 = 18;

// Message ids, the same in every version that has them (`B:eth/protocols/eth/protocol.go`).

/// `StatusMsg`: the handshake.
pub const STATUS: u8 = 0x00;
/// `NewBlockHashesMsg`: block announcements.
pub const NEW_BLOCK_HASHES: u8 = 0x01;
/// `TransactionsMsg`: transaction broadcast.
pub const TRANSACTIONS: u8 = 0x02;
/// `GetBlockHeadersMsg`.
pub const GET_BLOCK_HEADERS: u8 = 0x03;
/// `BlockHeadersMsg`.
pub const BLOCK_HEADERS: u8 = 0x04;
/// `GetBlockBodiesMsg`.
pub const GET_BLOCK_BODIES: u8 = 0x05;
/// `BlockBodiesMsg`.
pub const BLOCK_BODIES: u8 = 0x06;
/// `NewBlockMsg`: block propagation (Bor keeps it on eth/69, `B[eth69]:eth/protocols/eth/handler.go`).
pub const NEW_BLOCK: u8 = 0x07;
/// `NewPooledTransactionHashesMsg` (eth/68 form: types, sizes, hashes).
pub const NEW_POOLED_TRANSACTION_HASHES: u8 = 0x08;
/// `GetPooledTransactionsMsg`.
pub const GET_POOLED_TRANSACTIONS: u8 = 0x09;
/// `PooledTransactionsMsg`.
pub const POOLED_TRANSACTIONS: u8 = 0x0a;
/// `GetReceiptsMsg`.
pub const GET_RECEIPTS: u8 = 0x0f;
/// `ReceiptsMsg`.
pub const RECEIPTS: u8 = 0x10;
/// `BlockRangeUpdateMsg`, eth/69 only (`B[eth69]:eth/protocols/eth/protocol.go`).
pub const BLOCK_RANGE_UPDATE: u8 = 0x11;

/// Largest eth message payload accepted (`B:eth/protocols/eth/protocol.go`, `maxMessageSize`).
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// Target size of a data reply: serving stops adding items once it is
/// reached, so a reply may exceed it by one item (`B:eth/protocols/eth/handler.go`, `softResponseLimit`).
pub const SOFT_RESPONSE_LIMIT: usize = 2 * 1024 * 1024;

/// Most headers served per GetBlockHeaders (`B:eth/protocols/eth/handler.go`, `maxHeadersServe`).
pub const MAX_HEADERS_SERVE: usize = 1024;
/// Most bodies served per GetBlockBodies (`B:eth/protocols/eth/handler.go`, `maxBodiesServe`).
pub const MAX_BODIES_SERVE: usize = 1024;
/// Most blocks' receipts served per GetReceipts (`B:eth/protocols/eth/handler.go`, `maxReceiptsServe`).
pub const MAX_RECEIPTS_SERVE: usize = 1024;
/// Serving loops also stop after this many lookups per item limit: `lookups >= 2*maxServe`
/// (`B:eth/protocols/eth/handlers.go`, `ServiceGet*Query`).
pub const MAX_LOOKUPS_FACTOR: usize = 2;

/// Time allowed for the Status exchange; on expiry Bor disconnects with
/// `DiscReadTimeout` (`B:eth/protocols/eth/handshake.go`, `handshakeTimeout`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A peer whose total difficulty has more bits than this is refused
/// (`B:eth/protocols/eth/handshake.go`, `TD.BitLen() > 100`).
pub const MAX_TD_BITS: usize = 100;

/// Headers Bor's downloader asks for per request; what we should expect to
/// be asked, not a limit (`B:eth/downloader/bor_downloader.go`, `MaxHeaderFetch`).
pub const BOR_HEADERS_PER_REQUEST: usize = 192;
/// Bodies Bor's downloader asks for per request (`B:eth/downloader/bor_downloader.go`, `MaxBlockFetch`).
pub const BOR_BODIES_PER_REQUEST: usize = 128;
/// Blocks' receipts Bor's downloader asks for per request (`B:eth/downloader/bor_downloader.go`, `MaxReceiptFetch`).
pub const BOR_RECEIPTS_PER_REQUEST: usize = 256;

/// Size of a logs bloom in an eth/68 receipt (`G:core/types/bloom9.go`, `BloomByteLength`).
pub const BLOOM_SIZE: usize = 256;
