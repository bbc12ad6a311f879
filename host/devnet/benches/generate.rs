//! How fast the devnet makes blocks.
//!
//! Run: `cargo bench -p hypasis-devnet --bench generate`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hypasis_devnet::{ChainConfig, generator::ChainGenerator};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate one sealed block");
    group.throughput(Throughput::Elements(1));
    for txs in [0u32, 8, 100] {
        let config = ChainConfig {
            txs_per_block: txs,
            ..ChainConfig::default()
        };
        let mut generator = ChainGenerator::new(config).expect("valid config");
        // Past Jaipur, Cancun and Madhugiri, so every rule is in play.
        for _ in 0..2_100 {
            generator.next_block();
        }
        group.bench_function(format!("~{txs} txs per block"), |b| {
            b.iter(|| generator.next_block())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
