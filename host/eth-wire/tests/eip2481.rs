//! Every request/response encoding example of EIP-2481
//! (`testdata/devp2p/eip2481-messages.json`), byte for byte, on both
//! versions: decoded by id, re-encoded, and — for the raw items — checked
//! against the hashes the EIP gives.

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, keccak256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use hypasis_eth_wire::{
    EthMessage, EthVersion, GetBlockBodies, GetBlockHeaders, GetPooledTransactions, GetReceipts,
    HashOrNumber, MessageError, RawRlp, Receipt69, RequestPair, decode_block_receipts_69,
    encode_raw_response, receipts_68_to_69,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    #[serde(rename = "type")]
    kind: String,
    rlp: String,
    data: Value,
    message_id: u64,
}

fn load() -> Vec<Vector> {
    let path = format!(
        "{}/../../testdata/devp2p/eip2481-messages.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: File = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file.vectors
}

fn bytes(text: &str) -> Vec<u8> {
    hex::decode(text.trim_start_matches("0x")).unwrap()
}

fn hash(value: &Value) -> B256 {
    value.as_str().unwrap().parse().unwrap()
}

fn hashes(value: &Value) -> Vec<B256> {
    value.as_array().unwrap().iter().map(hash).collect()
}

fn number(value: &Value) -> u64 {
    match value {
        Value::Number(number) => number.as_u64().unwrap(),
        Value::String(text) => u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// Decodes `rlp` as message `id` on both versions, checks it is `want`,
/// and that it encodes back to `rlp`.
fn round_trip(id: u64, rlp: &[u8], want: &EthMessage) {
    for version in EthVersion::ALL {
        let got = EthMessage::decode(version, id, rlp).unwrap();
        assert_eq!(&got, want, "{version}");
        assert_eq!(got.encoded(), rlp, "{version}");
    }
}

/// The consensus (eth/68) receipt fields, to read the EIP's legacy receipt.
#[derive(Debug, RlpEncodable, RlpDecodable)]
struct ConsensusReceipt {
    status: Bytes,
    cumulative_gas_used: u64,
    bloom: Bloom,
    logs: Vec<Log>,
}

#[test]
fn every_eip2481_example() {
    let vectors = load();
    let mut checked = Vec::new();
    for vector in &vectors {
        let rlp = bytes(&vector.rlp);
        let data = &vector.data;
        let request_id = number(&data["RequestId"]);
        assert_eq!(request_id, 1111);
        match vector.kind.as_str() {
            "GetBlockHeadersPacket66" => {
                let origin_hash = hash(&data["Origin"]["Hash"]);
                let origin = if origin_hash == B256::ZERO {
                    HashOrNumber::Number(number(&data["Origin"]["Number"]))
                } else {
                    HashOrNumber::Hash(origin_hash)
                };
                let request = GetBlockHeaders {
                    origin,
                    amount: number(&data["Amount"]),
                    skip: number(&data["Skip"]),
                    reverse: data["Reverse"].as_bool().unwrap(),
                };
                let want = EthMessage::GetBlockHeaders(RequestPair::new(request_id, request));
                round_trip(vector.message_id, &rlp, &want);
            }
            "BlockHeadersPacket66" => {
                let message =
                    EthMessage::decode(EthVersion::Eth68, vector.message_id, &rlp).unwrap();
                let EthMessage::BlockHeaders(pair) = &message else {
                    panic!("{message:?}")
                };
                let want_hashes: Vec<B256> = data["BlockHeadersPacket"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|header| hash(&header["hash"]))
                    .collect();
                let got_hashes: Vec<B256> = pair.message.0.iter().map(keccak256).collect();
                assert_eq!(got_hashes, want_hashes);
                assert_eq!(encode_raw_response(request_id, &pair.message.0), rlp);
                round_trip(vector.message_id, &rlp, &message);
            }
            "GetBlockBodiesPacket66" => {
                let want = EthMessage::GetBlockBodies(RequestPair::new(
                    request_id,
                    GetBlockBodies(hashes(&data["GetBlockBodiesPacket"])),
                ));
                round_trip(vector.message_id, &rlp, &want);
            }
            "BlockBodiesPacket66" => {
                let message =
                    EthMessage::decode(EthVersion::Eth68, vector.message_id, &rlp).unwrap();
                let EthMessage::BlockBodies(pair) = &message else {
                    panic!("{message:?}")
                };
                let bodies = data["BlockBodiesPacket"].as_array().unwrap();
                assert_eq!(pair.message.0.len(), bodies.len());
                for (raw, body) in pair.message.0.iter().zip(bodies) {
                    // A body is [transactions, uncles]; check each raw item by its hash.
                    let (txs, uncles): (Vec<RawRlp>, Vec<RawRlp>) = {
                        #[derive(RlpDecodable)]
                        struct Body {
                            txs: Vec<RawRlp>,
                            uncles: Vec<RawRlp>,
                        }
                        let body: Body = alloy_rlp::decode_exact(raw).unwrap();
                        (body.txs, body.uncles)
                    };
                    let tx_hashes: Vec<B256> = txs.iter().map(keccak256).collect();
                    let want: Vec<B256> = body["Transactions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|tx| hash(&tx["hash"]))
                        .collect();
                    assert_eq!(tx_hashes, want);
                    let uncle_hashes: Vec<B256> = uncles.iter().map(keccak256).collect();
                    let want: Vec<B256> = body["Uncles"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|uncle| hash(&uncle["hash"]))
                        .collect();
                    assert_eq!(uncle_hashes, want);
                }
                assert_eq!(encode_raw_response(request_id, &pair.message.0), rlp);
                round_trip(vector.message_id, &rlp, &message);
            }
            "GetNodeDataPacket66" | "NodeDataPacket66" => {
                // Removed in eth/67: not a message of either version we speak.
                for version in EthVersion::ALL {
                    assert!(matches!(
                        EthMessage::decode(version, vector.message_id, &rlp),
                        Err(MessageError::UnknownMessage { .. })
                    ));
                }
                // The EIP-2481 envelope itself still reads and re-encodes.
                let pair: RequestPair<Vec<Bytes>> = alloy_rlp::decode_exact(&rlp).unwrap();
                assert_eq!(pair.request_id, 1111);
                assert_eq!(alloy_rlp::encode(&pair), rlp);
            }
            "GetReceiptsPacket66" => {
                let want = EthMessage::GetReceipts(RequestPair::new(
                    request_id,
                    GetReceipts(hashes(&data["GetReceiptsPacket"])),
                ));
                round_trip(vector.message_id, &rlp, &want);
            }
            "ReceiptsPacket66" => {
                let message =
                    EthMessage::decode(EthVersion::Eth68, vector.message_id, &rlp).unwrap();
                let EthMessage::Receipts(pair) = &message else {
                    panic!("{message:?}")
                };
                let blocks = data["ReceiptsPacket"].as_array().unwrap();
                assert_eq!(pair.message.0.len(), blocks.len());
                for (raw, block) in pair.message.0.iter().zip(blocks) {
                    let receipts: Vec<ConsensusReceipt> = alloy_rlp::decode_exact(raw).unwrap();
                    let want = block.as_array().unwrap();
                    assert_eq!(receipts.len(), want.len());
                    let mut expected_69 = Vec::new();
                    for (receipt, json) in receipts.iter().zip(want) {
                        assert_eq!(number(&json["status"]), 0);
                        assert!(receipt.status.is_empty());
                        assert_eq!(
                            receipt.cumulative_gas_used,
                            number(&json["cumulativeGasUsed"])
                        );
                        assert_eq!(receipt.bloom, Bloom::ZERO);
                        let logs = json["logs"].as_array().unwrap();
                        assert_eq!(receipt.logs.len(), logs.len());
                        for (log, json) in receipt.logs.iter().zip(logs) {
                            let address: Address =
                                json["address"].as_str().unwrap().parse().unwrap();
                            assert_eq!(log.address, address);
                            assert_eq!(log.data.topics(), hashes(&json["topics"]));
                            assert_eq!(
                                log.data.data,
                                Bytes::from(bytes(json["data"].as_str().unwrap()))
                            );
                        }
                        expected_69.push(Receipt69 {
                            tx_type: 0,
                            status: receipt.status.clone(),
                            cumulative_gas_used: receipt.cumulative_gas_used,
                            logs: receipt.logs.clone(),
                        });
                    }
                    // The same block on eth/69: no bloom, type first.
                    let converted = receipts_68_to_69(raw.as_bytes(), None).unwrap();
                    assert_eq!(decode_block_receipts_69(&converted).unwrap(), expected_69);
                    assert_eq!(converted, alloy_rlp::encode(&expected_69));
                }
                assert_eq!(encode_raw_response(request_id, &pair.message.0), rlp);
                round_trip(vector.message_id, &rlp, &message);
            }
            "GetPooledTransactionsPacket66" => {
                let want = EthMessage::GetPooledTransactions(RequestPair::new(
                    request_id,
                    GetPooledTransactions(hashes(&data["GetPooledTransactionsPacket"])),
                ));
                round_trip(vector.message_id, &rlp, &want);
            }
            "PooledTransactionsPacket66" => {
                let message =
                    EthMessage::decode(EthVersion::Eth68, vector.message_id, &rlp).unwrap();
                let EthMessage::PooledTransactions(pair) = &message else {
                    panic!("{message:?}")
                };
                let got: Vec<B256> = pair.message.0.iter().map(keccak256).collect();
                let want: Vec<B256> = data["PooledTransactionsPacket"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|tx| hash(&tx["hash"]))
                    .collect();
                assert_eq!(got, want);
                round_trip(vector.message_id, &rlp, &message);
            }
            other => panic!("vector type {other} not covered"),
        }
        checked.push(vector.kind.clone());
    }
    assert_eq!(checked.len(), 11, "{checked:?}");
}
