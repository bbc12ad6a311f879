//! Heimdall v2's REST API over the devnet: checkpoints, milestones, spans,
//! in heimdall-v2's JSON shapes (numbers as strings, bytes as base64,
//! gRPC-gateway error bodies).

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use base64::{Engine, engine::general_purpose::STANDARD};
use parking_lot::RwLock;
use secp256k1::SECP256K1;
use serde_json::{Value, json};

use crate::{
    chain::{Chain, Milestone},
    generator::DevValidator,
    http::HttpResponse,
};

/// A checkpoint Heimdall agreed on and L1 accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// Heimdall's 1-based checkpoint number.
    pub id: u64,
    /// Proposer address.
    pub proposer: Address,
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// Root hash.
    pub root: B256,
    /// Seconds since the epoch when Heimdall recorded it.
    pub timestamp: u64,
    /// The RootChain header-block id (`id × 10,000`).
    pub header_block_id: u64,
}

/// Checkpoints accepted so far, shared by the checkpointer and the servers.
pub type Checkpoints = Arc<RwLock<Vec<CheckpointRecord>>>;

/// Heimdall's REST view of the devnet.
#[derive(Clone)]
pub struct HeimdallApi {
    chain: Arc<RwLock<Chain>>,
    checkpoints: Checkpoints,
    avg_checkpoint_length: u64,
    max_checkpoint_length: u64,
    root_chain: Address,
}

fn error(status: u16, code: u64, message: String) -> HttpResponse {
    HttpResponse::json(
        status,
        &json!({ "code": code, "message": message, "details": [] }),
    )
}

fn ok(value: Value) -> HttpResponse {
    HttpResponse::json(200, &value)
}

fn checkpoint_json(checkpoint: &CheckpointRecord, chain_id: u64) -> Value {
    json!({
        "id": checkpoint.id.to_string(),
        "proposer": format!("{:#x}", checkpoint.proposer),
        "start_block": checkpoint.start.to_string(),
        "end_block": checkpoint.end.to_string(),
        "root_hash": STANDARD.encode(checkpoint.root),
        "bor_chain_id": chain_id.to_string(),
        "timestamp": checkpoint.timestamp.to_string(),
    })
}

fn milestone_json(milestone: &Milestone, proposer: Address, chain_id: u64) -> Value {
    json!({
        "proposer": format!("{proposer:#x}"),
        "start_block": milestone.start.to_string(),
        "end_block": milestone.end.to_string(),
        "hash": STANDARD.encode(milestone.hash),
        "bor_chain_id": chain_id.to_string(),
        "milestone_id": format!("{:x}", milestone.hash),
        "timestamp": milestone.timestamp.to_string(),
        "total_difficulty": milestone.total_difficulty.to_string(),
    })
}

fn validator_json(validator: &DevValidator, priority: i64) -> Value {
    let public = validator.key.public_key(SECP256K1).serialize_uncompressed();
    json!({
        "val_id": validator.id.to_string(),
        "start_epoch": "0",
        "end_epoch": "0",
        "nonce": "1",
        "voting_power": validator.power.to_string(),
        "pub_key": STANDARD.encode(public),
        "signer": format!("{:#x}", validator.address),
        "last_updated": "0",
        "jailed": false,
        "proposer_priority": priority.to_string(),
    })
}

impl HeimdallApi {
    /// The API over `chain` and `checkpoints`, reporting these checkpoint
    /// params and the RootChain address in the chain spec it serves.
    pub fn new(
        chain: Arc<RwLock<Chain>>,
        checkpoints: Checkpoints,
        avg_checkpoint_length: u64,
        max_checkpoint_length: u64,
        root_chain: Address,
    ) -> Self {
        HeimdallApi {
            chain,
            checkpoints,
            avg_checkpoint_length,
            max_checkpoint_length,
            root_chain,
        }
    }

    fn span_json(&self, chain: &Chain, id: u64) -> Value {
        let generator = chain.generator();
        let spec = generator.spec();
        let (start, end) = spec.span_range(id);
        let producers = generator.span_producers(id);
        let validators: Vec<Value> = generator
            .validators()
            .iter()
            .map(|validator| validator_json(validator, 0))
            .collect();
        let total: u64 = generator
            .validators()
            .iter()
            .map(|validator| validator.power)
            .sum();
        json!({
            "span": {
                "id": id.to_string(),
                "start_block": start.to_string(),
                "end_block": end.to_string(),
                "validator_set": {
                    "validators": validators,
                    "proposer": validator_json(&generator.validators()[0], 0),
                    "total_voting_power": total.to_string(),
                },
                "selected_producers": producers.iter().map(|validator| validator_json(validator, 0)).collect::<Vec<_>>(),
                "bor_chain_id": spec.chain_id.to_string(),
            }
        })
    }

    /// The newest span Heimdall has committed: the one after the head's.
    fn latest_span(&self, chain: &Chain) -> u64 {
        chain.generator().spec().span_id(chain.head().number()) + 1
    }

    /// Answers `GET path`.
    pub fn get(&self, path: &str) -> HttpResponse {
        let chain = self.chain.read();
        let spec = chain.generator().spec();
        let chain_id = spec.chain_id;
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let proposer_of = |index: u64| {
            let validators = chain.generator().validators();
            validators[(index as usize) % validators.len()].address
        };
        match segments.as_slice() {
            ["hypasis", "chain-spec"] => {
                let mut spec = spec.clone();
                spec.l1.root_chain = self.root_chain;
                ok(serde_json::to_value(spec).unwrap_or(Value::Null))
            }
            ["checkpoints", "params"] => ok(json!({ "params": {
                "checkpoint_buffer_time": "1000s",
                "avg_checkpoint_length": self.avg_checkpoint_length.to_string(),
                "max_checkpoint_length": self.max_checkpoint_length.to_string(),
                "child_chain_block_interval": "10000",
            }})),
            ["checkpoints", "count"] => {
                ok(json!({ "ack_count": self.checkpoints.read().len().to_string() }))
            }
            ["checkpoints", "latest"] => match self.checkpoints.read().last() {
                Some(checkpoint) => {
                    ok(json!({ "checkpoint": checkpoint_json(checkpoint, chain_id) }))
                }
                None => error(500, 13, "no checkpoint found".into()),
            },
            ["checkpoints", number] => {
                let found = number.parse::<u64>().ok().and_then(|number| {
                    self.checkpoints
                        .read()
                        .iter()
                        .find(|checkpoint| checkpoint.id == number)
                        .cloned()
                });
                match found {
                    Some(checkpoint) => {
                        ok(json!({ "checkpoint": checkpoint_json(&checkpoint, chain_id) }))
                    }
                    None => error(
                        500,
                        13,
                        format!(
                            "collections: not found: key '{number}' of type github.com/cosmos/gogoproto/heimdallv2.checkpoint.Checkpoint"
                        ),
                    ),
                }
            }
            ["milestones", "count"] => ok(json!({ "count": chain.milestones().len().to_string() })),
            ["milestones", "latest"] => match chain.milestones().last() {
                Some(milestone) => ok(
                    json!({ "milestone": milestone_json(milestone, proposer_of(milestone.number), chain_id) }),
                ),
                None => error(404, 5, "milestone number out of range".into()),
            },
            ["milestones", number] => {
                let found = number
                    .parse::<usize>()
                    .ok()
                    .filter(|number| *number >= 1)
                    .and_then(|number| chain.milestones().get(number - 1));
                match found {
                    Some(milestone) => ok(
                        json!({ "milestone": milestone_json(milestone, proposer_of(milestone.number), chain_id) }),
                    ),
                    None => error(404, 5, "milestone number out of range".into()),
                }
            }
            ["bor", "params"] => ok(json!({ "params": {
                "sprint_duration": spec.sprint(chain.head().number()).to_string(),
                "span_duration": spec.bor.span_length.to_string(),
                "producer_count": chain.generator().config().producers_per_span.to_string(),
            }})),
            ["bor", "spans", "latest"] => ok(self.span_json(&chain, self.latest_span(&chain))),
            ["bor", "spans", id] => match id.parse::<u64>() {
                Ok(id) if id <= self.latest_span(&chain) => ok(self.span_json(&chain, id)),
                Ok(id) => error(500, 13, format!("span not found for id: {id}")),
                Err(_) => error(
                    500,
                    13,
                    format!("strconv.Atoi: parsing \"{id}\": invalid syntax"),
                ),
            },
            _ => error(501, 12, format!("Not Implemented: {path}")),
        }
    }
}
