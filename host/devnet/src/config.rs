//! What the devnet makes: chain shape, forks, timing, and how much of it.

use std::time::Duration;

use alloy_primitives::{Address, address};
use hypasis_polygon::{
    ChainSpec,
    schedule::BlockSchedule,
    spec::{BorRules, Fork, ForkIdRules, L1Contracts},
};
use serde::{Deserialize, Serialize};

/// The default genesis time: 2023-11-14 22:13:20 UTC, fixed so that a
/// restarted devnet is the same chain.
pub const DEFAULT_GENESIS_TIMESTAMP: u64 = 1_700_000_000;

/// The devnet's chain id (and network id).
pub const DEVNET_CHAIN_ID: u64 = 137_137;
/// The devnet L1's chain id.
pub const DEVNET_L1_CHAIN_ID: u64 = 1_337;
/// Bor's StateReceiver system contract, which emits state-sync logs.
pub const STATE_RECEIVER: Address = address!("0000000000000000000000000000000000001001");

/// Everything that shapes the generated chain. Deterministic: the same
/// configuration makes the same chain, byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainConfig {
    /// Seed of every key, transaction and value.
    pub seed: u64,
    /// Validators in the validator set.
    pub validators: usize,
    /// Producers selected per span (span 0 uses all validators).
    pub producers_per_span: usize,
    /// Blocks per sprint.
    pub sprint: u64,
    /// Blocks per span after span 0 (which ends at 255).
    pub span_length: u64,
    /// London and Jaipur: base fee, and base fee in the seal hash, from here.
    pub jaipur_block: u64,
    /// Cancun (Bor's Napoli): extra data payload becomes RLP(BlockExtraData).
    pub cancun_block: u64,
    /// Madhugiri: state syncs become a 0x7F body transaction.
    pub madhugiri_block: u64,
    /// Transactions per block, on average (0 for empty blocks).
    pub txs_per_block: u32,
    /// Every how many sprint starts a state sync lands (0: never).
    pub state_sync_every: u64,
    /// Out of 100 blocks, how many are sealed by a backup producer.
    pub backup_seal_percent: u8,
    /// Timestamp of block 0. The default is fixed
    /// ([`DEFAULT_GENESIS_TIMESTAMP`]), so the same configuration makes the
    /// same genesis on every start; 0 means "now minus the prefill's
    /// duration" (a new chain per start, with a head near the wall clock).
    pub genesis_timestamp: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            seed: 1,
            validators: 5,
            producers_per_span: 4,
            sprint: 16,
            span_length: 1024,
            jaipur_block: 64,
            cancun_block: 256,
            madhugiri_block: 2048,
            txs_per_block: 8,
            state_sync_every: 2,
            backup_seal_percent: 5,
            genesis_timestamp: DEFAULT_GENESIS_TIMESTAMP,
        }
    }
}

impl ChainConfig {
    /// The chain spec of the chain this configuration makes. The genesis
    /// hash is filled in once the genesis block exists.
    pub fn spec(&self) -> ChainSpec {
        ChainSpec {
            name: "devnet".into(),
            chain_id: DEVNET_CHAIN_ID,
            network_id: DEVNET_CHAIN_ID,
            genesis_hash: None,
            forks: vec![
                Fork {
                    name: "london".into(),
                    block: self.jaipur_block,
                },
                Fork {
                    name: "cancun".into(),
                    block: self.cancun_block,
                },
            ],
            timestamp_forks: Vec::new(),
            genesis_timestamp: self.genesis_timestamp,
            fork_id_rules: ForkIdRules::Bor,
            london_block: Some(self.jaipur_block),
            cancun_block: Some(self.cancun_block),
            bor: BorRules {
                period: BlockSchedule::constant(2),
                producer_delay: BlockSchedule::constant(4),
                sprint: BlockSchedule::constant(self.sprint),
                backup_multiplier: BlockSchedule::constant(2),
                jaipur_block: Some(self.jaipur_block),
                delhi_block: Some(0),
                indore_block: Some(0),
                ahmedabad_block: None,
                bhilai_block: None,
                rio_block: None,
                madhugiri_block: Some(self.madhugiri_block),
                first_span_end: 255,
                span_length: self.span_length,
            },
            l1: L1Contracts {
                chain_id: DEVNET_L1_CHAIN_ID,
                // Filled in when the L1 deploys RootChain.
                root_chain: Address::ZERO,
            },
        }
    }
}

/// How checkpoints and milestones are made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointConfig {
    /// Checkpoint lengths are multiples of this (Heimdall's `avg_checkpoint_length`).
    pub interval: u64,
    /// The longest checkpoint (Heimdall's `max_checkpoint_length`).
    pub max_length: u64,
    /// How long a finished range waits before its checkpoint is posted to L1.
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
    /// Blocks per milestone.
    pub milestone_length: u64,
    /// How many blocks the newest milestone stays below the head (reorgs
    /// can only happen above it).
    pub milestone_lag: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig {
            interval: 256,
            max_length: 1024,
            delay: Duration::ZERO,
            milestone_length: 8,
            milestone_lag: 16,
        }
    }
}
