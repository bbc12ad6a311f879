//! Bor's rules checked on real Polygon mainnet data (testdata/polygon,
//! copied from the shared fixtures with their provenance).

use std::{collections::BTreeSet, path::PathBuf};

use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::Encodable;
use hypasis_polygon::{
    ChainSpec, bor,
    checkpoint::{checkpoint_root, header_leaf},
    decode_header,
    rpc_json::{header_from_json, parse_b256},
};
use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/polygon")
        .join(path)
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata(path)).unwrap()).unwrap()
}

#[test]
fn block_50_000_000_hash_and_post_jaipur_signer() {
    let text = std::fs::read_to_string(testdata("block-50000000/header.rlp.hex")).unwrap();
    let bytes = hex::decode(text.trim().trim_start_matches("0x")).unwrap();
    let expected = json("block-50000000/expected.json");
    let header = decode_header(&bytes).unwrap();
    assert_eq!(header.number, 50_000_000);
    assert_eq!(
        keccak256(&bytes),
        parse_b256("hash", expected["hash"].as_str().unwrap()).unwrap()
    );
    assert_eq!(
        header.base_fee_per_gas,
        Some(expected["base_fee"].as_u64().unwrap())
    );

    let mainnet = ChainSpec::mainnet();
    let signer = bor::recover_signer(&header, &mainnet).unwrap();
    assert_eq!(format!("{signer:#x}"), expected["signer"].as_str().unwrap());

    // Without Jaipur's rule (base fee left out of the seal hash) the seal
    // recovers an address that is not a validator.
    let mut pre_jaipur = mainnet.clone();
    pre_jaipur.bor.jaipur_block = None;
    let wrong = bor::recover_signer(&header, &pre_jaipur).unwrap();
    assert_eq!(
        format!("{wrong:#x}"),
        expected["signer_if_basefee_left_out_of_seal_hash"]
            .as_str()
            .unwrap()
    );

    let span = json("block-50000000/span_7813.json");
    let producers: BTreeSet<String> = span["selected_producers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|producer| producer["signer"].as_str().unwrap().to_string())
        .collect();
    assert!(producers.contains(&format!("{signer:#x}")));
}

#[test]
fn checkpoint_96930000_root_hashes_signers_and_links() {
    let headers = json("mainnet-checkpoint-96930000/headers.json");
    let checkpoint = json("mainnet-checkpoint-96930000/checkpoint.json");
    let span = json("mainnet-checkpoint-96930000/span_1536.json");
    let mainnet = ChainSpec::mainnet();
    let headers = headers.as_array().unwrap();
    assert_eq!(headers.len(), 1280);

    let producers: BTreeSet<Address> = span["selected_producers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|producer| producer["signer"].as_str().unwrap().parse().unwrap())
        .collect();
    let mut signers = BTreeSet::new();
    let mut leaves = Vec::new();
    let mut previous: Option<B256> = None;
    for block in headers {
        let header = header_from_json(block).unwrap();
        let mut rlp = Vec::new();
        header.encode(&mut rlp);
        let hash = keccak256(&rlp);
        assert_eq!(
            hash,
            parse_b256("hash", block["hash"].as_str().unwrap()).unwrap(),
            "block {}",
            header.number
        );
        if let Some(parent) = previous {
            assert_eq!(
                header.parent_hash, parent,
                "block {} does not link",
                header.number
            );
        }
        previous = Some(hash);

        let signer = bor::recover_signer(&header, &mainnet).unwrap();
        assert!(
            producers.contains(&signer),
            "block {} sealed by {signer}, not a producer of span 1536",
            header.number
        );
        signers.insert(signer);

        // Sprint ends (64-block sprints here) carry the 8 producers.
        let validators = bor::parse_validators(
            header.number,
            &bor::validator_bytes(&header, &mainnet).unwrap(),
        )
        .unwrap();
        if mainnet.is_sprint_end(header.number) {
            assert_eq!(
                header.extra_data.len(),
                32 + 8 * 40 + 65,
                "block {}",
                header.number
            );
            let listed: BTreeSet<Address> = validators
                .iter()
                .map(|validator| validator.address)
                .collect();
            assert_eq!(listed, producers, "block {}", header.number);
        } else {
            assert!(validators.is_empty(), "block {}", header.number);
            assert_eq!(header.extra_data.len(), 97);
        }
        leaves.push(header_leaf(&header));
    }
    assert_eq!(
        signers, producers,
        "the 1,280 blocks are sealed by exactly span 1536's 8 producers"
    );

    let first = header_from_json(&headers[0]).unwrap();
    assert_eq!(first.number, checkpoint["start"].as_u64().unwrap());
    assert_eq!(
        format!("{:#x}", bor::recover_signer(&first, &mainnet).unwrap()),
        "0x0375b2fc7140977c9c76d45421564e354ed42277"
    );
    let root = checkpoint_root(&leaves).unwrap();
    assert_eq!(
        root,
        parse_b256("root", checkpoint["root"].as_str().unwrap()).unwrap()
    );
}
