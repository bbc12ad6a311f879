//! The definition of the validation levels: a block tampered in one field is
//! rejected by exactly the levels that cover that field and accepted by the
//! levels below. Blocks come from the devnet; lies are made the way the
//! devnet's lying upstream makes them, or by re-sealing with the producer's
//! own key where a lie must survive every check but consensus.

use alloy_consensus::{Header, Receipt, ReceiptWithBloom};
use alloy_primitives::{Bloom, U256, keccak256};
use alloy_rlp::Encodable;
use hypasis_devnet::{
    ChainConfig,
    block::DevBlock,
    chain::Chain,
    faults::{Tamper, TamperTarget, tampered},
    generator::ChainGenerator,
};
use hypasis_plugin_api::{
    BlockRange, Checkpoint, Direction, Outcome, Producer, RawBlock, Span, ValidationRequest,
    Verdict,
};
use hypasis_polygon::{
    ChainSpec,
    bor::{self, HeaderValidator},
    checkpoint::{checkpoint_root, header_leaf},
    roots::{encode_envelopes, ordered_root},
};
use hypasis_validation_core::{Level, validate};

const LEVELS: [Level; 4] = [Level::None, Level::Header, Level::Light, Level::Full];

/// One row: what is tampered, and which levels accept the batch
/// (none, header, light, full).
struct Row {
    what: &'static str,
    accepted: [bool; 4],
    field: &'static str,
}

const MATRIX: &[Row] = &[
    Row {
        what: "a header field in the leaf (timestamp), rehashed",
        accepted: [true, false, false, false],
        field: "parentHash",
    },
    Row {
        what: "a header field outside the leaf (stateRoot), claimed hash kept",
        accepted: [true, false, false, false],
        field: "hash",
    },
    Row {
        what: "the parent hash, rehashed",
        accepted: [true, false, false, false],
        field: "parentHash",
    },
    Row {
        what: "a transaction",
        accepted: [true, true, false, false],
        field: "transactionsRoot",
    },
    Row {
        what: "a receipt",
        accepted: [true, true, false, false],
        field: "receiptsRoot",
    },
    Row {
        what: "a log",
        accepted: [true, true, false, false],
        field: "receiptsRoot",
    },
    Row {
        what: "the seal, rehashed",
        accepted: [true, true, true, false],
        field: "seal",
    },
    Row {
        what: "the difficulty, re-sealed by its producer",
        accepted: [true, true, true, false],
        field: "difficulty",
    },
    Row {
        what: "the validator list, re-sealed by its producer",
        accepted: [true, true, true, false],
        field: "validators",
    },
];

/// Batch: blocks 289..=319 of a devnet chain (span 1, sprint 16; 319 ends a sprint).
const FIRST: u64 = 289;
const LAST: u64 = 319;
const MIDDLE: u64 = 300;

fn raw(block: &DevBlock) -> RawBlock {
    RawBlock {
        number: block.number(),
        hash: block.hash.0,
        header: block.header_rlp.to_vec().into(),
        body: Some(block.body_rlp.to_vec().into()).into(),
        receipts: Some(block.receipts_rlp.to_vec().into()).into(),
        state_sync: block
            .bor_receipt
            .as_ref()
            .map(|bor| bor.rlp.to_vec().into())
            .into(),
        tx_hashes: Default::default(),
        senders: Default::default(),
        ext: Default::default(),
    }
}

fn reseal(block: &DevBlock, header: Header, chain: &Chain, spec: &ChainSpec) -> DevBlock {
    let key = chain
        .generator()
        .validators()
        .iter()
        .find(|validator| validator.address == block.signer)
        .expect("a devnet producer")
        .key;
    let mut header = header;
    bor::seal(&mut header, &key, spec).unwrap();
    let mut lie = block.clone();
    let mut rlp = Vec::new();
    header.encode(&mut rlp);
    lie.hash = keccak256(&rlp);
    lie.header_rlp = rlp.into();
    lie.header = header;
    lie
}

/// The lie for `row`, and which block it replaces.
fn lie(row: &Row, chain: &Chain, spec: &ChainSpec) -> DevBlock {
    let middle_block = chain.by_number(MIDDLE).unwrap();
    let middle: &DevBlock = &middle_block;
    let last_block = chain.by_number(LAST).unwrap();
    let last: &DevBlock = &last_block;
    let with = |block: &DevBlock, target: TamperTarget, rehash: bool| {
        tampered(
            block,
            &Tamper {
                block: block.number(),
                target,
                rehash,
            },
        )
    };
    let header = |field: &str| TamperTarget::Header {
        field: field.into(),
    };
    match row.what {
        "a header field in the leaf (timestamp), rehashed" => {
            with(middle, header("timestamp"), true)
        }
        "a header field outside the leaf (stateRoot), claimed hash kept" => {
            with(middle, header("stateRoot"), false)
        }
        "the parent hash, rehashed" => with(middle, header("parentHash"), true),
        "a transaction" => with(middle, TamperTarget::Transaction { index: 0 }, false),
        "a receipt" => with(middle, TamperTarget::Receipt { index: 0 }, false),
        "a log" => {
            let index = middle
                .receipts
                .iter()
                .position(|receipt| !receipt.logs.is_empty())
                .expect("a receipt with logs");
            with(middle, TamperTarget::Log { index }, false)
        }
        "the seal, rehashed" => with(last, header("seal"), true),
        "the difficulty, re-sealed by its producer" => {
            let mut header = last.header.clone();
            let difficulty: u64 = header.difficulty.to();
            header.difficulty = U256::from(if difficulty > 1 {
                difficulty - 1
            } else {
                difficulty + 1
            });
            reseal(last, header, chain, spec)
        }
        "the validator list, re-sealed by its producer" => {
            let mut listed =
                bor::parse_validators(LAST, &bor::validator_bytes(&last.header, spec).unwrap())
                    .unwrap();
            listed[0] = HeaderValidator {
                address: listed[0].address,
                power: listed[0].power + 1,
            };
            let mut header = last.header.clone();
            header.extra_data = bor::build_extra([0; 32], Some(&listed), LAST, spec).into();
            reseal(last, header, chain, spec)
        }
        other => panic!("no lie for {other}"),
    }
}

/// A devnet chain past `LAST`, its spec, and the spans covering it.
fn fixture() -> (Chain, ChainSpec, Vec<Span>) {
    let config = ChainConfig {
        txs_per_block: 6,
        cancun_block: 10_000,
        ..ChainConfig::default()
    };
    let mut chain = Chain::new(ChainGenerator::new(config).unwrap());
    for _ in 0..LAST + 20 {
        chain.grow();
    }
    let spec = chain.generator().spec().clone();
    let spans: Vec<Span> = (0..=spec.span_id(LAST + 1))
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
    (chain, spec, spans)
}

/// A checkpoint whose root commits to exactly `blocks`.
fn checkpoint_over(blocks: &[DevBlock]) -> Checkpoint {
    let leaves: Vec<_> = blocks
        .iter()
        .map(|block| header_leaf(&block.header))
        .collect();
    Checkpoint {
        id: 10_000,
        range: BlockRange::new(blocks[0].number(), blocks[blocks.len() - 1].number()),
        root: checkpoint_root(&leaves).unwrap().0,
        ext: Default::default(),
    }
}

/// A backward batch of `blocks` under `checkpoint` and `spans`.
fn batch_request(
    blocks: &[DevBlock],
    checkpoint: &Checkpoint,
    spans: &[Span],
) -> ValidationRequest {
    ValidationRequest {
        direction: Direction::Backward,
        blocks: blocks.iter().map(raw).collect::<Vec<_>>().into(),
        parent: None.into(),
        child: None.into(),
        anchors: Vec::new().into(),
        checkpoints: vec![checkpoint.clone()].into(),
        spans: spans.to_vec().into(),
        ext: Default::default(),
    }
}

#[test]
fn each_level_rejects_exactly_the_fields_it_covers() {
    let (chain, spec, spans) = fixture();
    assert!(spec.is_sprint_end(LAST));
    let honest: Vec<DevBlock> = (FIRST..=LAST)
        .map(|number| (*chain.by_number(number).unwrap()).clone())
        .collect();
    let middle = &honest[(MIDDLE - FIRST) as usize];
    assert!(
        middle.txs.len() >= 2
            && middle
                .receipts
                .iter()
                .any(|receipt| !receipt.logs.is_empty()),
        "the middle block has transactions and logs"
    );
    let checkpoint = checkpoint_over(&honest);
    let request = |blocks: &[DevBlock]| batch_request(blocks, &checkpoint, &spans);

    // The honest batch passes every level; header and light confirm it by
    // the checkpoint, full by the seals.
    for level in LEVELS {
        let verdict = validate(level, &spec, &request(&honest)).unwrap();
        let expected = if level == Level::None {
            vec![]
        } else {
            vec![BlockRange::new(FIRST, LAST)]
        };
        assert_eq!(
            verdict,
            Verdict::accepted(expected),
            "{level:?} on the honest batch"
        );
    }

    let mut failures = Vec::new();
    for row in MATRIX {
        let lie = lie(row, &chain, &spec);
        let mut batch = honest.clone();
        let at = (lie.number() - FIRST) as usize;
        batch[at] = lie;
        for (level, accepted) in LEVELS.iter().zip(row.accepted) {
            let verdict = validate(*level, &spec, &request(&batch)).unwrap();
            let ok = match (verdict.clone().into_result(), accepted) {
                (Ok(_), true) => true,
                (Err(rejection), false) => {
                    // The lowest rejecting level names the field.
                    let lowest = row.accepted.iter().position(|accepts| !accepts)
                        == LEVELS.iter().position(|l| l == level);
                    !lowest || rejection.field.as_str() == row.field
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("{:<55} {:?}: {verdict:?}", row.what, level));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "levels do not match the matrix:\n{}",
        failures.join("\n")
    );
}

/// A receipt whose bloom disagrees with its logs, in a block whose receipts
/// root, header bloom and seal were all rebuilt around it (what a producer
/// that sealed a bad receipt would publish, under a checkpoint that commits
/// to it): every root matches, so `light` accepts it and only `full`, which
/// recomputes each receipt's bloom, rejects it.
#[test]
fn a_receipt_bloom_that_disagrees_with_its_logs_is_caught_by_full_only() {
    let (chain, spec, spans) = fixture();
    // The batch ends at the first block with a log, so that nothing after
    // it has to link to its new hash.
    let honest: Vec<DevBlock> = (FIRST..=LAST)
        .map(|number| (*chain.by_number(number).unwrap()).clone())
        .collect();
    let last = honest
        .iter()
        .position(|block| {
            block
                .receipts
                .iter()
                .any(|receipt| !receipt.logs.is_empty())
        })
        .expect("a block with a log");
    let mut batch = honest[..=last].to_vec();
    let block = &batch[last];
    let index = block
        .receipts
        .iter()
        .position(|receipt| !receipt.logs.is_empty())
        .unwrap();
    let mut lie = block.clone();
    let receipt = &mut lie.receipts[index];
    let wrong = ReceiptWithBloom {
        receipt: Receipt {
            status: receipt.status.into(),
            cumulative_gas_used: receipt.cumulative_gas_used,
            logs: receipt.logs.clone(),
        },
        logs_bloom: Bloom::ZERO,
    };
    let mut envelope = Vec::new();
    if receipt.tx_type != 0 {
        envelope.push(receipt.tx_type);
    }
    wrong.encode(&mut envelope);
    receipt.envelope = envelope.into();
    receipt.bloom = Bloom::ZERO;
    let envelopes: Vec<&[u8]> = lie
        .receipts
        .iter()
        .map(|receipt| receipt.envelope.as_ref())
        .collect();
    lie.receipts_rlp = encode_envelopes(&envelopes).into();
    let mut header = lie.header.clone();
    header.receipts_root = ordered_root(&envelopes);
    header.logs_bloom = lie.receipts.iter().fold(Bloom::ZERO, |mut bloom, receipt| {
        bloom.accrue_bloom(&receipt.bloom);
        bloom
    });
    batch[last] = reseal(&lie, header, &chain, &spec);
    let checkpoint = checkpoint_over(&batch);
    let request = batch_request(&batch, &checkpoint, &spans);

    for level in [Level::None, Level::Header, Level::Light] {
        let verdict = validate(level, &spec, &request).unwrap();
        assert!(
            verdict.outcome == Outcome::Accepted,
            "{level:?}: {verdict:?}"
        );
    }
    match validate(Level::Full, &spec, &request)
        .unwrap()
        .into_result()
    {
        Err(rejection) => {
            assert_eq!(
                rejection.field.as_str(),
                format!("receipts[{index}].logsBloom")
            );
            assert_eq!(rejection.number, batch[last].number());
        }
        other => panic!("full accepted a receipt whose bloom is not its logs': {other:?}"),
    }
}
