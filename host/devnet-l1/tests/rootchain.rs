//! RootChain behaviour on the real EVM: deployment, contiguous checkpoints, the getters read
//! back with `eth_call`, the `NewHeaderBlock` logs, and the revert reasons of bad checkpoints.

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use hypasis_devnet_l1::{
    L1Config, L1Devnet, L1Error,
    contract::{IRootChain, NEW_HEADER_BLOCK_TOPIC},
};
use serde_json::{Value, json};

const BOR_CHAIN_ID: u64 = 15001;
const GENESIS_TIME: u64 = 1_700_000_000;

fn devnet() -> L1Devnet {
    L1Devnet::new(L1Config {
        chain_id: 1337,
        bor_chain_id: BOR_CHAIN_ID,
        genesis_timestamp: GENESIS_TIME,
        seed: 7,
    })
    .unwrap()
}

fn rpc(l1: &L1Devnet, method: &str, params: Value) -> Value {
    l1.rpc(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
}

/// `eth_call`s `call` on RootChain at `block` and decodes the answer.
fn view<C: SolCall>(l1: &L1Devnet, call: C, block: &str) -> C::Return {
    let data = hex::encode_prefixed(call.abi_encode());
    let answer = rpc(
        l1,
        "eth_call",
        json!([{"to": l1.root_chain().to_string(), "input": data}, block]),
    );
    let output = answer["result"]
        .as_str()
        .unwrap_or_else(|| panic!("eth_call failed: {answer}"));
    C::abi_decode_returns(&hex::decode(output).unwrap()).unwrap()
}

fn checkpoint(index: u8) -> (Address, u64, u64, B256) {
    let start = u64::from(index) * 256;
    (
        Address::repeat_byte(0x10 + index),
        start,
        start + 255,
        B256::repeat_byte(0xa0 + index),
    )
}

fn submit_three(l1: &L1Devnet) -> Vec<hypasis_devnet_l1::SubmittedCheckpoint> {
    (0..3)
        .map(|index| {
            let (proposer, start, end, root) = checkpoint(index);
            l1.submit_checkpoint(
                proposer,
                start,
                end,
                root,
                GENESIS_TIME + 100 * (u64::from(index) + 1),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn deploys_rootchain_at_the_deployers_first_create_address() {
    let l1 = devnet();
    assert_eq!(l1.block_number(), 1);
    assert_eq!(l1.root_chain(), l1.checkpointer().create(0));
    assert_eq!(
        view(&l1, IRootChain::CHAINIDCall {}, "latest"),
        U256::from(BOR_CHAIN_ID)
    );
    assert_eq!(
        view(&l1, IRootChain::ownerCall {}, "latest"),
        l1.checkpointer()
    );
    assert_eq!(
        view(&l1, IRootChain::_nextHeaderBlockCall {}, "latest"),
        U256::from(10_000)
    );
    assert_eq!(
        view(&l1, IRootChain::currentHeaderBlockCall {}, "latest"),
        U256::ZERO
    );
    assert_eq!(
        view(&l1, IRootChain::getLastChildBlockCall {}, "latest"),
        U256::ZERO
    );

    // Nothing at genesis; the code appears in block 1, deployed by a receipt-bearing tx.
    let code_at = |block: &str| {
        rpc(
            &l1,
            "eth_getCode",
            json!([l1.root_chain().to_string(), block]),
        )["result"]
            .clone()
    };
    assert_eq!(code_at("earliest"), json!("0x"));
    assert!(code_at("latest").as_str().unwrap().len() > 1000);
    let block = rpc(&l1, "eth_getBlockByNumber", json!(["0x1", false]))["result"].clone();
    let tx_hash = block["transactions"][0].clone();
    let receipt = rpc(&l1, "eth_getTransactionReceipt", json!([tx_hash]))["result"].clone();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(
        receipt["contractAddress"],
        json!(hex::encode_prefixed(l1.root_chain()))
    );
    assert_eq!(
        receipt["from"],
        json!(hex::encode_prefixed(l1.checkpointer()))
    );
    assert_eq!(receipt["to"], Value::Null);

    // The key, hence every address, follows the seed.
    let other = L1Devnet::new(L1Config {
        seed: 8,
        ..L1Config::new(BOR_CHAIN_ID)
    })
    .unwrap();
    assert_ne!(other.checkpointer(), l1.checkpointer());
    assert_eq!(devnet().root_chain(), l1.root_chain());
}

#[test]
fn three_contiguous_checkpoints_read_back_through_eth_call() {
    let l1 = devnet();
    let submitted = submit_three(&l1);
    let ids: Vec<u64> = submitted.iter().map(|s| s.header_block_id).collect();
    assert_eq!(ids, [10_000, 20_000, 30_000]);
    let blocks: Vec<u64> = submitted.iter().map(|s| s.l1_block).collect();
    assert_eq!(blocks, [2, 3, 4]);
    assert_eq!(l1.block_number(), 4);

    assert_eq!(
        view(&l1, IRootChain::currentHeaderBlockCall {}, "latest"),
        U256::from(30_000)
    );
    assert_eq!(
        view(&l1, IRootChain::_nextHeaderBlockCall {}, "latest"),
        U256::from(40_000)
    );
    let (_, _, third_end, _) = checkpoint(2);
    assert_eq!(
        view(&l1, IRootChain::getLastChildBlockCall {}, "latest"),
        U256::from(third_end)
    );

    let (proposer, start, end, root) = checkpoint(1);
    let second = view(
        &l1,
        IRootChain::headerBlocksCall {
            headerBlockId: U256::from(20_000),
        },
        "latest",
    );
    assert_eq!(second.root, root);
    assert_eq!(second.start, U256::from(start));
    assert_eq!(second.end, U256::from(end));
    assert_eq!(second.proposer, proposer);
    // createdAt is the timestamp of the L1 block that holds the checkpoint.
    let l1_block = rpc(&l1, "eth_getBlockByNumber", json!(["0x3", false]))["result"].clone();
    assert_eq!(
        l1_block["timestamp"],
        json!(format!("{:#x}", GENESIS_TIME + 200))
    );
    assert_eq!(second.createdAt, U256::from(GENESIS_TIME + 200));

    // Calls see the state of the block they name.
    assert_eq!(
        view(&l1, IRootChain::currentHeaderBlockCall {}, "0x3"),
        U256::from(20_000)
    );
    assert_eq!(
        view(&l1, IRootChain::currentHeaderBlockCall {}, "0x1"),
        U256::ZERO
    );
    let hash = l1_block["hash"].as_str().unwrap().to_string();
    let by_hash = rpc(
        &l1,
        "eth_call",
        json!([{"to": l1.root_chain().to_string(), "data": hex::encode_prefixed(IRootChain::currentHeaderBlockCall {}.abi_encode())}, {"blockHash": hash}]),
    );
    assert_eq!(
        U256::from_str_radix(&by_hash["result"].as_str().unwrap()[2..], 16).unwrap(),
        U256::from(20_000)
    );
}

#[test]
fn new_header_block_logs_decode_into_the_checkpoints() {
    let l1 = devnet();
    let submitted = submit_three(&l1);
    let answer = rpc(
        &l1,
        "eth_getLogs",
        json!([{
            "fromBlock": "earliest",
            "toBlock": "latest",
            "address": l1.root_chain().to_string(),
            "topics": [NEW_HEADER_BLOCK_TOPIC.to_string()],
        }]),
    );
    let logs = answer["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(logs.len(), 3);
    for (index, log) in logs.iter().enumerate() {
        let topics: Vec<B256> = log["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().parse().unwrap())
            .collect();
        let data = hex::decode(log["data"].as_str().unwrap()).unwrap();
        let event = IRootChain::NewHeaderBlock::decode_raw_log(topics, &data).unwrap();
        let (proposer, start, end, root) = checkpoint(index as u8);
        assert_eq!(event.proposer, proposer);
        assert_eq!(event.headerBlockId, U256::from(10_000 * (index as u64 + 1)));
        assert_eq!(event.reward, U256::ZERO);
        assert_eq!(
            (event.start, event.end, event.root),
            (U256::from(start), U256::from(end), root)
        );
        assert_eq!(
            log["transactionHash"],
            json!(submitted[index].tx_hash.to_string())
        );
        assert_eq!(
            log["blockNumber"],
            json!(format!("{:#x}", submitted[index].l1_block))
        );
        assert_eq!(log["address"], json!(hex::encode_prefixed(l1.root_chain())));
        assert_eq!(log["removed"], json!(false));
        assert_eq!(log["logIndex"], json!("0x0"));
        assert_eq!(log["transactionIndex"], json!("0x0"));
    }

    // Topic filters: the header block id is topic 2; OR lists and null wildcards.
    let id = |n: u64| B256::from(U256::from(n)).to_string();
    let picked = rpc(
        &l1,
        "eth_getLogs",
        json!([{
            "fromBlock": "0x0",
            "topics": [null, null, [id(10_000), id(30_000)]],
        }]),
    )["result"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(picked, 2);
    let by_proposer = B256::left_padding_from(checkpoint(1).0.as_slice()).to_string();
    let one = rpc(
        &l1,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "topics": [null, by_proposer]}]),
    );
    assert_eq!(one["result"].as_array().unwrap().len(), 1);
    let elsewhere = rpc(
        &l1,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "address": [Address::ZERO.to_string()]}]),
    );
    assert_eq!(elsewhere["result"], json!([]));
    let range = rpc(
        &l1,
        "eth_getLogs",
        json!([{"fromBlock": "0x3", "toBlock": "0x3"}]),
    );
    assert_eq!(range["result"].as_array().unwrap().len(), 1);
    let latest_only = rpc(&l1, "eth_getLogs", json!([{}]));
    assert_eq!(latest_only["result"].as_array().unwrap().len(), 1);
    let block_hash =
        rpc(&l1, "eth_getBlockByNumber", json!(["0x2", false]))["result"]["hash"].clone();
    let by_hash = rpc(&l1, "eth_getLogs", json!([{"blockHash": block_hash}]));
    assert_eq!(by_hash["result"][0]["data"], logs[0]["data"]);
    let reversed = rpc(
        &l1,
        "eth_getLogs",
        json!([{"fromBlock": "0x3", "toBlock": "0x2"}]),
    );
    assert_eq!(reversed["error"]["code"], -32000);
}

#[test]
fn a_gap_or_an_empty_range_is_rejected_with_the_revert_reason_and_not_mined() {
    let l1 = devnet();
    l1.submit_checkpoint(
        Address::repeat_byte(1),
        0,
        99,
        B256::repeat_byte(1),
        GENESIS_TIME + 60,
    )
    .unwrap();
    let head = l1.block_number();

    let gap = l1.submit_checkpoint(
        Address::repeat_byte(1),
        101,
        200,
        B256::repeat_byte(2),
        GENESIS_TIME + 70,
    );
    match gap {
        Err(L1Error::Reverted { reason, .. }) => assert_eq!(reason, "INCORRECT_HEADER_DATA"),
        other => panic!("expected a revert, got {other:?}"),
    }
    let backwards = l1.submit_checkpoint(
        Address::repeat_byte(1),
        100,
        99,
        B256::repeat_byte(2),
        GENESIS_TIME + 70,
    );
    match backwards {
        Err(L1Error::Reverted { reason, .. }) => assert_eq!(reason, "NOT_ADDING_BLOCKS"),
        other => panic!("expected a revert, got {other:?}"),
    }
    assert_eq!(l1.block_number(), head);
    assert_eq!(
        view(&l1, IRootChain::currentHeaderBlockCall {}, "latest"),
        U256::from(10_000)
    );
    // The nonce was not consumed: the next good checkpoint still goes through.
    let next = l1
        .submit_checkpoint(
            Address::repeat_byte(1),
            100,
            200,
            B256::repeat_byte(2),
            GENESIS_TIME + 80,
        )
        .unwrap();
    assert_eq!(next.header_block_id, 20_000);

    // A first checkpoint must start at 0.
    let fresh = devnet();
    let late_start =
        fresh.submit_checkpoint(Address::repeat_byte(1), 1, 9, B256::ZERO, GENESIS_TIME + 60);
    assert!(
        matches!(late_start, Err(L1Error::Reverted { ref reason, .. }) if reason == "INCORRECT_HEADER_DATA")
    );
}

fn submit_calldata(bor_chain_id: u64, start: u64) -> String {
    let data = (
        Address::repeat_byte(1),
        U256::from(start),
        U256::from(start + 9),
        B256::ZERO,
        B256::ZERO,
        U256::from(bor_chain_id),
    )
        .abi_encode_params();
    let call = IRootChain::submitCheckpointCall {
        data: Bytes::from(data),
        sigs: vec![],
    };
    hex::encode_prefixed(call.abi_encode())
}

#[test]
fn wrong_bor_chain_id_and_strangers_revert_like_geth_reports_it() {
    let l1 = devnet();
    let to = l1.root_chain().to_string();
    let from = l1.checkpointer().to_string();

    let wrong_chain = rpc(
        &l1,
        "eth_call",
        json!([{"from": from, "to": to, "input": submit_calldata(137, 0)}, "latest"]),
    );
    assert_eq!(wrong_chain["error"]["code"], 3);
    assert_eq!(
        wrong_chain["error"]["message"],
        "execution reverted: Invalid bor chain id"
    );
    let revert_data = hex::decode(wrong_chain["error"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        hypasis_devnet_l1::contract::revert_reason(&revert_data).as_deref(),
        Some("Invalid bor chain id")
    );

    let right_chain = rpc(
        &l1,
        "eth_call",
        json!([{"from": from, "to": to, "input": submit_calldata(BOR_CHAIN_ID, 0)}]),
    );
    assert_eq!(right_chain["result"], "0x", "{right_chain}");

    let stranger = rpc(
        &l1,
        "eth_call",
        json!([{"to": to, "input": submit_calldata(BOR_CHAIN_ID, 0)}]),
    );
    assert_eq!(
        stranger["error"]["message"],
        "execution reverted: UNAUTHORIZED_CHECKPOINTER"
    );

    let dead = IRootChain::submitHeaderBlockCall {
        data: Bytes::new(),
        sigs: Bytes::new(),
    };
    let dead = rpc(
        &l1,
        "eth_call",
        json!([{"from": from, "to": to, "input": hex::encode_prefixed(dead.abi_encode())}]),
    );
    assert_eq!(
        dead["error"],
        json!({"code": 3, "message": "execution reverted", "data": "0x"})
    );
}
