//! The consensus rules of `full` hold on 1,280 real mainnet headers (span
//! 1536, 64-block sprints, pre-Delhi delays), and the header level confirms
//! them with the real L1 checkpoint.

use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::Encodable;
use hypasis_plugin_api::{
    BlockRange, Checkpoint, Direction, Producer, RawBlock, Span, ValidationRequest, Verdict,
};
use hypasis_polygon::{ChainSpec, rpc_json::header_from_json};
use hypasis_validation_core::validate_headers_and_consensus;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/polygon/mainnet-checkpoint-96930000")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn request() -> ValidationRequest {
    let blocks: Vec<RawBlock> = fixture("headers.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|json| {
            let header = header_from_json(json).unwrap();
            let mut rlp = Vec::new();
            header.encode(&mut rlp);
            RawBlock {
                number: header.number,
                hash: keccak256(&rlp).0,
                header: rlp.into(),
                body: None.into(),
                receipts: None.into(),
                state_sync: None.into(),
                tx_hashes: Default::default(),
                senders: Default::default(),
                ext: Default::default(),
            }
        })
        .collect();
    let span = fixture("span_1536.json");
    let producers: Vec<Producer> = span["selected_producers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|producer| Producer {
            id: producer["ID"].as_u64().unwrap(),
            address: producer["signer"]
                .as_str()
                .unwrap()
                .parse::<Address>()
                .unwrap()
                .0
                .0,
            power: producer["power"].as_u64().unwrap(),
            ext: Default::default(),
        })
        .collect();
    let checkpoint = fixture("checkpoint.json");
    ValidationRequest {
        direction: Direction::Backward,
        blocks: blocks.into(),
        parent: None.into(),
        child: None.into(),
        anchors: Vec::new().into(),
        checkpoints: vec![Checkpoint {
            id: checkpoint["header_block_id"].as_u64().unwrap(),
            range: BlockRange::new(
                checkpoint["start"].as_u64().unwrap(),
                checkpoint["end"].as_u64().unwrap(),
            ),
            root: checkpoint["root"]
                .as_str()
                .unwrap()
                .parse::<B256>()
                .unwrap()
                .0,
            ext: Default::default(),
        }]
        .into(),
        spans: vec![Span {
            id: 1536,
            range: BlockRange::new(9_824_256, 9_830_655),
            producers: producers.into(),
            ext: Default::default(),
        }]
        .into(),
        ext: Default::default(),
    }
}

#[test]
fn real_mainnet_headers_pass_full_consensus() {
    let verdict = validate_headers_and_consensus(&ChainSpec::mainnet(), &request()).unwrap();
    assert_eq!(
        verdict,
        Verdict::accepted(vec![BlockRange::new(9_825_948, 9_827_227)])
    );
}

#[test]
fn a_wrong_span_is_caught_on_real_data() {
    let mut request = request();
    // Drop one producer from the span: blocks it sealed no longer verify.
    let mut span = request.spans[0].clone();
    let removed = span.producers.remove(0);
    request.spans = vec![span].into();
    match validate_headers_and_consensus(&ChainSpec::mainnet(), &request)
        .unwrap()
        .into_result()
    {
        Err(rejection) => {
            assert!(
                rejection.field.as_str() == "seal"
                    || rejection.field.as_str() == "validators"
                    || rejection.field.as_str() == "difficulty",
                "{rejection}"
            );
            let _ = removed;
        }
        other => panic!("accepted with a producer missing: {other:?}"),
    }
}
