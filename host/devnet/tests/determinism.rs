//! The same options make the same chain on every start: a restarted devnet
//! is the same network (same genesis, same blocks), not a new one.

use std::time::Duration;

use hypasis_devnet::{ChainConfig, DEFAULT_GENESIS_TIMESTAMP, Devnet, DevnetOptions};

fn options(seed: u64) -> DevnetOptions {
    DevnetOptions {
        chain: ChainConfig {
            seed,
            ..ChainConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill: 300,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    }
}

async fn hashes(options: DevnetOptions) -> Vec<alloy_primitives::B256> {
    let devnet = Devnet::start(options).await.unwrap();
    devnet.set_growing(false);
    let chain = devnet.chain();
    let chain = chain.read();
    [0, 1, 150, 300]
        .into_iter()
        .map(|number| chain.by_number(number).unwrap().hash)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_devnet_is_the_same_chain() {
    let first = hashes(options(1)).await;
    // Wall time moves between the starts; the chain must not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = hashes(options(1)).await;
    assert_eq!(first, second);
    let genesis = Devnet::start(options(1)).await.unwrap();
    let header = genesis.chain().read().by_number(0).unwrap().header.clone();
    assert_eq!(header.timestamp, DEFAULT_GENESIS_TIMESTAMP);
    drop(genesis);
    // Another seed is another chain.
    assert_ne!(hashes(options(2)).await[0], first[0]);
    // Opting in to a start-time genesis makes a new chain per start.
    let mut now_based = options(1);
    now_based.chain.genesis_timestamp = 0;
    assert_ne!(hashes(now_based).await[0], first[0]);
}
