//! Every message encodes and decodes back to itself on the versions that
//! have it, and is refused on the ones that do not; go-ethereum's eth/69
//! Status is recognised.

use alloy_primitives::{B256, Bytes, U256};
use hypasis_eth_wire::{
    BlockBodies, BlockHashNumber, BlockHeaders, BlockRangeUpdate, EthMessage, EthVersion, ForkHash,
    ForkId, GetBlockBodies, GetBlockHeaders, GetPooledTransactions, GetReceipts, GethStatus69,
    HashOrNumber, MessageError, MessageId, NewBlock, NewBlockHashes, NewPooledTransactionHashes,
    PooledTransactions, RawRlp, Receipts, RequestPair, Status68, Status69, Transactions,
};

fn raw(bytes: &[u8]) -> RawRlp {
    RawRlp::new(bytes.to_vec()).unwrap()
}

fn fork_id() -> ForkId {
    ForkId {
        hash: ForkHash([0x22, 0xd5, 0x23, 0xb2]),
        next: 0,
    }
}

/// One example of every message (both Status shapes).
fn examples() -> Vec<EthMessage> {
    let header = raw(&[0xc3, 0x01, 0x02, 0x03]);
    let body = raw(&[0xc2, 0xc0, 0xc0]);
    let legacy_tx = raw(&[0xc4, 0x01, 0x02, 0x03, 0x04]);
    let typed_tx = raw(&[0x84, 0x02, 0xc2, 0x01, 0x02]);
    let receipts_68 = raw(&[0xc0]);
    vec![
        EthMessage::Status68(Status68 {
            version: 68,
            network_id: 137,
            total_difficulty: U256::from(123_456_789u64),
            head: B256::repeat_byte(1),
            genesis: B256::repeat_byte(2),
            fork_id: fork_id(),
        }),
        EthMessage::Status69(Status69 {
            version: 69,
            network_id: 80002,
            total_difficulty: U256::MAX >> 156,
            genesis: B256::repeat_byte(2),
            fork_id: fork_id(),
            earliest: 0,
            latest: 30_000_000,
            latest_hash: B256::repeat_byte(3),
        }),
        EthMessage::NewBlockHashes(NewBlockHashes(vec![
            BlockHashNumber {
                hash: B256::repeat_byte(4),
                number: 5,
            },
            BlockHashNumber {
                hash: B256::repeat_byte(6),
                number: u64::MAX,
            },
        ])),
        EthMessage::Transactions(Transactions(vec![legacy_tx.clone(), typed_tx.clone()])),
        EthMessage::GetBlockHeaders(RequestPair::new(
            u64::MAX,
            GetBlockHeaders {
                origin: HashOrNumber::Hash(B256::repeat_byte(7)),
                amount: 192,
                skip: 0,
                reverse: true,
            },
        )),
        EthMessage::GetBlockHeaders(RequestPair::new(
            0,
            GetBlockHeaders {
                origin: HashOrNumber::Number(u64::MAX),
                amount: 1,
                skip: 3,
                reverse: false,
            },
        )),
        EthMessage::BlockHeaders(RequestPair::new(
            1,
            BlockHeaders(vec![header.clone(), header]),
        )),
        EthMessage::BlockHeaders(RequestPair::new(2, BlockHeaders::default())),
        EthMessage::GetBlockBodies(RequestPair::new(
            3,
            GetBlockBodies(vec![B256::repeat_byte(8), B256::ZERO]),
        )),
        EthMessage::BlockBodies(RequestPair::new(4, BlockBodies(vec![body]))),
        EthMessage::NewBlock(NewBlock {
            block: raw(&[0xc3, 0xc0, 0xc0, 0xc0]),
            total_difficulty: U256::from(17u64),
        }),
        EthMessage::NewPooledTransactionHashes(NewPooledTransactionHashes {
            types: Bytes::from(vec![0x00, 0x02]),
            sizes: vec![100, u32::MAX],
            hashes: vec![B256::repeat_byte(9), B256::repeat_byte(10)],
        }),
        EthMessage::GetPooledTransactions(RequestPair::new(
            5,
            GetPooledTransactions(vec![B256::repeat_byte(11)]),
        )),
        EthMessage::PooledTransactions(RequestPair::new(5, PooledTransactions::default())),
        EthMessage::PooledTransactions(RequestPair::new(
            6,
            PooledTransactions(vec![legacy_tx, typed_tx]),
        )),
        EthMessage::GetReceipts(RequestPair::new(
            7,
            GetReceipts(vec![B256::repeat_byte(12)]),
        )),
        EthMessage::Receipts(RequestPair::new(
            8,
            Receipts(vec![receipts_68.clone(), receipts_68]),
        )),
        EthMessage::BlockRangeUpdate(BlockRangeUpdate {
            earliest: 1,
            latest: 2,
            latest_hash: B256::repeat_byte(13),
        }),
    ]
}

#[test]
fn every_message_round_trips_where_it_belongs() {
    let examples = examples();
    let covered: std::collections::HashSet<MessageId> =
        examples.iter().map(EthMessage::id).collect();
    assert_eq!(
        covered.len(),
        MessageId::ALL.len(),
        "every message id has an example"
    );

    for message in &examples {
        let payload = message.encoded();
        assert_eq!(payload.len(), message.length());
        let id = u64::from(message.id().id());
        for version in EthVersion::ALL {
            let decoded = EthMessage::decode(version, id, &payload);
            if message.is_valid_for(version) {
                assert_eq!(decoded.unwrap(), *message, "{version} {}", message.id());
            } else {
                // Status of the other version's shape, or BlockRangeUpdate on eth/68.
                assert!(
                    decoded.is_err() || decoded.unwrap() != *message,
                    "{version} {}",
                    message.id()
                );
            }
        }
    }
}

#[test]
fn block_range_update_is_not_an_eth68_message() {
    let update = EthMessage::BlockRangeUpdate(BlockRangeUpdate {
        earliest: 0,
        latest: 9,
        latest_hash: B256::repeat_byte(1),
    });
    assert!(matches!(
        EthMessage::decode(EthVersion::Eth68, 0x11, &update.encoded()),
        Err(MessageError::UnknownMessage {
            id: 0x11,
            version: EthVersion::Eth68
        })
    ));
}

#[test]
fn geth_eth69_status_is_recognised() {
    let geth = GethStatus69 {
        version: 69,
        network_id: 137,
        genesis: B256::repeat_byte(2),
        fork_id: fork_id(),
        earliest: 0,
        latest: 80_000_000,
        latest_hash: B256::repeat_byte(3),
    };
    let payload = alloy_rlp::encode(geth);
    let error = EthMessage::decode(EthVersion::Eth69, 0x00, &payload).unwrap_err();
    assert!(matches!(error, MessageError::GethStatus69));
    assert_eq!(
        error.to_string(),
        "peer speaks go-ethereum's eth/69 (Status without total difficulty), not Bor's"
    );
    // The same bytes on eth/68 are simply malformed.
    assert!(matches!(
        EthMessage::decode(EthVersion::Eth68, 0x00, &payload),
        Err(MessageError::Malformed {
            message: MessageId::Status,
            ..
        })
    ));
    // An eth/68 status sent on eth/69 is malformed, not go-ethereum's.
    let status68 = examples().remove(0).encoded();
    assert!(matches!(
        EthMessage::decode(EthVersion::Eth69, 0x00, &status68),
        Err(MessageError::Malformed {
            message: MessageId::Status,
            ..
        })
    ));
}

#[test]
fn announcement_with_uneven_lists_is_refused() {
    let uneven = NewPooledTransactionHashes {
        types: Bytes::from(vec![0x02]),
        sizes: vec![],
        hashes: vec![B256::ZERO],
    };
    assert!(matches!(
        EthMessage::decode(EthVersion::Eth68, 0x08, &alloy_rlp::encode(&uneven)),
        Err(MessageError::AnnouncementMismatch {
            types: 1,
            sizes: 0,
            hashes: 1
        })
    ));
}
