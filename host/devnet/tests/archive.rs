//! A chain that keeps only its newest blocks in memory reads every older
//! block back from its on-disk archive exactly as it was made, finds its
//! transactions, and still reorganises its tip.

use hypasis_devnet::{
    ChainConfig,
    chain::{Chain, FORKABLE_DEPTH},
    generator::ChainGenerator,
};

fn config() -> ChainConfig {
    ChainConfig {
        txs_per_block: 4,
        // Both of Bor's state-sync forms: a bor receipt before Madhugiri,
        // a state-sync transaction after.
        madhugiri_block: 300,
        state_sync_every: 16,
        ..ChainConfig::default()
    }
}

#[test]
fn archived_blocks_read_back_exactly() {
    const BLOCKS: u64 = 900;
    let mut all_hot = Chain::with_hot_blocks(ChainGenerator::new(config()).unwrap(), usize::MAX);
    let mut archived = Chain::with_hot_blocks(ChainGenerator::new(config()).unwrap(), 0);
    for _ in 0..BLOCKS {
        all_hot.grow();
        archived.grow();
    }
    let hot_window = FORKABLE_DEPTH as u64 + 1;
    assert_eq!(all_hot.archived(), 0);
    assert_eq!(archived.archived(), BLOCKS + 1 - hot_window);
    assert!(archived.archive_bytes() > 0);

    let mut bor_receipts = 0;
    let mut transactions = 0;
    for number in 0..=BLOCKS {
        let made = all_hot.by_number(number).expect("made");
        let read = archived.by_number(number).expect("read back");
        assert_eq!(*read, *made, "block {number}");
        assert_eq!(archived.hash_at(number), Some(made.hash));
        assert_eq!(archived.header_at(number), Some(made.header.clone()));
        assert_eq!(
            archived.by_hash(&made.hash).map(|block| block.hash),
            Some(made.hash)
        );
        assert!(archived.is_canonical(&made));
        for (index, tx) in made.txs.iter().enumerate() {
            let (block, at) = archived.transaction(&tx.hash).expect("indexed");
            assert_eq!(
                (block.hash, at),
                (made.hash, index),
                "tx {index} of {number}"
            );
            transactions += 1;
        }
        if let Some(bor) = &made.bor_receipt {
            let (block, at) = archived.transaction(&bor.tx_hash).expect("bor receipt");
            assert_eq!((block.hash, at), (made.hash, made.txs.len()));
            bor_receipts += 1;
        }
    }
    assert!(bor_receipts > 0 && transactions > 0);
    assert!(archived.by_number(BLOCKS + 1).is_none());
    assert!(archived.transaction(&[0x42; 32].into()).is_none());

    // A reorg replaces hot blocks only and leaves the archive as it is.
    let old_head = archived.head().clone();
    let head = archived.reorg(5).expect("reorg");
    assert_eq!(head.number(), BLOCKS + 1);
    assert!(!archived.is_canonical(&old_head));
    assert_eq!(
        archived.by_hash(&old_head.hash).map(|block| block.hash),
        Some(old_head.hash),
        "orphans stay readable"
    );
    assert_eq!(
        archived.by_number(10).map(|block| block.hash),
        all_hot.by_number(10).map(|block| block.hash)
    );
}
