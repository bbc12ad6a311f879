//! Checkpoint-root throughput next to the raw keccak bound (two hashes per
//! leaf: the 128-byte leaf and, on average, one 64-byte tree node).
//!
//! Run: `cargo bench -p hypasis-polygon --bench checkpoint_root`

use alloy_primitives::{B256, keccak256};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hypasis_polygon::checkpoint::{checkpoint_leaf, checkpoint_root};

struct Leaf {
    number: u64,
    timestamp: u64,
    transactions_root: B256,
    receipts_root: B256,
}

fn leaves(count: u64) -> Vec<Leaf> {
    (0..count)
        .map(|i| Leaf {
            number: 50_000_000 + i,
            timestamp: 1_700_000_000 + 2 * i,
            transactions_root: keccak256(i.to_be_bytes()),
            receipts_root: keccak256((i + 1).to_be_bytes()),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkpoint root");
    for count in [1_024u64, 32_768] {
        let input = leaves(count);
        group.throughput(Throughput::Elements(count));
        group.bench_with_input(
            BenchmarkId::new("root over headers", count),
            &input,
            |b, input| {
                b.iter(|| {
                    let hashed: Vec<B256> = input
                        .iter()
                        .map(|leaf| {
                            checkpoint_leaf(
                                leaf.number,
                                leaf.timestamp,
                                &leaf.transactions_root,
                                &leaf.receipts_root,
                            )
                        })
                        .collect();
                    checkpoint_root(&hashed)
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw keccak bound (128 B + 64 B per leaf)", count),
            &input,
            |b, input| {
                b.iter(|| {
                    let mut long = [0u8; 128];
                    let mut short = [0u8; 64];
                    let mut last = B256::ZERO;
                    for leaf in input {
                        long[24..32].copy_from_slice(&leaf.number.to_be_bytes());
                        long[..32].copy_from_slice(last.as_slice());
                        last = keccak256(long);
                        short[..32].copy_from_slice(last.as_slice());
                        last = keccak256(short);
                    }
                    last
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
