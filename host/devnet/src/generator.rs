//! The chain generator: seals one Bor-format block after another, following
//! Bor's rules for signers, difficulty, timestamps, extra data and state syncs.

use std::sync::Arc;

use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, Log, LogData, U256, keccak256};
use alloy_rlp::Encodable;
use hypasis_polygon::{
    ChainSpec,
    bor::{HeaderValidator, build_extra, seal},
    roots::{encode_body, encode_envelopes, ordered_root},
    state_sync::{STATE_SYNC_TX_TYPE, StateSyncData, bor_receipt_tx_hash, encode_state_sync_tx},
    valset::ValidatorSet,
};
use secp256k1::SecretKey;

use crate::{
    block::{BorReceipt, DevBlock, DevReceipt, DevTx},
    config::{ChainConfig, STATE_RECEIVER},
    keys::{Stream, address_of, derive_key},
    txgen::{Fees, Senders, encode_receipt},
};

/// Block gas limit.
pub const GAS_LIMIT: u64 = 30_000_000;
/// The base fee of the first London block (1 gwei, as go-ethereum).
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;
/// keccak("StateCommitted(uint256,bool)").
pub const STATE_COMMITTED_TOPIC: B256 =
    alloy_primitives::b256!("5a22725590b0a51c923940223f7458512164b1113359a735e86e7f27f44791ee");

/// A validator of the devnet, with its key.
#[derive(Debug, Clone)]
pub struct DevValidator {
    /// Heimdall's validator id (1-based).
    pub id: u64,
    /// Signing key.
    pub key: SecretKey,
    /// Signer address.
    pub address: Address,
    /// Voting power.
    pub power: u64,
}

/// The state needed to make the next block; cloned to fork the chain.
#[derive(Debug, Clone)]
pub struct ChainGenerator {
    config: ChainConfig,
    spec: Arc<ChainSpec>,
    validators: Vec<DevValidator>,
    snapshot: ValidatorSet,
    senders: Senders,
    stream: Stream,
    next_state_id: u64,
    parent: DevBlock,
}

/// The generator's error: the configuration cannot make a chain.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// A setting is out of range.
    #[error("devnet chain config: {0}")]
    Config(String),
}

fn vanity() -> [u8; 32] {
    let mut vanity = [0u8; 32];
    let text = b"hypasis-devnet";
    vanity[..text.len()].copy_from_slice(text);
    vanity
}

impl ChainGenerator {
    /// A generator at genesis.
    pub fn new(config: ChainConfig) -> Result<Self, GeneratorError> {
        if config.validators == 0 || config.producers_per_span == 0 {
            return Err(GeneratorError::Config(
                "validators and producers_per_span must be at least 1".into(),
            ));
        }
        if config.sprint == 0
            || config.span_length == 0
            || !config.span_length.is_multiple_of(config.sprint)
            || !256u64.is_multiple_of(config.sprint)
        {
            return Err(GeneratorError::Config(format!(
                "sprint {} must divide 256 and span_length {}",
                config.sprint, config.span_length
            )));
        }
        let validators: Vec<DevValidator> = (0..config.validators as u64)
            .map(|index| {
                let key = derive_key(config.seed, "validator", index);
                DevValidator {
                    id: index + 1,
                    address: address_of(&key),
                    key,
                    power: 1 + index % 3,
                }
            })
            .collect();
        let mut spec = config.spec();
        let genesis_timestamp = config.genesis_timestamp;
        let mut header = Header {
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            state_root: keccak256(
                [
                    b"state".as_slice(),
                    &config.seed.to_be_bytes(),
                    &0u64.to_be_bytes(),
                ]
                .concat(),
            ),
            transactions_root: alloy_trie::EMPTY_ROOT_HASH,
            receipts_root: alloy_trie::EMPTY_ROOT_HASH,
            difficulty: U256::from(1),
            gas_limit: GAS_LIMIT,
            timestamp: genesis_timestamp,
            extra_data: Bytes::from(build_extra(vanity(), None, 0, &spec)),
            ..Default::default()
        };
        if spec.is_london(0) {
            header.base_fee_per_gas = Some(INITIAL_BASE_FEE);
        }
        let genesis = assemble(
            header,
            Vec::new(),
            Vec::new(),
            None,
            U256::from(1),
            Address::ZERO,
        );
        spec.genesis_hash = Some(genesis.hash);
        let span0: Vec<(Address, u64)> = validators.iter().map(|v| (v.address, v.power)).collect();
        let snapshot =
            ValidatorSet::new(&span0).map_err(|error| GeneratorError::Config(error.to_string()))?;
        Ok(ChainGenerator {
            snapshot,
            senders: Senders::new(config.seed, 32),
            stream: Stream::new(config.seed, 0x6c6f_636b),
            next_state_id: 1,
            parent: genesis,
            validators,
            spec: Arc::new(spec),
            config,
        })
    }

    /// The chain spec (with the genesis hash).
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The newest block made.
    pub fn head(&self) -> &DevBlock {
        &self.parent
    }

    /// Every validator.
    pub fn validators(&self) -> &[DevValidator] {
        &self.validators
    }

    /// The producers Heimdall selects for span `id`: every validator for
    /// span 0, then a rotating subset.
    pub fn span_producers(&self, id: u64) -> Vec<DevValidator> {
        let n = self.validators.len();
        if id == 0 {
            return self.validators.clone();
        }
        let count = self.config.producers_per_span.min(n);
        (0..count)
            .map(|offset| self.validators[(id as usize + offset) % n].clone())
            .collect()
    }

    /// Changes the random stream so the next blocks differ from the ones a
    /// clone of this generator makes (how a fork is made).
    pub fn diverge(&mut self, salt: u64) {
        self.stream = Stream::new(self.stream.next_u64() ^ salt, 0x666f_726b);
    }

    fn base_fee(&self, number: u64) -> Option<u64> {
        if !self.spec.is_london(number) {
            return None;
        }
        let parent = &self.parent.header;
        let Some(parent_fee) = parent.base_fee_per_gas else {
            return Some(INITIAL_BASE_FEE);
        };
        let target = parent.gas_limit / 2;
        let denominator: u128 = if self.spec.is_delhi(number) { 16 } else { 8 };
        let fee = u128::from(parent_fee);
        let used = u128::from(parent.gas_used);
        let target = u128::from(target);
        let next = if used == target {
            fee
        } else if used > target {
            fee + (fee * (used - target) / target / denominator).max(1)
        } else {
            fee - fee * (target - used) / target / denominator
        };
        Some(next.max(7) as u64)
    }

    fn state_sync_events(&mut self, number: u64) -> Vec<StateSyncData> {
        let every = self.config.state_sync_every;
        let sprint = self.spec.sprint(number);
        if every == 0
            || number == 0
            || !self.spec.is_sprint_start(number)
            || !(number / sprint).is_multiple_of(every)
        {
            return Vec::new();
        }
        let count = 1 + self.stream.below(3);
        (0..count)
            .map(|_| {
                let id = self.next_state_id;
                self.next_state_id += 1;
                let mut data = vec![0u8; 64];
                data[..32].copy_from_slice(&self.stream.bytes32());
                data[56..64].copy_from_slice(&id.to_be_bytes());
                StateSyncData {
                    id,
                    contract: Address::from_slice(&keccak256(b"devnet-child-token")[12..]),
                    data: data.into(),
                    tx_hash: B256::from(self.stream.bytes32()),
                }
            })
            .collect()
    }

    /// Makes, seals and returns the next block.
    pub fn next_block(&mut self) -> DevBlock {
        let number = self.parent.number() + 1;
        let spec = Arc::clone(&self.spec);
        let spec = spec.as_ref();
        let n = self.snapshot.validators().len() as u64;
        let succession = if n > 1 && self.stream.chance(self.config.backup_seal_percent) {
            1 + self.stream.below(n - 1)
        } else {
            0
        };
        let signer = self
            .snapshot
            .signer_at(succession)
            .expect("the snapshot has validators");
        let difficulty = n - succession;
        let mut delay = spec.bor.period.at(number);
        if spec.is_sprint_start(number) {
            delay = spec.bor.producer_delay.at(number);
        }
        delay += succession * spec.bor.backup_multiplier.at(number);
        let timestamp = self.parent.header.timestamp + delay;
        let base_fee = self.base_fee(number);

        let fees = Fees {
            base_fee,
            london: spec.is_london(number),
        };
        let mut txs: Vec<DevTx> = Vec::new();
        let mut receipts: Vec<DevReceipt> = Vec::new();
        let mut cumulative = 0u64;
        let count = if self.config.txs_per_block == 0 {
            0
        } else {
            self.stream
                .below(2 * u64::from(self.config.txs_per_block) + 1)
        };
        for _ in 0..count {
            if cumulative + 400_000 > GAS_LIMIT {
                break;
            }
            let generated = self
                .senders
                .next(&mut self.stream, spec.chain_id, fees, cumulative);
            cumulative = generated.receipt.cumulative_gas_used;
            txs.push(generated.tx);
            receipts.push(generated.receipt);
        }

        let events = self.state_sync_events(number);
        let state_sync_logs: Vec<Log> = events
            .iter()
            .flat_map(|event| {
                [
                    Log {
                        address: STATE_RECEIVER,
                        data: LogData::new_unchecked(
                            vec![STATE_COMMITTED_TOPIC, B256::from(U256::from(event.id))],
                            Bytes::from(U256::from(1).to_be_bytes::<32>().to_vec()),
                        ),
                    },
                    Log {
                        address: event.contract,
                        data: LogData::new_unchecked(
                            vec![keccak256(b"Deposit(uint256,bytes)")],
                            event.data.clone(),
                        ),
                    },
                ]
            })
            .collect();
        let mut bor_receipt = None;
        if !events.is_empty() {
            if spec.is_madhugiri(number) {
                let envelope = Bytes::from(encode_state_sync_tx(&events));
                let (receipt, bloom) = encode_receipt(
                    STATE_SYNC_TX_TYPE,
                    true,
                    cumulative,
                    state_sync_logs.clone(),
                );
                txs.push(DevTx {
                    hash: keccak256(&envelope),
                    envelope,
                    sender: Address::ZERO,
                    to: Some(Address::ZERO),
                    contract_address: None,
                });
                receipts.push(DevReceipt {
                    envelope: receipt,
                    tx_type: STATE_SYNC_TX_TYPE,
                    status: true,
                    cumulative_gas_used: cumulative,
                    gas_used: 0,
                    effective_gas_price: 0,
                    logs: state_sync_logs,
                    bloom,
                });
            } else {
                let (rlp, bloom) = encode_receipt(0, true, 0, state_sync_logs.clone());
                bor_receipt = Some((rlp, bloom, state_sync_logs));
            }
        }

        let tx_envelopes: Vec<&[u8]> = txs.iter().map(|tx| tx.envelope.as_ref()).collect();
        let receipt_envelopes: Vec<&[u8]> = receipts
            .iter()
            .map(|receipt| receipt.envelope.as_ref())
            .collect();
        let mut bloom = Bloom::ZERO;
        for receipt in &receipts {
            bloom.accrue_bloom(&receipt.bloom);
        }
        let validators = spec.is_sprint_end(number).then(|| {
            let mut listed: Vec<HeaderValidator> = self
                .span_producers(spec.span_id(number + 1))
                .iter()
                .map(|validator| HeaderValidator {
                    address: validator.address,
                    power: validator.power,
                })
                .collect();
            listed.sort();
            listed
        });
        let mut header = Header {
            parent_hash: self.parent.hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root: keccak256(
                [
                    b"state".as_slice(),
                    &self.config.seed.to_be_bytes(),
                    &number.to_be_bytes(),
                ]
                .concat(),
            ),
            transactions_root: ordered_root(&tx_envelopes),
            receipts_root: ordered_root(&receipt_envelopes),
            logs_bloom: bloom,
            difficulty: U256::from(difficulty),
            number,
            gas_limit: GAS_LIMIT,
            gas_used: cumulative,
            timestamp,
            extra_data: Bytes::from(build_extra(vanity(), validators.as_deref(), number, spec)),
            mix_hash: B256::ZERO,
            nonce: B64::ZERO,
            base_fee_per_gas: base_fee,
            ..Default::default()
        };
        let key = self
            .validators
            .iter()
            .find(|validator| validator.address == signer)
            .map(|validator| validator.key)
            .expect("every snapshot member is a devnet validator");
        seal(&mut header, &key, spec).expect("extra data has room for the seal");
        if let Some(listed) = &validators {
            let listed: Vec<(Address, u64)> = listed.iter().map(|v| (v.address, v.power)).collect();
            self.snapshot.apply_sprint_end(&listed);
        }
        let total_difficulty = self.parent.total_difficulty + U256::from(difficulty);
        let block = assemble(header, txs, receipts, bor_receipt, total_difficulty, signer);
        self.parent = block.clone();
        block
    }
}

/// Encodes the block's parts and computes its hash and size.
fn assemble(
    header: Header,
    txs: Vec<DevTx>,
    receipts: Vec<DevReceipt>,
    bor: Option<(Bytes, Bloom, Vec<Log>)>,
    total_difficulty: U256,
    signer: Address,
) -> DevBlock {
    let mut header_rlp = Vec::with_capacity(600);
    header.encode(&mut header_rlp);
    let hash = keccak256(&header_rlp);
    let tx_envelopes: Vec<&[u8]> = txs.iter().map(|tx| tx.envelope.as_ref()).collect();
    let receipt_envelopes: Vec<&[u8]> = receipts
        .iter()
        .map(|receipt| receipt.envelope.as_ref())
        .collect();
    let body_rlp = encode_body(&tx_envelopes, &[0xc0]);
    let receipts_rlp = encode_envelopes(&receipt_envelopes);
    let payload = header_rlp.len() + body_payload_length(&body_rlp);
    let size = (alloy_rlp::length_of_length(payload) + payload) as u64;
    let bor_receipt = bor.map(|(rlp, bloom, logs)| BorReceipt {
        tx_hash: bor_receipt_tx_hash(header.number, &hash),
        rlp,
        logs,
        bloom,
    });
    DevBlock {
        header,
        hash,
        header_rlp: header_rlp.into(),
        body_rlp: body_rlp.into(),
        receipts_rlp: receipts_rlp.into(),
        txs,
        receipts,
        bor_receipt,
        total_difficulty,
        signer,
        size,
    }
}

fn body_payload_length(body: &[u8]) -> usize {
    let mut cursor = body;
    alloy_rlp::Header::decode(&mut cursor)
        .map(|header| header.payload_length)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypasis_polygon::{
        bor::recover_signer,
        roots::{body_transactions, envelope_items},
    };

    #[test]
    fn blocks_follow_the_rules_they_claim() {
        let config = ChainConfig {
            txs_per_block: 3,
            ..ChainConfig::default()
        };
        let mut generator = ChainGenerator::new(config).unwrap();
        let spec = generator.spec().clone();
        let started = std::time::Instant::now();
        let mut parent = generator.head().clone();
        for _ in 0..600 {
            let block = generator.next_block();
            assert_eq!(block.header.parent_hash, parent.hash);
            assert_eq!(keccak256(&block.header_rlp), block.hash);
            assert_eq!(recover_signer(&block.header, &spec).unwrap(), block.signer);
            let txs = body_transactions(&block.body_rlp).unwrap();
            assert_eq!(ordered_root(&txs), block.header.transactions_root);
            let receipts = envelope_items("receipts", &block.receipts_rlp).unwrap();
            assert_eq!(ordered_root(&receipts), block.header.receipts_root);
            assert!(block.header.timestamp >= parent.header.timestamp + 2);
            parent = block;
        }
        eprintln!("600 blocks in {:?}", started.elapsed());
    }
}
