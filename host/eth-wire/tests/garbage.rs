//! Decoding garbage never panics, and whatever does decode is canonical:
//! it encodes back to exactly the bytes it came from. Random bytes are
//! thrown at every message id on both versions, and valid messages are
//! mutated to reach deeper into the decoders.

use alloy_primitives::B256;
use hypasis_eth_wire::{
    BlockRangeUpdate, EthMessage, EthVersion, ForkHash, ForkId, GetBlockHeaders, HashOrNumber,
    MessageError, NewPooledTransactionHashes, RequestPair, Status69, protocol::MAX_MESSAGE_SIZE,
    receipts_68_to_69,
};
use proptest::prelude::*;

fn version(eth69: bool) -> EthVersion {
    if eth69 {
        EthVersion::Eth69
    } else {
        EthVersion::Eth68
    }
}

/// Decodes and, on success, checks the message re-encodes to its input.
fn check(version: EthVersion, id: u64, payload: &[u8]) {
    if let Ok(message) = EthMessage::decode(version, id, payload) {
        assert_eq!(message.encoded(), payload, "{version} id {id}");
        assert_eq!(u64::from(message.id().id()), id);
    }
}

/// Valid payloads to mutate, by id.
fn seeds() -> Vec<(u64, Vec<u8>)> {
    let status = Status69 {
        version: 69,
        network_id: 137,
        total_difficulty: alloy_primitives::U256::from(99u64),
        genesis: B256::repeat_byte(1),
        fork_id: ForkId {
            hash: ForkHash([1, 2, 3, 4]),
            next: 5,
        },
        earliest: 0,
        latest: 10,
        latest_hash: B256::repeat_byte(2),
    };
    let headers = GetBlockHeaders {
        origin: HashOrNumber::Hash(B256::repeat_byte(3)),
        amount: 192,
        skip: 0,
        reverse: false,
    };
    vec![
        (0x00, alloy_rlp::encode(status)),
        (0x03, alloy_rlp::encode(RequestPair::new(7, headers))),
        // [1, [[header-ish], [0xc0]]]
        (0x04, vec![0xc7, 0x01, 0xc5, 0xc3, 0x01, 0x02, 0x03, 0xc0]),
        // [[txs], [uncles]] body response and a receipts response with a legacy receipt.
        (0x06, vec![0xc5, 0x02, 0xc3, 0xc2, 0xc0, 0xc0]),
        (0x10, vec![0xc6, 0x03, 0xc4, 0xc3, 0xc2, 0x01, 0xc0]),
        (
            0x08,
            alloy_rlp::encode(NewPooledTransactionHashes {
                types: vec![2].into(),
                sizes: vec![128],
                hashes: vec![B256::repeat_byte(9)],
            }),
        ),
        (
            0x11,
            alloy_rlp::encode(BlockRangeUpdate {
                earliest: 1,
                latest: 2,
                latest_hash: B256::repeat_byte(4),
            }),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_bytes_never_panic(
        eth69 in any::<bool>(),
        id in 0u64..0x14,
        payload in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        check(version(eth69), id, &payload);
    }

    #[test]
    fn random_lists_never_panic(
        eth69 in any::<bool>(),
        id in 0u64..0x14,
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        // A well-formed outer list header gets the decoders past the first byte.
        let mut payload = if body.len() < 56 {
            vec![0xc0 + body.len() as u8]
        } else {
            vec![0xf8, body.len() as u8]
        };
        payload.extend(body);
        check(version(eth69), id, &payload);
    }

    #[test]
    fn mutated_messages_never_panic(
        seed in 0usize..7,
        position in any::<usize>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let (id, mut payload) = seeds().swap_remove(seed);
        let position = position % payload.len();
        if cut {
            payload.truncate(position);
        } else {
            payload[position] = byte;
        }
        for version in EthVersion::ALL {
            check(version, id, &payload);
        }
    }

    #[test]
    fn receipt_conversion_never_panics(
        stored in proptest::collection::vec(any::<u8>(), 0..300),
        state_sync in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
    ) {
        let _ = receipts_68_to_69(&stored, state_sync.as_deref());
    }
}

#[test]
fn seeds_are_valid_eth69_messages() {
    for (id, payload) in seeds() {
        let message = EthMessage::decode(EthVersion::Eth69, id, &payload).unwrap();
        assert_eq!(message.encoded(), payload);
    }
}

#[test]
fn oversized_payloads_are_refused_for_every_message() {
    let payload = vec![0xc0; MAX_MESSAGE_SIZE + 1];
    for version in EthVersion::ALL {
        for id in 0..u64::from(version.message_count()) {
            match EthMessage::decode(version, id, &payload) {
                Err(MessageError::TooBig { size, max, .. }) => {
                    assert_eq!((size, max), (MAX_MESSAGE_SIZE + 1, MAX_MESSAGE_SIZE));
                }
                Err(MessageError::UnknownMessage { .. }) => {}
                other => panic!("{version} id {id}: {other:?}"),
            }
        }
    }
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // Headers that claim gigabytes of payload are refused by length checks.
    let claims: [&[u8]; 3] = [
        &[0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0xc8, 0xbb, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00],
        &[0xc4, 0x01, 0xf9, 0xff, 0xff],
    ];
    for version in EthVersion::ALL {
        for id in 0..u64::from(version.message_count()) {
            for claim in claims {
                assert!(EthMessage::decode(version, id, claim).is_err());
            }
        }
    }
}
