//! `storage-embedded` behaves exactly like `storage-memory`, the reference:
//! the same scenario passes on both, random batch sequences give the same
//! answers to every question (across shutdowns and reopens), and what is
//! written survives a restart.

mod common;

use common::*;
use hypasis_plugin_sdk::{
    ErrorKind, StorageBackend,
    api::{
        BlockPart, BlockRef, Namespace, SenderList, TxLocation, WriteBatch,
        reexports::abi_stable::std_types::{ROption, RVec},
    },
};
use hypasis_storage_memory::MemoryStore;

/// The reference behaviour, asserted call by call; run on both stores.
fn scenario(store: &dyn StorageBackend) {
    let chain: Vec<_> = (0..5).map(|number| block(number, 0, 2)).collect();
    let hashes: Vec<_> = chain.iter().map(|stored| stored.hash).collect();
    let mut first = batch(chain.clone());
    first.intervals = vec![intervals("verified", &[range(0, 4)], &[])].into();
    first.meta = vec![
        meta("sync/forward", Some(b"4")),
        meta("", Some(b"empty key")),
    ]
    .into();
    ok(store.write(first));

    let canonical = ok(store.canonical_hashes(&[0, 4, 5, u64::MAX]));
    assert_eq!(
        canonical.to_vec(),
        vec![
            ROption::RSome(hashes[0]),
            ROption::RSome(hashes[4]),
            ROption::RNone,
            ROption::RNone
        ]
    );
    assert_eq!(ok(store.block_number(&hashes[3])), Some(3));
    assert_eq!(ok(store.block_number(&hash(9, 9, 9))), None);
    let headers = ok(store.parts(BlockPart::Header, &[hashes[1], hash(9, 9, 9), hashes[1]]));
    assert_eq!(headers[0].as_ref().into_option(), Some(&chain[1].header));
    assert_eq!(headers[1], ROption::RNone);
    assert_eq!(headers[2], headers[0]);
    let syncs = ok(store.parts(BlockPart::StateSync, &[hashes[1]]));
    assert_eq!(syncs.to_vec(), vec![ROption::RNone]);
    let tx = chain[2].tx_hashes[1];
    assert_eq!(
        ok(store.transaction(&tx)),
        Some(TxLocation::new(2, hashes[2], 1))
    );
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "verified")).to_vec(),
        vec![range(0, 4)]
    );
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "unknown")).to_vec(),
        vec![]
    );
    assert_eq!(
        ok(store.meta(Namespace::Host, "sync/forward")).map(|v| v.to_vec()),
        Some(b"4".to_vec())
    );
    assert_eq!(
        ok(store.meta(Namespace::Host, "")).map(|v| v.to_vec()),
        Some(b"empty key".to_vec())
    );
    assert_eq!(ok(store.stats()).blocks, 5);

    // Replacing the canonical block at 3 without an unwind: the old block
    // stays readable by hash, its transactions leave the index.
    let replacement = block(3, 1, 1);
    ok(store.write(batch(vec![replacement.clone()])));
    assert_eq!(
        ok(store.canonical_hashes(&[3])).to_vec(),
        vec![ROption::RSome(replacement.hash)]
    );
    assert_eq!(ok(store.block_number(&hashes[3])), Some(3));
    for tx in chain[3].tx_hashes.iter() {
        assert_eq!(ok(store.transaction(tx)), None);
    }
    assert_eq!(
        ok(store.transaction(&replacement.tx_hashes[0])).map(|at| at.block_hash),
        Some(replacement.hash)
    );
    let syncs = ok(store.parts(BlockPart::StateSync, &[replacement.hash]));
    assert_eq!(
        syncs[0].as_ref().into_option(),
        replacement.state_sync.as_ref().into_option()
    );
    assert_eq!(ok(store.stats()).blocks, 5);

    // A reorg: unwind above 2, then a new 3 and 4.
    let fork: Vec<_> = (3..5).map(|number| block(number, 2, 1)).collect();
    ok(store.write(WriteBatch {
        unwind_above: ROption::RSome(2),
        blocks: RVec::from(fork.clone()),
        ..WriteBatch::default()
    }));
    assert_eq!(
        ok(store.canonical_hashes(&[2, 3, 4])).to_vec(),
        vec![
            ROption::RSome(hashes[2]),
            ROption::RSome(fork[0].hash),
            ROption::RSome(fork[1].hash)
        ]
    );
    for tx in chain[4]
        .tx_hashes
        .iter()
        .chain(replacement.tx_hashes.iter())
    {
        assert_eq!(ok(store.transaction(tx)), None);
    }
    assert!(ok(store.transaction(&chain[2].tx_hashes[0])).is_some());
    assert_eq!(ok(store.block_number(&hashes[4])), Some(4));

    // An unwind alone: the chain shrinks, the blocks stay by hash.
    ok(store.write(WriteBatch {
        unwind_above: ROption::RSome(1),
        ..WriteBatch::default()
    }));
    assert_eq!(ok(store.stats()).blocks, 2);
    assert_eq!(
        ok(store.canonical_hashes(&[1, 2])).to_vec(),
        vec![ROption::RSome(hashes[1]), ROption::RNone]
    );
    assert!(ok(store.parts(BlockPart::Body, &[fork[1].hash]))[0].is_some());
    assert_eq!(ok(store.transaction(&chain[2].tx_hashes[0])), None);
    assert!(ok(store.transaction(&chain[1].tx_hashes[0])).is_some());

    // Re-storing a block without a body: the body is gone.
    let mut bare = block(1, 0, 2);
    bare.body = ROption::RNone;
    ok(store.write(batch(vec![bare])));
    assert_eq!(
        ok(store.parts(BlockPart::Body, &[hashes[1]])).to_vec(),
        vec![ROption::RNone]
    );
    assert!(ok(store.parts(BlockPart::Receipts, &[hashes[1]]))[0].is_some());

    // Interval merges and splits; meta deletes.
    ok(store.write(WriteBatch {
        intervals: vec![
            intervals("verified", &[range(10, 20), range(30, 40)], &[]),
            intervals("verified", &[range(21, 29)], &[range(2, 3)]),
            intervals("gone", &[range(1, 1)], &[]),
        ]
        .into(),
        meta: vec![meta("sync/forward", None), meta("a", Some(b""))].into(),
        ..WriteBatch::default()
    }));
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "verified")).to_vec(),
        vec![range(0, 1), range(4, 4), range(10, 40)]
    );
    assert_eq!(ok(store.meta(Namespace::Host, "sync/forward")), None);
    assert_eq!(
        ok(store.meta(Namespace::Host, "a")).map(|v| v.to_vec()),
        Some(vec![])
    );
    ok(store.write(WriteBatch {
        intervals: vec![
            intervals("verified", &[range(5, 9)], &[range(15, 16)]),
            intervals("gone", &[], &[range(0, 100)]),
        ]
        .into(),
        ..WriteBatch::default()
    }));
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "verified")).to_vec(),
        vec![range(0, 1), range(4, 14), range(17, 40)]
    );
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "gone")).to_vec(),
        vec![]
    );

    // The namespaces are apart: the same name in each holds its own value.
    ok(store.write(WriteBatch {
        meta: vec![
            meta_in(Namespace::Chain, "shared", Some(b"chain")),
            meta_in(Namespace::Host, "shared", Some(b"host")),
        ]
        .into(),
        ..WriteBatch::default()
    }));
    assert_eq!(
        ok(store.meta(Namespace::Chain, "shared")).map(|v| v.to_vec()),
        Some(b"chain".to_vec())
    );
    assert_eq!(
        ok(store.meta(Namespace::Host, "shared")).map(|v| v.to_vec()),
        Some(b"host".to_vec())
    );
    assert_eq!(
        ok(store.intervals(Namespace::Host, "verified")).to_vec(),
        vec![]
    );

    // Transaction hashes are returned as given; senders once stored.
    let with_txs = block(22, 0, 3);
    assert!(with_txs.senders.is_empty());
    ok(store.write(batch(vec![with_txs.clone()])));
    let tx_hashes = ok(store.parts(BlockPart::TxHashes, &[with_txs.hash]));
    assert_eq!(
        tx_hashes[0]
            .as_ref()
            .into_option()
            .map(|bytes| bytes.to_vec()),
        Some(with_txs.tx_hashes.concat())
    );
    assert_eq!(
        ok(store.parts(BlockPart::Senders, &[with_txs.hash])).to_vec(),
        vec![ROption::RNone]
    );
    let list = |count: usize| SenderList {
        block: BlockRef {
            number: 22,
            hash: with_txs.hash,
        },
        senders: (0..count).map(|index| [index as u8 + 1; 20]).collect(),
        ext: Default::default(),
    };
    // A list of the wrong length, or for a block not stored, is refused whole.
    let refused = store.write(WriteBatch {
        senders: vec![list(2)].into(),
        meta: vec![meta("refused", Some(b"x"))].into(),
        ..WriteBatch::default()
    });
    assert_eq!(
        refused.err().map(|error| error.kind),
        Some(ErrorKind::InvalidInput)
    );
    let unknown = SenderList {
        block: BlockRef {
            number: 23,
            hash: hash(1, 23, 5),
        },
        ..list(0)
    };
    let refused = store.write(WriteBatch {
        senders: vec![unknown].into(),
        ..WriteBatch::default()
    });
    assert_eq!(
        refused.err().map(|error| error.kind),
        Some(ErrorKind::InvalidInput)
    );
    assert_eq!(ok(store.meta(Namespace::Host, "refused")), None);
    ok(store.write(WriteBatch {
        senders: vec![list(3)].into(),
        ..WriteBatch::default()
    }));
    let senders = ok(store.parts(BlockPart::Senders, &[with_txs.hash]));
    assert_eq!(
        senders[0]
            .as_ref()
            .into_option()
            .map(|bytes| bytes.to_vec()),
        Some([[1u8; 20], [2; 20], [3; 20]].concat())
    );
    // A part this version does not know is refused, not answered empty.
    let unknown_part = store.parts(BlockPart::from_raw(200), &[with_txs.hash]);
    assert_eq!(
        unknown_part.err().map(|error| error.kind),
        Some(ErrorKind::Unsupported)
    );

    // An empty batch is fine.
    ok(store.write(WriteBatch::default()));

    ok(store.shutdown());
    let after = store.canonical_hashes(&[0]);
    assert_eq!(
        after.err().map(|error| error.kind),
        Some(ErrorKind::Shutdown)
    );
    let write = store.write(WriteBatch::default());
    assert_eq!(
        write.err().map(|error| error.kind),
        Some(ErrorKind::Shutdown)
    );
}

#[test]
fn scenario_holds_for_the_reference() {
    scenario(&MemoryStore::default());
}

#[test]
fn scenario_holds_for_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    scenario(&open_embedded(dir.path()));
}

/// A random batch over a small range of numbers, so forks, replacements and
/// unwinds collide often.
fn random_batch(rng: &mut Rng) -> WriteBatch {
    let mut batch = WriteBatch::default();
    if rng.chance(20) {
        batch.unwind_above = ROption::RSome(rng.below(40));
    }
    let count = rng.below(6);
    let start = rng.below(40);
    let variant = rng.below(4);
    let mut blocks = Vec::new();
    for number in start..start + count {
        let mut stored = block(number, variant, rng.below(4));
        if rng.chance(10) {
            stored.body = ROption::RNone;
        }
        if rng.chance(10) {
            stored.receipts = ROption::RNone;
        }
        if rng.chance(5) {
            // The same transaction in two forks of one height.
            stored.tx_hashes.push(hash(2, number * 1000, 99));
            if !stored.senders.is_empty() {
                stored.senders.push([7; 20]);
            }
        }
        blocks.push(stored);
    }
    if rng.chance(10) && !blocks.is_empty() {
        // A height written twice in one batch.
        blocks.push(block(start, variant + 10, 2));
    }
    // Senders recovered later, for blocks of this batch.
    batch.senders = blocks
        .iter()
        .filter(|_| rng.chance(20))
        .map(|block| SenderList {
            block: BlockRef {
                number: block.number,
                hash: block.hash,
            },
            senders: (0..block.tx_hashes.len())
                .map(|index| [index as u8 + 1; 20])
                .collect(),
            ext: Default::default(),
        })
        .collect::<Vec<_>>()
        .into();
    batch.blocks = blocks.into();
    let names = ["verified", "stored", ""];
    let mut changes = Vec::new();
    for _ in 0..rng.below(3) {
        let set = names[rng.below(3) as usize];
        let a = rng.below(60);
        let add = range(a, a + rng.below(10));
        let b = rng.below(60);
        let remove = range(b, b + rng.below(5));
        match rng.below(3) {
            0 => changes.push(intervals(set, &[add], &[])),
            1 => changes.push(intervals(set, &[], &[remove])),
            _ => changes.push(intervals(set, &[add, range(a + 20, a + 22)], &[remove])),
        }
    }
    batch.intervals = changes.into();
    let keys = ["sync/forward", "sync/backward", "checkpoint/1", ""];
    batch.meta = (0..rng.below(3))
        .map(|_| {
            let key = keys[rng.below(4) as usize];
            let space = if rng.chance(50) {
                Namespace::Chain
            } else {
                Namespace::Host
            };
            if rng.chance(30) {
                meta_in(space, key, None)
            } else {
                meta_in(space, key, Some(&rng.next().to_be_bytes()))
            }
        })
        .collect::<Vec<_>>()
        .into();
    batch
}

#[test]
fn random_batches_match_the_reference_across_reopens() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let reference = MemoryStore::default();
    let mut store = open_embedded(dir.path());
    let mut universe = Universe::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..400 {
        let batch = random_batch(&mut rng);
        universe.learn(&batch);
        ok(reference.write(batch.clone()));
        ok(store.write(batch));
        if round % 10 == 9 {
            assert_same(
                &observe(&store, &universe),
                &observe(&reference, &universe),
                &format!("after round {round}"),
            );
        }
        if round % 97 == 96 {
            ok(store.shutdown());
            drop(store);
            store = open_embedded(dir.path());
        }
    }
    assert_same(
        &observe(&store, &universe),
        &observe(&reference, &universe),
        "at the end",
    );
    ok(store.shutdown());
}

#[test]
fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let reference = MemoryStore::default();
    let mut universe = Universe::default();
    {
        let store = open_embedded(dir.path());
        let mut first = batch((0..300).map(|number| block(number, 1, 3)).collect());
        first.intervals = vec![intervals("verified", &[range(0, 299)], &[])].into();
        first.meta = vec![meta("sync/forward", Some(b"299"))].into();
        let second = WriteBatch {
            unwind_above: ROption::RSome(280),
            blocks: (281..290).map(|number| block(number, 2, 1)).collect(),
            ..WriteBatch::default()
        };
        for batch in [first, second] {
            universe.learn(&batch);
            ok(reference.write(batch.clone()));
            ok(store.write(batch));
        }
        ok(store.shutdown());
    }
    let store = open_embedded(dir.path());
    assert_same(
        &observe(&store, &universe),
        &observe(&reference, &universe),
        "after the restart",
    );
    assert_eq!(ok(store.stats()).blocks, 290);
    assert!(ok(store.stats()).bytes > 0);
    ok(store.shutdown());
}
