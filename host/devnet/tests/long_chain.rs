//! A 100,000-block chain generates within a test run, and stays consistent.

use hypasis_devnet::{ChainConfig, chain::Chain, generator::ChainGenerator};

#[test]
fn a_hundred_thousand_blocks() {
    let config = ChainConfig {
        txs_per_block: 1,
        ..ChainConfig::default()
    };
    let mut chain = Chain::new(ChainGenerator::new(config).unwrap());
    let started = std::time::Instant::now();
    for _ in 0..100_000 {
        chain.grow();
    }
    let elapsed = started.elapsed();
    assert_eq!(chain.head().number(), 100_000);
    // Spot-check the links across span and sprint boundaries.
    for number in [1u64, 255, 256, 1279, 1280, 50_000, 99_999, 100_000] {
        let block = chain.by_number(number).unwrap();
        assert_eq!(
            block.header.parent_hash,
            chain.by_number(number - 1).unwrap().hash,
            "block {number}"
        );
    }
    eprintln!(
        "100,000 blocks in {elapsed:?} ({:.0} blocks/s, debug build)",
        100_000.0 / elapsed.as_secs_f64()
    );
}
