//! Reads the devnet back through alloy's JSON-RPC client (and plain HTTP
//! for Heimdall) and checks every block independently of the generator:
//! header hashes and links, seal signers and difficulty against Heimdall's
//! spans, transaction and receipt roots with alloy's own encoders, and every
//! L1 checkpoint's root. The header checks are the same functions the real
//! mainnet data passes (last test).

use std::collections::{BTreeMap, BTreeSet};

use alloy_consensus::{Header, Receipt, ReceiptWithBloom, proofs::ordered_trie_root_with_encoder};
use alloy_eips::eip2718::Encodable2718;
use alloy_network::{AnyNetwork, AnyRpcBlock, AnyTxEnvelope};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter};
use alloy_sol_types::SolEvent;
use hypasis_devnet::{ChainConfig, CheckpointConfig, Devnet, DevnetOptions};
use hypasis_devnet_l1::contract::IRootChain;
use hypasis_polygon::{
    ChainSpec, bor,
    checkpoint::{checkpoint_root, header_leaf},
    state_sync::{StateSyncData, bor_receipt_tx_hash, encode_state_sync_tx},
    valset::ValidatorSet,
};
use serde_json::Value;

/// What the header checks found for one block.
struct CheckedHeader {
    header: Header,
    hash: B256,
    /// The sealer (genesis is not sealed).
    signer: Option<Address>,
}

/// Recomputes a block's hash from its fields and recovers its sealer.
fn check_header(block: &AnyRpcBlock, spec: &ChainSpec) -> CheckedHeader {
    let header: Header = block
        .header
        .inner
        .clone()
        .try_into_header()
        .expect("a complete header");
    let mut rlp = Vec::new();
    header.encode(&mut rlp);
    let hash = keccak256(&rlp);
    assert_eq!(
        hash, block.header.hash,
        "block {}: hash does not match its fields",
        header.number
    );
    let signer = (header.number > 0)
        .then(|| bor::recover_signer(&header, spec).expect("a recoverable seal"));
    CheckedHeader {
        header,
        hash,
        signer,
    }
}

fn check_links(headers: &[CheckedHeader]) {
    for pair in headers.windows(2) {
        assert_eq!(
            pair[1].header.parent_hash, pair[0].hash,
            "block {} does not link",
            pair[1].header.number
        );
    }
}

fn check_checkpoint(headers: &BTreeMap<u64, CheckedHeader>, start: u64, end: u64, root: B256) {
    let leaves: Vec<B256> = (start..=end)
        .map(|number| {
            let header = &headers[&number].header;
            header_leaf(header)
        })
        .collect();
    assert_eq!(
        checkpoint_root(&leaves),
        Some(root),
        "checkpoint {start}..={end}"
    );
}

/// The EIP-2718 bytes of a transaction as the RPC shows it.
fn transaction_bytes(tx: &AnyTxEnvelope) -> Vec<u8> {
    match tx {
        AnyTxEnvelope::Ethereum(envelope) => envelope.encoded_2718(),
        AnyTxEnvelope::Unknown(unknown) => {
            assert_eq!(
                unknown.inner.ty.0, 0x7f,
                "only Bor's state-sync type is expected"
            );
            let events: Vec<Value> = unknown
                .inner
                .fields
                .get_deserialized("stateSyncData")
                .expect("state-sync events")
                .expect("valid");
            let events: Vec<StateSyncData> = events
                .iter()
                .map(|event| StateSyncData {
                    id: u64::from_str_radix(
                        event["id"].as_str().unwrap().trim_start_matches("0x"),
                        16,
                    )
                    .unwrap(),
                    contract: event["contract"].as_str().unwrap().parse().unwrap(),
                    data: event["data"].as_str().unwrap().parse().unwrap(),
                    tx_hash: event["txHash"].as_str().unwrap().parse().unwrap(),
                })
                .collect();
            encode_state_sync_tx(&events)
        }
    }
}

async fn heimdall(url: &str, path: &str) -> Value {
    reqwest::get(format!("{url}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_chain_reads_back_and_verifies() {
    let chain = ChainConfig {
        jaipur_block: 40,
        cancun_block: 300,
        madhugiri_block: 700,
        txs_per_block: 4,
        ..ChainConfig::default()
    };
    let devnet = Devnet::start(DevnetOptions {
        chain,
        checkpoints: CheckpointConfig {
            interval: 128,
            max_length: 512,
            ..CheckpointConfig::default()
        },
        block_time: std::time::Duration::from_secs(3600),
        prefill: 1_100,
        upstreams: 1,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    devnet.set_growing(false);
    let provider = ProviderBuilder::new()
        .network::<AnyNetwork>()
        .connect(&devnet.upstream_urls()[0])
        .await
        .unwrap();
    let spec: ChainSpec =
        serde_json::from_value(heimdall(&devnet.heimdall_url(), "/hypasis/chain-spec").await)
            .unwrap();
    assert_eq!(provider.get_chain_id().await.unwrap(), spec.chain_id);
    let head = provider.get_block_number().await.unwrap();
    assert_eq!(head, 1_100);

    // Bor's snapshot starts from span 0's validator set, as Heimdall reports it.
    let span0 = heimdall(&devnet.heimdall_url(), "/bor/spans/0").await;
    let initial: Vec<(Address, u64)> = span0["span"]["validator_set"]["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|validator| {
            (
                validator["signer"].as_str().unwrap().parse().unwrap(),
                validator["voting_power"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut snapshot = ValidatorSet::new(&initial).unwrap();

    // The producers of every span, from Heimdall.
    let mut producers: BTreeMap<u64, BTreeSet<Address>> = BTreeMap::new();
    for id in 0..=spec.span_id(head) + 1 {
        let span = heimdall(&devnet.heimdall_url(), &format!("/bor/spans/{id}")).await;
        let set = span["span"]["selected_producers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|producer| producer["signer"].as_str().unwrap().parse().unwrap())
            .collect();
        producers.insert(id, set);
    }

    let mut headers = BTreeMap::new();
    let mut checked = Vec::new();
    let (mut typed, mut state_syncs, mut bor_receipts) = (BTreeSet::new(), 0, 0);
    for number in 0..=head {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .full()
            .await
            .unwrap()
            .expect("block exists");
        let header = check_header(&block, &spec);
        if number > 0 {
            let span = spec.span_id(number);
            // The first sprint is sealed from span 0's whole validator set;
            // afterwards by the producers the previous sprint end listed.
            let allowed = &producers[&spec.span_id(number.saturating_sub(1).max(1))];
            let signer = header.signer.expect("sealed");
            assert!(
                allowed.contains(&signer) || producers[&span].contains(&signer),
                "block {number}: sealed by {signer}"
            );
            // Difficulty follows the in-turn rule: n minus the signer's succession.
            let expected = snapshot.difficulty(&signer).unwrap();
            assert_eq!(
                header.header.difficulty,
                U256::from(expected),
                "block {number}: difficulty"
            );
            if spec.is_sprint_end(number) {
                // The listed validators are the next span's producers, and
                // they drive the next sprint's proposer.
                let listed = bor::parse_validators(
                    number,
                    &bor::validator_bytes(&header.header, &spec).unwrap(),
                )
                .unwrap();
                let addresses: BTreeSet<Address> =
                    listed.iter().map(|validator| validator.address).collect();
                assert_eq!(
                    addresses,
                    producers[&spec.span_id(number + 1)],
                    "block {number}: sprint-end validator list"
                );
                let listed: Vec<(Address, u64)> = listed
                    .iter()
                    .map(|validator| (validator.address, validator.power))
                    .collect();
                snapshot.apply_sprint_end(&listed);
            }
        }
        // Transactions root with alloy's encoders; Bor's appended bor
        // transaction (pre-Madhugiri) is not in the root.
        let bor_hash = bor_receipt_tx_hash(number, &header.hash);
        let transactions: Vec<Vec<u8>> = block
            .transactions
            .txns()
            .filter(|tx| tx.inner.inner.trie_hash() != bor_hash)
            .map(|tx| transaction_bytes(tx.inner.inner.inner()))
            .collect();
        for tx in &transactions {
            typed.insert(
                tx.first()
                    .copied()
                    .filter(|first| *first < 0xc0)
                    .unwrap_or(0),
            );
        }
        state_syncs += transactions.iter().filter(|tx| tx[0] == 0x7f).count();
        let root =
            ordered_trie_root_with_encoder(&transactions, |tx, out| out.extend_from_slice(tx));
        assert_eq!(
            root, header.header.transactions_root,
            "block {number}: transactions root"
        );

        let receipts = provider
            .get_block_receipts(number.into())
            .await
            .unwrap()
            .expect("receipts exist");
        let encoded: Vec<Vec<u8>> = receipts
            .iter()
            .filter(|receipt| {
                let is_bor = receipt.transaction_hash == bor_hash;
                bor_receipts += usize::from(is_bor);
                !is_bor
            })
            .map(|receipt| {
                let envelope = &receipt.inner.inner.inner;
                let logs: Vec<alloy_primitives::Log> = envelope
                    .receipt
                    .logs
                    .iter()
                    .map(|log| log.inner.clone())
                    .collect();
                let consensus = ReceiptWithBloom {
                    receipt: Receipt {
                        status: envelope.receipt.status,
                        cumulative_gas_used: envelope.receipt.cumulative_gas_used,
                        logs,
                    },
                    logs_bloom: envelope.logs_bloom,
                };
                let mut out = Vec::new();
                let kind = receipt.inner.inner.r#type;
                if kind != 0 {
                    out.push(kind);
                }
                consensus.encode(&mut out);
                out
            })
            .collect();
        let root =
            ordered_trie_root_with_encoder(&encoded, |receipt, out| out.extend_from_slice(receipt));
        assert_eq!(
            root, header.header.receipts_root,
            "block {number}: receipts root"
        );
        checked.push(number);
        headers.insert(number, header);
    }
    check_links(
        &headers
            .values()
            .map(|checked| CheckedHeader {
                header: checked.header.clone(),
                hash: checked.hash,
                signer: checked.signer,
            })
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        typed,
        BTreeSet::from([0, 1, 2, 0x7f]),
        "legacy, EIP-2930, EIP-1559 and state-sync transactions all appear"
    );
    assert!(
        state_syncs > 0,
        "post-Madhugiri state syncs appear as 0x7F transactions"
    );
    assert!(
        bor_receipts > 0,
        "pre-Madhugiri state syncs appear as bor receipts"
    );

    // Every checkpoint on L1 reproduces from the blocks.
    let l1 = ProviderBuilder::new()
        .connect(&devnet.l1_url())
        .await
        .unwrap();
    let logs = l1
        .get_logs(
            &Filter::new()
                .address(devnet.root_chain())
                .event_signature(IRootChain::NewHeaderBlock::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    assert!(logs.len() >= 2, "checkpoints were posted");
    let mut expected_start = 0;
    for log in &logs {
        let event = IRootChain::NewHeaderBlock::decode_log(&log.inner).unwrap();
        let start: u64 = event.start.to();
        let end: u64 = event.end.to();
        assert_eq!(start, expected_start, "checkpoints are contiguous");
        assert_eq!(
            (end - start + 1) % 128,
            0,
            "lengths are multiples of the interval"
        );
        check_checkpoint(&headers, start, end, event.root);
        expected_start = end + 1;
    }
    let count = heimdall(&devnet.heimdall_url(), "/checkpoints/count").await;
    assert_eq!(count["ack_count"], Value::String(logs.len().to_string()));
    devnet.stop().await;
}

#[test]
fn real_mainnet_blocks_pass_the_same_header_checks() {
    let base = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/polygon/mainnet-checkpoint-96930000");
    let blocks: Vec<AnyRpcBlock> =
        serde_json::from_str(&std::fs::read_to_string(base.join("headers.json")).unwrap()).unwrap();
    let checkpoint: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("checkpoint.json")).unwrap())
            .unwrap();
    let span: Value =
        serde_json::from_str(&std::fs::read_to_string(base.join("span_1536.json")).unwrap())
            .unwrap();
    let producers: BTreeSet<Address> = span["selected_producers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|producer| producer["signer"].as_str().unwrap().parse().unwrap())
        .collect();
    let spec = ChainSpec::mainnet();
    let checked: Vec<CheckedHeader> = blocks
        .iter()
        .map(|block| check_header(block, &spec))
        .collect();
    check_links(&checked);
    for header in &checked {
        assert!(
            header
                .signer
                .is_some_and(|signer| producers.contains(&signer)),
            "block {}",
            header.header.number
        );
    }
    let headers: BTreeMap<u64, CheckedHeader> = checked
        .into_iter()
        .map(|checked| (checked.header.number, checked))
        .collect();
    check_checkpoint(
        &headers,
        checkpoint["start"].as_u64().unwrap(),
        checkpoint["end"].as_u64().unwrap(),
        checkpoint["root"].as_str().unwrap().parse().unwrap(),
    );
}
