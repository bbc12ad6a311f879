//! Validation throughput on devnet blocks, single-threaded.
//!
//! Run: `cargo bench -p hypasis-validation-core --bench levels`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hypasis_devnet::{ChainConfig, chain::Chain, generator::ChainGenerator};
use hypasis_plugin_api::{
    BlockRange, Direction, Outcome, Producer, RawBlock, Span, ValidationRequest,
};
use hypasis_validation_core::{Level, validate};

fn batch(
    txs_per_block: u32,
    first: u64,
    count: u64,
) -> (hypasis_polygon::ChainSpec, ValidationRequest) {
    let mut chain = Chain::new(
        ChainGenerator::new(ChainConfig {
            txs_per_block,
            ..ChainConfig::default()
        })
        .expect("config"),
    );
    for _ in 0..first + count {
        chain.grow();
    }
    let spec = chain.generator().spec().clone();
    let blocks: Vec<RawBlock> = (first..first + count)
        .map(|number| {
            let block = chain.by_number(number).expect("grown");
            RawBlock {
                number,
                hash: block.hash.0,
                header: block.header_rlp.to_vec().into(),
                body: Some(block.body_rlp.to_vec().into()).into(),
                receipts: Some(block.receipts_rlp.to_vec().into()).into(),
                state_sync: None.into(),
                tx_hashes: Default::default(),
                senders: Default::default(),
                ext: Default::default(),
            }
        })
        .collect();
    let spans: Vec<Span> = (0..=spec.span_id(first + count) + 1)
        .map(|id| {
            let (start, end) = spec.span_range(id);
            let producers: Vec<Producer> = chain
                .generator()
                .span_producers(id)
                .iter()
                .map(|validator| Producer {
                    id: validator.id,
                    address: validator.address.0.0,
                    power: validator.power,
                    ext: Default::default(),
                })
                .collect();
            Span {
                id,
                range: BlockRange::new(start, end),
                producers: producers.into(),
                ext: Default::default(),
            }
        })
        .collect();
    let request = ValidationRequest {
        direction: Direction::Forward,
        blocks: blocks.into(),
        parent: None.into(),
        child: None.into(),
        anchors: Vec::new().into(),
        checkpoints: Vec::new().into(),
        spans: spans.into(),
        ext: Default::default(),
    };
    (spec, request)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate a batch");
    group.sample_size(20);
    let (spec, request) = batch(0, 2_100, 1_024);
    group.throughput(Throughput::Elements(1_024));
    for level in [Level::Header, Level::Full] {
        assert!(matches!(
            validate(level, &spec, &request),
            Ok(verdict) if verdict.outcome == Outcome::Accepted
        ));
        group.bench_function(format!("{level:?}, 1,024 headers (empty blocks)"), |b| {
            b.iter(|| validate(level, &spec, &request))
        });
    }
    let (spec, request) = batch(100, 2_100, 64);
    group.throughput(Throughput::Elements(64));
    for level in [Level::Light, Level::Full] {
        assert!(matches!(
            validate(level, &spec, &request),
            Ok(verdict) if verdict.outcome == Outcome::Accepted
        ));
        group.bench_function(format!("{level:?}, 64 blocks of ~100 transactions"), |b| {
            b.iter(|| validate(level, &spec, &request))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
