//! Fault injection, per upstream endpoint: what a misbehaving Polygon RPC
//! provider does. Settings can be changed at any time (tests hold a
//! [`FaultPlan`]); a script file changes them on a timeline.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{Bytes, U256, keccak256};
use alloy_rlp::Encodable;
use hypasis_polygon::roots::{encode_body, encode_envelopes};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::{block::DevBlock, keys::Stream, txgen::encode_receipt};

/// What part of a block a liar changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TamperTarget {
    /// A header field, by its JSON name (`stateRoot`, `timestamp`, `extraData`, …).
    Header {
        /// The JSON field name.
        field: String,
    },
    /// The value of the transaction at `index`.
    Transaction {
        /// Index in the block.
        index: usize,
    },
    /// The status and gas of the receipt at `index`.
    Receipt {
        /// Index in the block.
        index: usize,
    },
    /// The data of the first log of the receipt at `index`.
    Log {
        /// Index of the receipt.
        index: usize,
    },
}

/// A lie about one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tamper {
    /// The block lied about.
    pub block: u64,
    /// What is changed.
    #[serde(flatten)]
    pub target: TamperTarget,
    /// Also recompute the header hash, so the lie is self-consistent (only
    /// the parent links of the next block, the seal and the roots betray it).
    #[serde(default)]
    pub rehash: bool,
}

/// One endpoint's misbehaviour. Probabilities are in `[0, 1]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSettings {
    /// Delay before every answer.
    #[serde(with = "humantime_serde")]
    pub latency: Option<Duration>,
    /// Share of calls answered with a JSON-RPC internal error.
    pub error_rate: f64,
    /// Share of requests refused with HTTP 429.
    pub rate_limit_rate: f64,
    /// The Retry-After a 429 carries, in seconds.
    pub retry_after_secs: u64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Lies about blocks.
    pub tamper: Vec<Tamper>,
    /// Blocks whose receipts are "not found" (`eth_getBlockReceipts` returns null).
    pub missing_receipts: Vec<u64>,
    /// Every block's receipts are missing.
    pub missing_all_receipts: bool,
    /// Report this block as the head and nothing above it (a stale node).
    pub stale_head: Option<u64>,
}

/// A shared, changeable fault plan for one endpoint.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    settings: Arc<Mutex<FaultSettings>>,
    stream: Arc<Mutex<Stream>>,
}

impl FaultPlan {
    /// A plan with no faults; `salt` seeds its dice.
    pub fn new(salt: u64) -> Self {
        FaultPlan {
            settings: Arc::new(Mutex::new(FaultSettings::default())),
            stream: Arc::new(Mutex::new(Stream::new(salt, 0x6661_756c))),
        }
    }

    /// The current settings.
    pub fn settings(&self) -> FaultSettings {
        self.settings.lock().clone()
    }

    /// Replaces the settings.
    pub fn set(&self, settings: FaultSettings) {
        *self.settings.lock() = settings;
    }

    /// Changes the settings in place.
    pub fn update(&self, change: impl FnOnce(&mut FaultSettings)) {
        change(&mut self.settings.lock());
    }

    /// Clears every fault.
    pub fn clear(&self) {
        self.set(FaultSettings::default());
    }

    /// Rolls a die: true with probability `rate`.
    pub fn roll(&self, rate: f64) -> bool {
        rate > 0.0
            && (rate >= 1.0 || (self.stream.lock().below(1_000_000) as f64) < rate * 1_000_000.0)
    }
}

fn flip_last(bytes: &mut [u8]) {
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
}

/// The block as a liar serves it.
pub fn tampered(block: &DevBlock, tamper: &Tamper) -> DevBlock {
    let mut lie = block.clone();
    match &tamper.target {
        TamperTarget::Header { field } => {
            let header = &mut lie.header;
            match field.as_str() {
                "parentHash" => flip_last(header.parent_hash.as_mut_slice()),
                "stateRoot" => flip_last(header.state_root.as_mut_slice()),
                "transactionsRoot" => flip_last(header.transactions_root.as_mut_slice()),
                "receiptsRoot" => flip_last(header.receipts_root.as_mut_slice()),
                "miner" => flip_last(header.beneficiary.as_mut_slice()),
                "mixHash" => flip_last(header.mix_hash.as_mut_slice()),
                "logsBloom" => flip_last(header.logs_bloom.as_mut_slice()),
                "difficulty" => header.difficulty += U256::from(1),
                "gasLimit" => header.gas_limit += 1,
                "gasUsed" => header.gas_used += 1,
                "timestamp" => header.timestamp += 1,
                "baseFeePerGas" => {
                    header.base_fee_per_gas = header.base_fee_per_gas.map(|fee| fee + 1)
                }
                "extraData" => {
                    let mut extra = header.extra_data.to_vec();
                    if let Some(first) = extra.first_mut() {
                        *first ^= 0x01;
                    }
                    header.extra_data = extra.into();
                }
                // The seal: change one byte of the signature.
                "seal" => {
                    let mut extra = header.extra_data.to_vec();
                    let at = extra.len().saturating_sub(40);
                    if let Some(byte) = extra.get_mut(at) {
                        *byte ^= 0x01;
                    }
                    header.extra_data = extra.into();
                }
                _ => flip_last(header.state_root.as_mut_slice()),
            }
            let mut rlp = Vec::new();
            lie.header.encode(&mut rlp);
            if tamper.rehash {
                lie.hash = keccak256(&rlp);
            }
            lie.header_rlp = rlp.into();
        }
        TamperTarget::Transaction { index } => {
            if let Some(tx) = lie.txs.get_mut(*index) {
                // Change one byte near the end of the payload (inside the
                // signature or the value): the bytes no longer match the root.
                let mut envelope = tx.envelope.to_vec();
                let at = envelope.len().saturating_sub(5);
                if let Some(byte) = envelope.get_mut(at) {
                    *byte ^= 0x01;
                }
                tx.hash = keccak256(&envelope);
                tx.envelope = envelope.into();
            }
        }
        TamperTarget::Receipt { index } => {
            if let Some(receipt) = lie.receipts.get_mut(*index) {
                receipt.status = !receipt.status;
                receipt.cumulative_gas_used += 1;
                let (envelope, bloom) = encode_receipt(
                    receipt.tx_type,
                    receipt.status,
                    receipt.cumulative_gas_used,
                    receipt.logs.clone(),
                );
                receipt.envelope = envelope;
                receipt.bloom = bloom;
            }
        }
        TamperTarget::Log { index } => {
            if let Some(receipt) = lie.receipts.get_mut(*index) {
                if let Some(log) = receipt.logs.first_mut() {
                    let mut data = log.data.data.to_vec();
                    data.push(0xff);
                    log.data = alloy_primitives::LogData::new_unchecked(
                        log.data.topics().to_vec(),
                        Bytes::from(data),
                    );
                }
                let (envelope, bloom) = encode_receipt(
                    receipt.tx_type,
                    receipt.status,
                    receipt.cumulative_gas_used,
                    receipt.logs.clone(),
                );
                receipt.envelope = envelope;
                receipt.bloom = bloom;
            }
        }
    }
    // Keep the raw parts in step with the changed transactions and receipts.
    let transactions: Vec<&[u8]> = lie.txs.iter().map(|tx| tx.envelope.as_ref()).collect();
    let receipts: Vec<&[u8]> = lie
        .receipts
        .iter()
        .map(|receipt| receipt.envelope.as_ref())
        .collect();
    lie.body_rlp = encode_body(&transactions, &[0xc0]).into();
    lie.receipts_rlp = encode_envelopes(&receipts).into();
    lie
}
