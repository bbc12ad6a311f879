//! Transaction messages. A block server has no pool: it decodes these only
//! to check and ignore them, and answers pool requests with nothing.

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{RlpDecodable, RlpDecodableWrapper, RlpEncodable, RlpEncodableWrapper};

use crate::error::MessageError;
use crate::raw::RawRlp;

/// `Transactions` (0x02): broadcast transactions, kept opaque (each is a
/// legacy list or a typed envelope string).
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct Transactions(pub Vec<RawRlp>);

/// `NewPooledTransactionHashes` (0x08), eth/68 form: `[types, [size, ...],
/// [hash, ...]]`, three parallel lists (`B:eth/protocols/eth/protocol.go`,
/// `NewPooledTransactionHashesPacket`).
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct NewPooledTransactionHashes {
    /// One EIP-2718 type byte per announced transaction.
    pub types: Bytes,
    /// Each transaction's encoded size.
    pub sizes: Vec<u32>,
    /// Each transaction's hash.
    pub hashes: Vec<B256>,
}

impl NewPooledTransactionHashes {
    /// Bor drops a peer whose three lists differ in length
    /// (`B:eth/protocols/eth/handlers.go`, `handleNewPooledTransactionHashes`).
    pub fn validate(&self) -> Result<(), MessageError> {
        if self.types.len() != self.hashes.len() || self.sizes.len() != self.hashes.len() {
            return Err(MessageError::AnnouncementMismatch {
                types: self.types.len(),
                sizes: self.sizes.len(),
                hashes: self.hashes.len(),
            });
        }
        Ok(())
    }
}

/// `GetPooledTransactions` (0x09) body: hashes of the transactions wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct GetPooledTransactions(pub Vec<B256>);

/// `PooledTransactions` (0x0a) body: the transactions found, opaque; ours
/// is always empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodableWrapper, RlpDecodableWrapper)]
pub struct PooledTransactions(pub Vec<RawRlp>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcement_lists_must_match() {
        let good = NewPooledTransactionHashes {
            types: Bytes::from(vec![0, 2]),
            sizes: vec![100, 200],
            hashes: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
        };
        assert!(good.validate().is_ok());
        let encoded = alloy_rlp::encode(&good);
        assert_eq!(
            alloy_rlp::decode_exact::<NewPooledTransactionHashes>(&encoded).unwrap(),
            good
        );
        let bad = NewPooledTransactionHashes {
            sizes: vec![100],
            ..good
        };
        assert!(matches!(
            bad.validate(),
            Err(MessageError::AnnouncementMismatch {
                types: 2,
                sizes: 1,
                hashes: 2
            })
        ));
    }

    #[test]
    fn empty_pooled_transactions_reply() {
        assert_eq!(alloy_rlp::encode(PooledTransactions::default()), [0xc0]);
    }
}
