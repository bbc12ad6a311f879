//! Imports the two real test chains in `testdata/` (go-ethereum's eth-test
//! chain and the execution-apis chain) and checks them against the
//! fixtures that came with them. The import itself verifies every block's
//! state root, receipts root, logs bloom and gas used by execution.

use std::path::{Path, PathBuf};

use alloy_consensus::{Eip658Value, ReceiptEnvelope, TxReceipt};
use alloy_primitives::{B256, Bytes};
use hypasis_import::{ImportError, ImportedChain, decode_receipts, import, import_files};
use hypasis_polygon::rpc_json::{log_from_json, parse_b256, parse_bytes, parse_u64};
use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(testdata(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `<<` response of an execution-apis `.io` test.
fn io_response(path: &str) -> Value {
    let text = std::fs::read_to_string(testdata(path)).unwrap();
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("<< "))
        .expect("an .io file has a response line");
    serde_json::from_str::<Value>(line).unwrap()["result"].clone()
}

fn fcu_head(path: &str) -> B256 {
    let head = &json(path)["params"][0]["headBlockHash"];
    parse_b256("headBlockHash", head.as_str().unwrap()).unwrap()
}

fn import_dir(dir: &str) -> ImportedChain {
    import_files(
        &testdata(&format!("{dir}/genesis.json")),
        &testdata(&format!("{dir}/chain.rlp")),
    )
    .unwrap_or_else(|error| panic!("{dir}: {error}"))
}

/// Every block links to its parent and keeps its header bytes.
fn assert_linked(chain: &ImportedChain) {
    for pair in chain.blocks.windows(2) {
        assert_eq!(pair[1].number, pair[0].number + 1);
        let header = hypasis_polygon::decode_header(&pair[1].header).unwrap();
        assert_eq!(header.parent_hash, pair[0].hash);
        assert_eq!(alloy_primitives::keccak256(&pair[1].header), pair[1].hash);
        assert_eq!(
            decode_receipts(&pair[1].receipts).unwrap().len(),
            pair[1].tx_hashes.len()
        );
        assert_eq!(pair[1].senders.len(), pair[1].tx_hashes.len());
    }
}

#[test]
fn ethtest_chain_imports_to_its_head() {
    let chain = import_dir("ethtest");
    let head_block = json("ethtest/headblock.json");
    let head_number = parse_u64("number", head_block["number"].as_str().unwrap()).unwrap();
    let head_hash = parse_b256("hash", head_block["hash"].as_str().unwrap()).unwrap();
    assert_eq!(chain.blocks.len() as u64, head_number + 1);
    assert_eq!(chain.head().unwrap().number, head_number);
    assert_eq!(chain.head().unwrap().hash, head_hash);
    assert_eq!(chain.head().unwrap().hash, fcu_head("ethtest/headfcu.json"));
    assert_linked(&chain);
    // Forks: block-numbered in the shared spec, timestamps in `forks`.
    assert_eq!(chain.spec.chain_id, 3_503_995_874_084_926);
    assert_eq!(chain.spec.genesis_hash, Some(chain.blocks[0].hash));
    assert_eq!(chain.spec.london_block, Some(54));
    assert_eq!(chain.forks.fork_id_times(0), vec![780, 840]);
    assert!(chain.spec.cancun_block.is_some());
    // The total difficulty stops growing at the merge.
    let ttd = chain.forks.terminal_total_difficulty.unwrap();
    assert!(chain.head().unwrap().total_difficulty >= ttd);
    let txs: usize = chain.blocks.iter().map(|block| block.tx_hashes.len()).sum();
    assert!(txs > 0);
}

#[test]
fn execution_apis_chain_imports_to_its_head() {
    let chain = import_dir("execution-apis");
    assert_eq!(
        chain.head().unwrap().hash,
        fcu_head("execution-apis/headfcu.json")
    );
    let block_number = io_response("execution-apis/eth_blockNumber/simple-test.io");
    let head_number = parse_u64("result", block_number.as_str().unwrap()).unwrap();
    assert_eq!(chain.head().unwrap().number, head_number);
    assert_eq!(chain.blocks.len() as u64, head_number + 1);
    assert_linked(&chain);
    let times: Vec<&str> = chain
        .forks
        .time_forks
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        times,
        ["shanghai", "cancun", "prague", "osaka", "bpo1", "bpo2"]
    );
    // The chain reaches BPO2.
    let head = hypasis_polygon::decode_header(&chain.head().unwrap().header).unwrap();
    assert!(head.timestamp >= 540, "head timestamp {}", head.timestamp);

    // A dynamic-fee receipt, decoded from the stored bytes.
    let expected = io_response("execution-apis/eth_getTransactionReceipt/get-dynamic-fee.io");
    let receipt = find_receipt(&chain, &expected);
    assert!(matches!(receipt, ReceiptEnvelope::Eip1559(_)));
    assert_receipt_matches(&receipt, &expected);
    assert_eq!(receipt.logs().len(), 1);

    // A blob transaction's and a set-code transaction's receipts.
    for name in [
        "get-blob-tx.io",
        "get-setcode-tx.io",
        "get-legacy-receipt.io",
    ] {
        let expected = io_response(&format!("execution-apis/eth_getTransactionReceipt/{name}"));
        let receipt = find_receipt(&chain, &expected);
        assert_receipt_matches(&receipt, &expected);
    }

    // A pre-Byzantium block's receipts, byte for byte (they carry the
    // intermediate state root).
    let raw = io_response("execution-apis/debug_getRawReceipts/get-block-n.io");
    let block = &chain.blocks[3];
    let stored: Vec<Bytes> = hypasis_polygon::roots::envelope_items("receipts", &block.receipts)
        .unwrap()
        .into_iter()
        .map(Bytes::copy_from_slice)
        .collect();
    let expected: Vec<Bytes> = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|item| Bytes::from(parse_bytes("receipt", item.as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(stored, expected);
}

/// The stored receipt of the transaction an `.io` receipt names.
fn find_receipt(chain: &ImportedChain, expected: &Value) -> ReceiptEnvelope {
    let tx_hash = parse_b256(
        "transactionHash",
        expected["transactionHash"].as_str().unwrap(),
    )
    .unwrap();
    let block_hash = parse_b256("blockHash", expected["blockHash"].as_str().unwrap()).unwrap();
    let block = chain
        .blocks
        .iter()
        .find(|block| block.hash == block_hash)
        .expect("the receipt's block is imported");
    let index = block
        .tx_hashes
        .iter()
        .position(|hash| *hash == tx_hash)
        .unwrap();
    let from: alloy_primitives::Address = expected["from"].as_str().unwrap().parse().unwrap();
    assert_eq!(block.senders[index], from);
    decode_receipts(&block.receipts).unwrap().swap_remove(index)
}

fn assert_receipt_matches(receipt: &ReceiptEnvelope, expected: &Value) {
    let field = |name: &'static str| parse_u64(name, expected[name].as_str().unwrap()).unwrap();
    assert_eq!(receipt.cumulative_gas_used(), field("cumulativeGasUsed"));
    assert_eq!(u64::from(receipt.tx_type() as u8), field("type"));
    match expected.get("status") {
        Some(Value::String(_)) => {
            assert_eq!(
                receipt.status_or_post_state(),
                Eip658Value::Eip658(field("status") == 1)
            )
        }
        _ => {
            let root = parse_b256("root", expected["root"].as_str().unwrap()).unwrap();
            assert_eq!(receipt.status_or_post_state(), Eip658Value::PostState(root));
        }
    }
    let logs: Vec<_> = expected["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|log| log_from_json(log).unwrap())
        .collect();
    assert_eq!(receipt.logs(), logs.as_slice());
    let bloom = parse_bytes("logsBloom", expected["logsBloom"].as_str().unwrap()).unwrap();
    assert_eq!(receipt.bloom().as_slice(), bloom.as_slice());
}

#[test]
fn truncated_chain_file_is_a_clear_error() {
    let genesis = std::fs::read_to_string(testdata("ethtest/genesis.json")).unwrap();
    let chain = std::fs::read(testdata("ethtest/chain.rlp")).unwrap();
    let error = import(&genesis, &chain[..chain.len() - 100]).unwrap_err();
    let ImportError::ChainRlp {
        file,
        index,
        reason,
        ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(file, "chain.rlp");
    assert_eq!(*index, 499, "{error}");
    assert!(reason.starts_with("truncated"), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("chain.rlp: block #499 (at byte "),
        "{error}"
    );
}

#[test]
fn changed_alloc_is_a_genesis_mismatch() {
    let mut genesis = json("execution-apis/genesis.json");
    genesis["alloc"]["0x7435ed30a8b4aeb0877cef0c6e8cffe834eb865f"]["balance"] = "0x1".into();
    let chain = std::fs::read(testdata("execution-apis/chain.rlp")).unwrap();
    let error = import(&genesis.to_string(), &chain).unwrap_err();
    let ImportError::GenesisMismatch {
        computed, expected, ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_ne!(computed, expected);
    let message = error.to_string();
    assert!(
        message.contains(&computed.to_string()) && message.contains(&expected.to_string()),
        "{message}"
    );
}

/// Splits a chain file into its blocks' RLP.
fn split_blocks(mut file: &[u8]) -> Vec<&[u8]> {
    let mut blocks = Vec::new();
    while !file.is_empty() {
        let mut cursor = file;
        let header = alloy_rlp::Header::decode(&mut cursor).unwrap();
        let length = file.len() - cursor.len() + header.payload_length;
        blocks.push(&file[..length]);
        file = &file[length..];
    }
    blocks
}

#[test]
fn a_wrong_state_root_names_block_and_field() {
    // The last block of the execution-apis chain, with a header that claims
    // another state root (being last, no child needs relinking).
    let genesis = std::fs::read_to_string(testdata("execution-apis/genesis.json")).unwrap();
    let file = std::fs::read(testdata("execution-apis/chain.rlp")).unwrap();
    let blocks = split_blocks(&file);
    let (last, earlier) = blocks.split_last().unwrap();
    let mut cursor = &last[..];
    alloy_rlp::Header::decode(&mut cursor).unwrap();
    let mut header =
        <alloy_consensus::Header as alloy_rlp::Decodable>::decode(&mut cursor).unwrap();
    let claimed = B256::repeat_byte(0x5a);
    header.state_root = claimed;
    let mut payload = alloy_rlp::encode(&header);
    payload.extend_from_slice(cursor);
    let mut tampered: Vec<u8> = earlier.concat();
    alloy_rlp::Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut tampered);
    tampered.extend_from_slice(&payload);

    let error = import(&genesis, &tampered).unwrap_err();
    let ImportError::Mismatch {
        file,
        number,
        field,
        expected,
        ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(
        (file.as_str(), *number, *field),
        ("chain.rlp", header.number, "stateRoot")
    );
    assert_eq!(expected, &claimed.to_string());
    assert!(
        error.to_string().starts_with(&format!(
            "chain.rlp: block {}: stateRoot: header has 0x5a5a",
            header.number
        )),
        "{error}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let error = import_files(
        Path::new("/nonexistent/genesis.json"),
        Path::new("chain.rlp"),
    )
    .unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }));
    assert!(
        error.to_string().starts_with("/nonexistent/genesis.json: "),
        "{error}"
    );
}

/// Polygon mainnet's genesis in Bor's format: the genesis block Bor builds
/// (hash a9c28ce2…), a spec with Bor's block-numbered forks and `bor`
/// section, and the fork-id rules of Bor peers.
#[test]
fn bor_mainnet_genesis_imports_as_bor_builds_it() {
    use hypasis_polygon::{ChainSpec, spec::ForkIdRules};
    let genesis = std::fs::read_to_string(testdata("bor/genesis-mainnet-v1.json")).unwrap();
    let chain = import(&genesis, &[]).unwrap();
    let mainnet = ChainSpec::mainnet();
    assert_eq!(chain.blocks.len(), 1);
    assert_eq!(chain.spec.genesis_hash, mainnet.genesis_hash);
    assert_eq!(chain.spec.chain_id, 137);
    assert_eq!(chain.spec.fork_id_rules, ForkIdRules::Bor);
    assert_eq!(chain.spec.genesis_timestamp, mainnet.genesis_timestamp);
    // The same non-genesis forks as the built-in spec (which lists only those).
    let forks: Vec<(String, u64)> = chain
        .spec
        .forks
        .iter()
        .filter(|fork| fork.block > 0)
        .map(|fork| (fork.name.clone(), fork.block))
        .collect();
    let built_in: Vec<(String, u64)> = mainnet
        .forks
        .iter()
        .map(|fork| (fork.name.clone(), fork.block))
        .collect();
    assert_eq!(forks, built_in);
    assert!(chain.spec.timestamp_forks.is_empty());
    assert_eq!(chain.spec.london_block, mainnet.london_block);
    assert_eq!(chain.spec.cancun_block, mainnet.cancun_block);
    let (bor, built_in) = (&chain.spec.bor, &mainnet.bor);
    assert_eq!(bor.sprint, built_in.sprint);
    assert_eq!(bor.producer_delay, built_in.producer_delay);
    assert_eq!(
        (bor.jaipur_block, bor.delhi_block, bor.indore_block),
        (
            built_in.jaipur_block,
            built_in.delhi_block,
            built_in.indore_block
        )
    );
    assert_eq!(
        (bor.ahmedabad_block, bor.bhilai_block),
        (built_in.ahmedabad_block, built_in.bhilai_block)
    );
}

/// Blocks after a Bor-format genesis would need Bor's execution rules:
/// refused with a message that says so and what to do instead.
#[test]
fn bor_blocks_are_refused_until_bor_execution_exists() {
    let genesis = std::fs::read_to_string(testdata("bor/genesis-mainnet-v1.json")).unwrap();
    let genesis_hash = import(&genesis, &[]).unwrap().blocks[0].hash;
    let header = alloy_consensus::Header {
        parent_hash: genesis_hash,
        number: 1,
        gas_limit: 10_000_000,
        timestamp: 1_590_824_838,
        ..Default::default()
    };
    // [header, transactions, uncles]: 0xc0 is the empty list.
    let mut payload = alloy_rlp::encode(&header);
    payload.extend_from_slice(&[0xc0, 0xc0]);
    let mut block = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut block);
    block.extend_from_slice(&payload);
    let error = import(&genesis, &block).unwrap_err();
    assert!(
        matches!(error, ImportError::BorExecution { blocks: 1, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("sync the chain from a Bor node"),
        "{error}"
    );
}
