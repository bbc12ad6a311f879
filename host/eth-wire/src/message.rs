//! Every `eth` message as one enum, decoded by (version, id, payload) with
//! errors instead of panics, and encoded back to its payload.

use alloy_rlp::{Decodable, Encodable};
use bytes::BufMut;

use crate::block_range::BlockRangeUpdate;
use crate::blocks::{
    BlockBodies, BlockHeaders, GetBlockBodies, GetBlockHeaders, NewBlock, NewBlockHashes,
};
use crate::error::MessageError;
pub use crate::message_id::MessageId;
use crate::protocol::MAX_MESSAGE_SIZE;
use crate::raw::RawRlp;
use crate::receipts::{GetReceipts, Receipts};
use crate::request::RequestPair;
use crate::status::{Status68, Status69, is_geth_status69};
use crate::transactions::{
    GetPooledTransactions, NewPooledTransactionHashes, PooledTransactions, Transactions,
};
use crate::version::EthVersion;

/// One `eth` message of either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EthMessage {
    /// Status on eth/68.
    Status68(Status68),
    /// Status on eth/69 (Bor's layout).
    Status69(Status69),
    /// Block announcements.
    NewBlockHashes(NewBlockHashes),
    /// Transaction broadcast (opaque; ignored).
    Transactions(Transactions),
    /// A header request.
    GetBlockHeaders(RequestPair<GetBlockHeaders>),
    /// A header response.
    BlockHeaders(RequestPair<BlockHeaders>),
    /// A body request.
    GetBlockBodies(RequestPair<GetBlockBodies>),
    /// A body response.
    BlockBodies(RequestPair<BlockBodies>),
    /// A whole-block announcement.
    NewBlock(NewBlock),
    /// Transaction hash announcements (ignored).
    NewPooledTransactionHashes(NewPooledTransactionHashes),
    /// A pooled-transaction request (answered empty).
    GetPooledTransactions(RequestPair<GetPooledTransactions>),
    /// A pooled-transaction response.
    PooledTransactions(RequestPair<PooledTransactions>),
    /// A receipt request.
    GetReceipts(RequestPair<GetReceipts>),
    /// A receipt response, in the connection's version's receipt form.
    Receipts(RequestPair<Receipts>),
    /// The sender's served block range changed (eth/69).
    BlockRangeUpdate(BlockRangeUpdate),
}

impl EthMessage {
    /// Decodes the payload of message `id` received on a `version`
    /// connection. Refuses an unknown id or an oversized payload before
    /// reading it, and never panics on any input.
    pub fn decode(version: EthVersion, id: u64, payload: &[u8]) -> Result<Self, MessageError> {
        let message = MessageId::for_version(id, version)
            .ok_or(MessageError::UnknownMessage { id, version })?;
        if payload.len() > MAX_MESSAGE_SIZE {
            return Err(MessageError::TooBig {
                message,
                size: payload.len(),
                max: MAX_MESSAGE_SIZE,
            });
        }
        Ok(match message {
            MessageId::Status => match version {
                EthVersion::Eth68 => EthMessage::Status68(decode_whole(message, payload)?),
                EthVersion::Eth69 => match decode_whole(message, payload) {
                    Ok(status) => EthMessage::Status69(status),
                    Err(_) if is_geth_status69(payload) => return Err(MessageError::GethStatus69),
                    Err(error) => return Err(error),
                },
            },
            MessageId::NewBlockHashes => {
                EthMessage::NewBlockHashes(decode_whole(message, payload)?)
            }
            MessageId::Transactions => EthMessage::Transactions(decode_whole(message, payload)?),
            MessageId::GetBlockHeaders => {
                EthMessage::GetBlockHeaders(decode_whole(message, payload)?)
            }
            MessageId::BlockHeaders => {
                let pair: RequestPair<BlockHeaders> = decode_whole(message, payload)?;
                require_lists(message, &pair.message.0)?;
                EthMessage::BlockHeaders(pair)
            }
            MessageId::GetBlockBodies => {
                EthMessage::GetBlockBodies(decode_whole(message, payload)?)
            }
            MessageId::BlockBodies => {
                let pair: RequestPair<BlockBodies> = decode_whole(message, payload)?;
                require_lists(message, &pair.message.0)?;
                EthMessage::BlockBodies(pair)
            }
            MessageId::NewBlock => {
                let new_block: NewBlock = decode_whole(message, payload)?;
                require_lists(message, std::slice::from_ref(&new_block.block))?;
                EthMessage::NewBlock(new_block)
            }
            MessageId::NewPooledTransactionHashes => {
                let announcement: NewPooledTransactionHashes = decode_whole(message, payload)?;
                announcement.validate()?;
                EthMessage::NewPooledTransactionHashes(announcement)
            }
            MessageId::GetPooledTransactions => {
                EthMessage::GetPooledTransactions(decode_whole(message, payload)?)
            }
            MessageId::PooledTransactions => {
                EthMessage::PooledTransactions(decode_whole(message, payload)?)
            }
            MessageId::GetReceipts => EthMessage::GetReceipts(decode_whole(message, payload)?),
            MessageId::Receipts => {
                let pair: RequestPair<Receipts> = decode_whole(message, payload)?;
                require_lists(message, &pair.message.0)?;
                EthMessage::Receipts(pair)
            }
            MessageId::BlockRangeUpdate => {
                EthMessage::BlockRangeUpdate(decode_whole(message, payload)?)
            }
        })
    }

    /// The message's id.
    pub const fn id(&self) -> MessageId {
        match self {
            EthMessage::Status68(_) | EthMessage::Status69(_) => MessageId::Status,
            EthMessage::NewBlockHashes(_) => MessageId::NewBlockHashes,
            EthMessage::Transactions(_) => MessageId::Transactions,
            EthMessage::GetBlockHeaders(_) => MessageId::GetBlockHeaders,
            EthMessage::BlockHeaders(_) => MessageId::BlockHeaders,
            EthMessage::GetBlockBodies(_) => MessageId::GetBlockBodies,
            EthMessage::BlockBodies(_) => MessageId::BlockBodies,
            EthMessage::NewBlock(_) => MessageId::NewBlock,
            EthMessage::NewPooledTransactionHashes(_) => MessageId::NewPooledTransactionHashes,
            EthMessage::GetPooledTransactions(_) => MessageId::GetPooledTransactions,
            EthMessage::PooledTransactions(_) => MessageId::PooledTransactions,
            EthMessage::GetReceipts(_) => MessageId::GetReceipts,
            EthMessage::Receipts(_) => MessageId::Receipts,
            EthMessage::BlockRangeUpdate(_) => MessageId::BlockRangeUpdate,
        }
    }

    /// Whether the message may be sent on a `version` connection (the
    /// Status shape and BlockRangeUpdate depend on it).
    pub fn is_valid_for(&self, version: EthVersion) -> bool {
        match self {
            EthMessage::Status68(_) => version == EthVersion::Eth68,
            EthMessage::Status69(_) | EthMessage::BlockRangeUpdate(_) => {
                version == EthVersion::Eth69
            }
            _ => true,
        }
    }

    /// Writes the message's payload (without the id).
    pub fn encode(&self, out: &mut dyn BufMut) {
        self.as_encodable().encode(out);
    }

    /// The message's payload (without the id).
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.length());
        self.encode(&mut out);
        out
    }

    /// The payload's length.
    pub fn length(&self) -> usize {
        self.as_encodable().length()
    }

    fn as_encodable(&self) -> &dyn Encodable {
        match self {
            EthMessage::Status68(status) => status,
            EthMessage::Status69(status) => status,
            EthMessage::NewBlockHashes(hashes) => hashes,
            EthMessage::Transactions(transactions) => transactions,
            EthMessage::GetBlockHeaders(request) => request,
            EthMessage::BlockHeaders(response) => response,
            EthMessage::GetBlockBodies(request) => request,
            EthMessage::BlockBodies(response) => response,
            EthMessage::NewBlock(block) => block,
            EthMessage::NewPooledTransactionHashes(announcement) => announcement,
            EthMessage::GetPooledTransactions(request) => request,
            EthMessage::PooledTransactions(response) => response,
            EthMessage::GetReceipts(request) => request,
            EthMessage::Receipts(response) => response,
            EthMessage::BlockRangeUpdate(update) => update,
        }
    }
}

/// Decodes `T` from the whole payload: one RLP item and nothing after it.
fn decode_whole<T: Decodable>(message: MessageId, payload: &[u8]) -> Result<T, MessageError> {
    let mut buf = payload;
    let value =
        T::decode(&mut buf).map_err(|source| MessageError::Malformed { message, source })?;
    if !buf.is_empty() {
        return Err(MessageError::TrailingBytes {
            message,
            extra: buf.len(),
        });
    }
    Ok(value)
}

/// Headers, bodies, blocks and per-block receipt lists are RLP lists.
fn require_lists(message: MessageId, items: &[RawRlp]) -> Result<(), MessageError> {
    if items.iter().all(RawRlp::is_list) {
        Ok(())
    } else {
        Err(MessageError::Malformed {
            message,
            source: alloy_rlp::Error::UnexpectedString,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_per_version() {
        for version in EthVersion::ALL {
            let known = (0..=u64::from(u8::MAX))
                .filter(|id| MessageId::for_version(*id, version).is_some())
                .count();
            // eth/68: 0x00..=0x0a and 0x0f..=0x10; eth/69 adds 0x11.
            let expected = if version == EthVersion::Eth68 { 13 } else { 14 };
            assert_eq!(known, expected, "{version}");
            assert!(
                (0..=u64::from(u8::MAX))
                    .filter_map(|id| MessageId::for_version(id, version))
                    .all(|id| id.id() < version.message_count())
            );
        }
        assert_eq!(MessageId::for_version(0x0d, EthVersion::Eth68), None);
        assert_eq!(MessageId::for_version(0x11, EthVersion::Eth68), None);
        assert_eq!(
            MessageId::for_version(0x11, EthVersion::Eth69),
            Some(MessageId::BlockRangeUpdate)
        );
        assert_eq!(MessageId::for_version(u64::MAX, EthVersion::Eth69), None);
    }

    #[test]
    fn refuses_before_decoding() {
        let big = vec![0u8; MAX_MESSAGE_SIZE + 1];
        assert!(matches!(
            EthMessage::decode(EthVersion::Eth68, 0x05, &big),
            Err(MessageError::TooBig {
                message: MessageId::GetBlockBodies,
                ..
            })
        ));
        assert!(matches!(
            EthMessage::decode(EthVersion::Eth68, 0x0e, &[0xc0]),
            Err(MessageError::UnknownMessage { id: 0x0e, .. })
        ));
        assert!(matches!(
            EthMessage::decode(EthVersion::Eth68, 0x05, &[0xc2, 0x01, 0xc0, 0x00]),
            Err(MessageError::TrailingBytes { extra: 1, .. })
        ));
    }

    #[test]
    fn response_items_must_be_lists() {
        // [1, [0x05]]: a header that is a string.
        let payload = [0xc3, 0x01, 0xc1, 0x05];
        assert!(matches!(
            EthMessage::decode(EthVersion::Eth68, 0x04, &payload),
            Err(MessageError::Malformed {
                message: MessageId::BlockHeaders,
                ..
            })
        ));
        let payload = [0xc3, 0x01, 0xc1, 0xc0];
        assert!(EthMessage::decode(EthVersion::Eth68, 0x04, &payload).is_ok());
    }
}
