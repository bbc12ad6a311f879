//! The `eth` message ids, with their names and the versions they belong to.

use std::fmt;

use crate::{protocol, version::EthVersion};

/// An `eth` message id (relative to the eth capability's offset).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageId {
    /// [`protocol::STATUS`].
    Status = protocol::STATUS,
    /// [`protocol::NEW_BLOCK_HASHES`].
    NewBlockHashes = protocol::NEW_BLOCK_HASHES,
    /// [`protocol::TRANSACTIONS`].
    Transactions = protocol::TRANSACTIONS,
    /// [`protocol::GET_BLOCK_HEADERS`].
    GetBlockHeaders = protocol::GET_BLOCK_HEADERS,
    /// [`protocol::BLOCK_HEADERS`].
    BlockHeaders = protocol::BLOCK_HEADERS,
    /// [`protocol::GET_BLOCK_BODIES`].
    GetBlockBodies = protocol::GET_BLOCK_BODIES,
    /// [`protocol::BLOCK_BODIES`].
    BlockBodies = protocol::BLOCK_BODIES,
    /// [`protocol::NEW_BLOCK`].
    NewBlock = protocol::NEW_BLOCK,
    /// [`protocol::NEW_POOLED_TRANSACTION_HASHES`].
    NewPooledTransactionHashes = protocol::NEW_POOLED_TRANSACTION_HASHES,
    /// [`protocol::GET_POOLED_TRANSACTIONS`].
    GetPooledTransactions = protocol::GET_POOLED_TRANSACTIONS,
    /// [`protocol::POOLED_TRANSACTIONS`].
    PooledTransactions = protocol::POOLED_TRANSACTIONS,
    /// [`protocol::GET_RECEIPTS`].
    GetReceipts = protocol::GET_RECEIPTS,
    /// [`protocol::RECEIPTS`].
    Receipts = protocol::RECEIPTS,
    /// [`protocol::BLOCK_RANGE_UPDATE`], eth/69 only.
    BlockRangeUpdate = protocol::BLOCK_RANGE_UPDATE,
}

impl MessageId {
    /// Every message id, in id order.
    pub const ALL: [MessageId; 14] = [
        MessageId::Status,
        MessageId::NewBlockHashes,
        MessageId::Transactions,
        MessageId::GetBlockHeaders,
        MessageId::BlockHeaders,
        MessageId::GetBlockBodies,
        MessageId::BlockBodies,
        MessageId::NewBlock,
        MessageId::NewPooledTransactionHashes,
        MessageId::GetPooledTransactions,
        MessageId::PooledTransactions,
        MessageId::GetReceipts,
        MessageId::Receipts,
        MessageId::BlockRangeUpdate,
    ];

    /// The id on the wire.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The message `id` means in `version`, if any.
    pub fn for_version(id: u64, version: EthVersion) -> Option<Self> {
        let message = MessageId::ALL
            .into_iter()
            .find(|message| u64::from(message.id()) == id)?;
        (message != MessageId::BlockRangeUpdate || version >= EthVersion::Eth69).then_some(message)
    }

    /// The message's name in the devp2p spec.
    pub const fn name(self) -> &'static str {
        match self {
            MessageId::Status => "Status",
            MessageId::NewBlockHashes => "NewBlockHashes",
            MessageId::Transactions => "Transactions",
            MessageId::GetBlockHeaders => "GetBlockHeaders",
            MessageId::BlockHeaders => "BlockHeaders",
            MessageId::GetBlockBodies => "GetBlockBodies",
            MessageId::BlockBodies => "BlockBodies",
            MessageId::NewBlock => "NewBlock",
            MessageId::NewPooledTransactionHashes => "NewPooledTransactionHashes",
            MessageId::GetPooledTransactions => "GetPooledTransactions",
            MessageId::PooledTransactions => "PooledTransactions",
            MessageId::GetReceipts => "GetReceipts",
            MessageId::Receipts => "Receipts",
            MessageId::BlockRangeUpdate => "BlockRangeUpdate",
        }
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
