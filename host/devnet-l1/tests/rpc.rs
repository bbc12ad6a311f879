//! The JSON-RPC surface: envelopes, batches and errors as geth answers them, and blocks whose
//! hashes and roots can be recomputed from what the API returns.

use alloy_consensus::{
    Header, Receipt, ReceiptEnvelope, Signed, TxEip1559, TxEnvelope,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, Log, Signature, TxKind, U256, hex};
use hypasis_devnet_l1::{L1Config, L1Devnet};
use serde_json::{Value, json};

fn devnet_with_checkpoints() -> L1Devnet {
    let l1 = L1Devnet::new(L1Config::new(80002)).unwrap();
    l1.submit_checkpoint(Address::repeat_byte(1), 0, 63, B256::repeat_byte(1), 100)
        .unwrap();
    l1.mine_block(112);
    l1.submit_checkpoint(Address::repeat_byte(2), 64, 127, B256::repeat_byte(2), 124)
        .unwrap();
    l1
}

fn rpc(l1: &L1Devnet, method: &str, params: Value) -> Value {
    l1.rpc(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
}

fn result(l1: &L1Devnet, method: &str, params: Value) -> Value {
    let answer = rpc(l1, method, params);
    assert!(answer.get("error").is_none(), "{method} failed: {answer}");
    answer["result"].clone()
}

fn error(l1: &L1Devnet, method: &str, params: Value) -> (i64, String) {
    let answer = rpc(l1, method, params);
    let error = &answer["error"];
    (
        error["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error: {answer}")),
        error["message"].as_str().unwrap().to_string(),
    )
}

fn u64_of(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn u256_of(value: &Value) -> U256 {
    U256::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn b256_of(value: &Value) -> B256 {
    value.as_str().unwrap().parse().unwrap()
}

fn bytes_of(value: &Value) -> Bytes {
    hex::decode(value.as_str().unwrap()).unwrap().into()
}

fn address_of(value: &Value) -> Address {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn chain_id_net_version_and_block_number() {
    let l1 = devnet_with_checkpoints();
    assert_eq!(result(&l1, "eth_chainId", json!([])), "0x539");
    assert_eq!(result(&l1, "net_version", Value::Null), "1337");
    assert_eq!(result(&l1, "eth_blockNumber", json!([])), "0x4");
    assert_eq!(l1.block_number(), 4);
    assert_eq!(l1.mine_block(0), 5);
    assert_eq!(result(&l1, "eth_blockNumber", json!([])), "0x5");
}

#[test]
fn unknown_methods_and_malformed_requests_get_geth_errors() {
    let l1 = devnet_with_checkpoints();
    assert_eq!(
        l1.rpc(&json!({"jsonrpc": "2.0", "id": 7, "method": "eth_sendTransaction", "params": []})),
        json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "the method eth_sendTransaction does not exist/is not available"}})
    );
    // geth's code and message; what exactly was wrong goes in `data`.
    let parse: Value =
        serde_json::from_str(&l1.rpc_text("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": "))
            .unwrap();
    assert_eq!(parse["id"], Value::Null);
    assert_eq!(parse["error"]["code"], -32700);
    assert_eq!(parse["error"]["message"], "parse error");
    let invalid = |id: Value, reason: &str| json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "invalid request", "data": reason}});
    assert_eq!(
        l1.rpc(&json!(42)),
        invalid(Value::Null, "not a request object")
    );
    assert_eq!(
        l1.rpc(&json!({"jsonrpc": "2.0", "id": {}, "method": "eth_chainId"})),
        invalid(Value::Null, "`id` must be a number, a string or null")
    );
    assert_eq!(
        l1.rpc(&json!({"jsonrpc": "1.0", "id": "x", "method": "eth_chainId"})),
        invalid(json!("x"), "`jsonrpc` must be \"2.0\"")
    );
    assert_eq!(
        l1.rpc(&json!([])),
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "empty batch"}})
    );
    // Notifications get no answer.
    assert_eq!(
        l1.rpc(&json!({"jsonrpc": "2.0", "method": "eth_chainId"})),
        Value::Null
    );
    assert_eq!(
        l1.rpc_text(r#"{"jsonrpc":"2.0","method":"eth_chainId"}"#),
        ""
    );
    // A text request goes through the same path.
    assert_eq!(
        l1.rpc_text(r#"{"jsonrpc":"2.0","id":3,"method":"eth_chainId"}"#),
        r#"{"jsonrpc":"2.0","id":3,"result":"0x539"}"#
    );
}

#[test]
fn bad_params_are_32602_with_the_argument_named() {
    let l1 = devnet_with_checkpoints();
    let cases = [
        (
            "eth_getBlockByNumber",
            json!(["0x01", false]),
            "invalid argument 0: hex number with leading zero digits",
        ),
        (
            "eth_getBlockByNumber",
            json!(["4", false]),
            "invalid argument 0: hex string without 0x prefix",
        ),
        (
            "eth_getBlockByNumber",
            json!(["latest"]),
            "missing value for required argument 1",
        ),
        (
            "eth_getBlockByHash",
            json!(["0x1234", true]),
            "invalid argument 0: hex string has length 4, want 64 for common.Hash",
        ),
        (
            "eth_chainId",
            json!([1]),
            "too many arguments, want at most 0",
        ),
        ("eth_blockNumber", json!({"a": 1}), "non-array args"),
        (
            "eth_getLogs",
            json!([{"topics": [null, null, null, null, null]}]),
            "invalid argument 0: exceed max topics",
        ),
        (
            "eth_call",
            json!([{"to": "0x12"}]),
            "invalid argument 0: hex string has length 2, want 40 for common.Address",
        ),
        (
            "eth_getTransactionReceipt",
            json!([]),
            "missing value for required argument 0",
        ),
    ];
    for (method, params, message) in cases {
        assert_eq!(
            error(&l1, method, params.clone()),
            (-32602, message.to_string()),
            "{method} {params}"
        );
    }
}

#[test]
fn batches_answer_in_order_and_skip_notifications() {
    let l1 = devnet_with_checkpoints();
    let answer = l1.rpc(&json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": "two", "method": "nope_nothing", "params": []},
        17,
        {"jsonrpc": "2.0", "id": 3, "method": "eth_chainId", "params": []},
    ]));
    assert_eq!(
        answer,
        json!([
            {"jsonrpc": "2.0", "id": 1, "result": "0x4"},
            {"jsonrpc": "2.0", "id": "two", "error": {"code": -32601, "message": "the method nope_nothing does not exist/is not available"}},
            {"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "invalid request", "data": "not a request object"}},
            {"jsonrpc": "2.0", "id": 3, "result": "0x539"},
        ])
    );
    assert_eq!(
        l1.rpc(&json!([{"jsonrpc": "2.0", "method": "eth_chainId"}])),
        Value::Null
    );
}

#[test]
fn block_tags_numbers_and_hashes() {
    let l1 = devnet_with_checkpoints();
    let latest = result(&l1, "eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(latest["number"], "0x4");
    for tag in ["pending", "safe", "finalized", "0x4"] {
        assert_eq!(
            result(&l1, "eth_getBlockByNumber", json!([tag, false])),
            latest,
            "{tag}"
        );
    }
    let genesis = result(&l1, "eth_getBlockByNumber", json!(["earliest", false]));
    assert_eq!(genesis["number"], "0x0");
    assert_eq!(genesis["parentHash"], json!(B256::ZERO.to_string()));
    assert_eq!(genesis["transactions"], json!([]));
    assert_eq!(
        result(&l1, "eth_getBlockByNumber", json!(["0x5", false])),
        Value::Null
    );
    assert_eq!(
        result(&l1, "eth_getBlockByHash", json!([latest["hash"], false])),
        latest
    );
    assert_eq!(
        result(
            &l1,
            "eth_getBlockByHash",
            json!([B256::repeat_byte(9).to_string(), false])
        ),
        Value::Null
    );
    assert_eq!(
        result(
            &l1,
            "eth_getTransactionReceipt",
            json!([B256::repeat_byte(9).to_string()])
        ),
        Value::Null
    );
    assert_eq!(
        error(
            &l1,
            "eth_call",
            json!([{"to": Address::ZERO.to_string()}, "0x9"])
        ),
        (-32000, "header not found".to_string())
    );

    let keys: Vec<&str> = latest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "baseFeePerGas",
            "blobGasUsed",
            "difficulty",
            "excessBlobGas",
            "extraData",
            "gasLimit",
            "gasUsed",
            "hash",
            "logsBloom",
            "miner",
            "mixHash",
            "nonce",
            "number",
            "parentBeaconBlockRoot",
            "parentHash",
            "receiptsRoot",
            "sha3Uncles",
            "size",
            "stateRoot",
            "timestamp",
            "transactions",
            "transactionsRoot",
            "uncles",
            "withdrawals",
            "withdrawalsRoot",
        ]
    );
    assert_eq!(latest["nonce"], "0x0000000000000000");
    assert_eq!(latest["difficulty"], "0x0");
}

/// Rebuilds a header from its JSON.
fn header_of(block: &Value) -> Header {
    Header {
        parent_hash: b256_of(&block["parentHash"]),
        ommers_hash: b256_of(&block["sha3Uncles"]),
        beneficiary: address_of(&block["miner"]),
        state_root: b256_of(&block["stateRoot"]),
        transactions_root: b256_of(&block["transactionsRoot"]),
        receipts_root: b256_of(&block["receiptsRoot"]),
        logs_bloom: Bloom::from_slice(&bytes_of(&block["logsBloom"])),
        difficulty: u256_of(&block["difficulty"]),
        number: u64_of(&block["number"]),
        gas_limit: u64_of(&block["gasLimit"]),
        gas_used: u64_of(&block["gasUsed"]),
        timestamp: u64_of(&block["timestamp"]),
        extra_data: bytes_of(&block["extraData"]),
        mix_hash: b256_of(&block["mixHash"]),
        nonce: B64::from_slice(&bytes_of(&block["nonce"])),
        base_fee_per_gas: Some(u64_of(&block["baseFeePerGas"])),
        withdrawals_root: Some(b256_of(&block["withdrawalsRoot"])),
        blob_gas_used: Some(u64_of(&block["blobGasUsed"])),
        excess_blob_gas: Some(u64_of(&block["excessBlobGas"])),
        parent_beacon_block_root: Some(b256_of(&block["parentBeaconBlockRoot"])),
        ..Default::default()
    }
}

/// Rebuilds a signed transaction from its JSON.
fn transaction_of(tx: &Value) -> TxEnvelope {
    assert_eq!(tx["type"], "0x2");
    let unsigned = TxEip1559 {
        chain_id: u64_of(&tx["chainId"]),
        nonce: u64_of(&tx["nonce"]),
        gas_limit: u64_of(&tx["gas"]),
        max_fee_per_gas: u64_of(&tx["maxFeePerGas"]).into(),
        max_priority_fee_per_gas: u64_of(&tx["maxPriorityFeePerGas"]).into(),
        to: if tx["to"].is_null() {
            TxKind::Create
        } else {
            TxKind::Call(address_of(&tx["to"]))
        },
        value: u256_of(&tx["value"]),
        access_list: Default::default(),
        input: bytes_of(&tx["input"]),
    };
    let signature = Signature::new(u256_of(&tx["r"]), u256_of(&tx["s"]), tx["yParity"] == "0x1");
    TxEnvelope::Eip1559(Signed::new_unhashed(unsigned, signature))
}

/// Rebuilds a receipt from its JSON.
fn receipt_of(receipt: &Value) -> ReceiptEnvelope {
    let logs = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|log| {
            let topics = log["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(b256_of)
                .collect();
            Log::new(address_of(&log["address"]), topics, bytes_of(&log["data"])).unwrap()
        })
        .collect();
    let receipt = Receipt {
        status: (receipt["status"] == "0x1").into(),
        cumulative_gas_used: u64_of(&receipt["cumulativeGasUsed"]),
        logs,
    };
    ReceiptEnvelope::Eip1559(receipt.with_bloom())
}

#[test]
fn headers_hash_to_their_rlp_and_commit_to_their_transactions_and_receipts() {
    let l1 = devnet_with_checkpoints();
    let mut parent_hash = B256::ZERO;
    let mut parent_state = B256::ZERO;
    for number in 0..=l1.block_number() {
        let block = result(
            &l1,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        );
        let header = header_of(&block);
        assert_eq!(
            header.hash_slow(),
            b256_of(&block["hash"]),
            "block {number}"
        );
        assert_eq!(header.parent_hash, parent_hash);
        let transactions: Vec<TxEnvelope> = block["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(transaction_of)
            .collect();
        assert_eq!(
            calculate_transaction_root(&transactions),
            header.transactions_root,
            "block {number}"
        );
        let mut receipts = Vec::new();
        for (tx, json_tx) in transactions
            .iter()
            .zip(block["transactions"].as_array().unwrap())
        {
            assert_eq!(json_tx["hash"], json!(tx.tx_hash().to_string()));
            let receipt = result(&l1, "eth_getTransactionReceipt", json!([json_tx["hash"]]));
            assert_eq!(receipt["blockHash"], block["hash"]);
            assert_eq!(receipt["from"], json_tx["from"]);
            receipts.push(receipt_of(&receipt));
        }
        assert_eq!(
            calculate_receipt_root(&receipts),
            header.receipts_root,
            "block {number}"
        );
        let bloom = receipts
            .iter()
            .fold(Bloom::ZERO, |bloom, receipt| bloom | *receipt.logs_bloom());
        assert_eq!(bloom, header.logs_bloom);
        // Only blocks with transactions change the state.
        if transactions.is_empty() && number > 0 {
            assert_eq!(header.state_root, parent_state);
        } else {
            assert_ne!(header.state_root, parent_state);
        }
        let hashes = result(
            &l1,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        );
        let tx_hashes: Vec<Value> = block["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tx| tx["hash"].clone())
            .collect();
        assert_eq!(hashes["transactions"], json!(tx_hashes));
        assert_eq!(u64_of(&block["size"]), u64_of(&hashes["size"]));
        parent_hash = header.hash_slow();
        parent_state = header.state_root;
    }
}

#[test]
fn receipts_transactions_and_account_reads() {
    let l1 = devnet_with_checkpoints();
    let block = result(&l1, "eth_getBlockByNumber", json!(["0x4", true]));
    let tx = &block["transactions"][0];
    assert_eq!(tx["from"], json!(hex::encode_prefixed(l1.checkpointer())));
    assert_eq!(tx["to"], json!(hex::encode_prefixed(l1.root_chain())));
    assert_eq!(tx["nonce"], "0x2");
    assert_eq!(
        result(&l1, "eth_getTransactionByHash", json!([tx["hash"]])),
        *tx
    );
    let receipt = result(&l1, "eth_getTransactionReceipt", json!([tx["hash"]]));
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["type"], "0x2");
    assert_eq!(receipt["gasUsed"], receipt["cumulativeGasUsed"]);
    assert_eq!(receipt["gasUsed"], block["gasUsed"]);
    assert_eq!(receipt["effectiveGasPrice"], tx["gasPrice"]);
    assert_eq!(receipt["logs"].as_array().unwrap().len(), 1);
    assert_eq!(receipt["logs"][0]["blockTimestamp"], block["timestamp"]);

    let checkpointer = l1.checkpointer().to_string();
    assert_eq!(
        result(
            &l1,
            "eth_getTransactionCount",
            json!([checkpointer, "latest"])
        ),
        "0x3"
    );
    assert_eq!(
        result(&l1, "eth_getTransactionCount", json!([checkpointer, "0x1"])),
        "0x1"
    );
    let balance = u256_of(&result(&l1, "eth_getBalance", json!([checkpointer])));
    let funded = u256_of(&result(
        &l1,
        "eth_getBalance",
        json!([checkpointer, "earliest"]),
    ));
    assert_eq!(funded, U256::from(10).pow(U256::from(24)));
    assert!(balance < funded);
    // RootChain keeps Polygon's slots: _nextHeaderBlock is slot 3, the owner slot 0.
    let root_chain = l1.root_chain().to_string();
    assert_eq!(
        result(
            &l1,
            "eth_getStorageAt",
            json!([root_chain, "0x3", "latest"])
        ),
        json!(B256::from(U256::from(30_000)).to_string())
    );
    assert_eq!(
        result(&l1, "eth_getStorageAt", json!([root_chain, "0x0"])),
        json!(B256::left_padding_from(l1.checkpointer().as_slice()).to_string())
    );
}

#[test]
fn empty_blocks_advance_time_and_lower_the_base_fee() {
    let l1 = L1Devnet::new(L1Config {
        genesis_timestamp: 1000,
        ..L1Config::new(137)
    })
    .unwrap();
    let deploy = result(&l1, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(deploy["timestamp"], json!(format!("{:#x}", 1012)));
    // A timestamp at or before the parent's is raised to one second after it.
    let number = l1.mine_block(5);
    let block = result(
        &l1,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    );
    assert_eq!(u64_of(&block["timestamp"]), 1013);
    assert_eq!(block["transactions"], json!([]));
    assert_eq!(block["gasUsed"], "0x0");
    let next = result(
        &l1,
        "eth_getBlockByNumber",
        json!([format!("{:#x}", l1.mine_block(2000)), false]),
    );
    assert_eq!(u64_of(&next["timestamp"]), 2000);
    assert!(u64_of(&next["baseFeePerGas"]) < u64_of(&block["baseFeePerGas"]));
}

#[test]
fn states_older_than_128_blocks_are_pruned_like_a_geth_full_node() {
    let l1 = devnet_with_checkpoints();
    let checkpointer = l1.checkpointer().to_string();
    for _ in 0..130 {
        l1.mine_block(0);
    }
    let head = l1.block_number();
    assert_eq!(head, 134);
    let (code, message) = error(&l1, "eth_getBalance", json!([checkpointer, "0x1"]));
    assert_eq!(code, -32000);
    assert!(message.starts_with("historical state 0x"), "{message}");
    assert!(message.ends_with(" is not available"), "{message}");
    // The oldest kept state is head - 127; blocks and logs stay available for good.
    assert!(
        rpc(
            &l1,
            "eth_getBalance",
            json!([checkpointer, format!("{:#x}", head - 127)])
        )["result"]
            .is_string()
    );
    assert!(
        rpc(
            &l1,
            "eth_getBalance",
            json!([checkpointer, format!("{:#x}", head - 128)])
        )["error"]
            .is_object()
    );
    assert_eq!(
        result(&l1, "eth_getBlockByNumber", json!(["0x1", false]))["number"],
        "0x1"
    );
    let logs = result(&l1, "eth_getLogs", json!([{"fromBlock": "earliest"}]));
    assert_eq!(logs.as_array().unwrap().len(), 2);
    // Calls at the head still work.
    assert_eq!(
        result(&l1, "eth_getTransactionCount", json!([checkpointer])),
        "0x3"
    );
}
