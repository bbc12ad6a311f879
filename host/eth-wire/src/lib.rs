//! The `eth` devp2p protocol as Bor speaks it — eth/68 and Bor's eth/69 —
//! as types and pure functions: no sockets, no async, no clocks.
//!
//! - [`protocol`]: every constant (ids, limits, timeouts) with its source.
//! - [`EthMessage::decode`] / [`EthMessage::encode`]: all 17 (eth/68) or 18
//!   (eth/69) messages by version and id, refusing unknown ids and
//!   oversized payloads first and never panicking on any input.
//! - Bor's eth/69 keeps the total difficulty in [`Status69`]; a peer sending
//!   go-ethereum's TD-less eth/69 Status is recognised
//!   ([`MessageError::GethStatus69`]).
//! - Headers, bodies and receipts travel as [`RawRlp`] items, so serving
//!   is a copy of stored bytes ([`encode_raw_response`]); eth/69 receipts
//!   are converted from the stored eth/68 form by [`receipts_68_to_69`],
//!   which also appends Bor's state-sync receipt.
//! - [`fork_filter`] / [`fork_id()`]: EIP-2124 fork ids from a
//!   [`ChainSpec`](hypasis_polygon::ChainSpec); [`check_status68`] /
//!   [`check_status69`] judge a peer's Status.
//!
//! Notation in the docs: `B:` is a Bor v2.2.11 file, `B[eth69]:` a file of
//! Bor's eth/69 branches, `G:` a go-ethereum v1.15.11 file.

#![deny(missing_docs)]

pub mod block_range;
pub mod blocks;
pub mod error;
pub mod fork_id;
pub mod handshake;
pub mod message;
pub mod message_id;
pub mod protocol;
pub mod raw;
pub mod receipt_convert;
pub mod receipts;
pub mod request;
pub mod response;
pub mod status;
pub mod transactions;
pub mod version;

pub use alloy_eip2124::{ForkFilter, ForkHash, ForkId, ValidationError};
pub use block_range::BlockRangeUpdate;
pub use blocks::{
    BlockBodies, BlockHashNumber, BlockHeaders, GetBlockBodies, GetBlockHeaders, HashOrNumber,
    NewBlock, NewBlockHashes,
};
pub use error::{
    BlockRangeError, ForkIdError, HandshakeError, MessageError, ReceiptError, ReceiptPosition,
};
pub use fork_id::{ForkHead, ForkSchedule, advance, fork_filter, fork_id};
pub use handshake::{check_status68, check_status69};
pub use message::{EthMessage, MessageId};
pub use raw::RawRlp;
pub use receipt_convert::receipts_68_to_69;
pub use receipts::{GetReceipts, Receipt69, Receipts, decode_block_receipts_69};
pub use request::RequestPair;
pub use response::{ResponseBudget, encode_raw_response};
pub use status::{GethStatus69, Status68, Status69};
pub use transactions::{
    GetPooledTransactions, NewPooledTransactionHashes, PooledTransactions, Transactions,
};
pub use version::EthVersion;
