//! The Ethereum fork schedule of an imported chain, read from the genesis
//! `config`: block-numbered forks, timestamp-numbered forks and the blob
//! schedule, and what they mean for one block (the revm spec, the block
//! reward, the blob parameters). A Bor-format genesis numbers Shanghai and
//! later by block and adds a `bor` section ([`BorGenesis`]).
//!
//! It stays in this crate rather than in [`hypasis_polygon::ChainSpec`],
//! which is shared with Polygon code and knows only block-numbered forks:
//! [`EthereumForks::chain_spec`] fills that struct's existing fields, and
//! the fork-id code reads both fork kinds from here
//! ([`EthereumForks::fork_id_blocks`], [`EthereumForks::fork_id_times`]).

use alloy_eips::{eip7594, eip7840::BlobParams};
use alloy_genesis::ChainConfig;
use alloy_primitives::{Address, B256, U256};
use hypasis_polygon::{
    ChainSpec,
    schedule::BlockSchedule,
    spec::{BorRules, Fork, ForkIdRules, L1Contracts},
};
use revm::primitives::hardfork::SpecId;

use crate::bor_genesis::{self, BorGenesis};

/// A timestamp-numbered fork (Shanghai and later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFork {
    /// The go-ethereum chain-config name (`cancunTime` → `cancun`).
    pub name: String,
    /// Its activation timestamp (the first block with `timestamp >= time`).
    pub time: u64,
}

/// The blob parameters that apply from a timestamp on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlobStep {
    time: u64,
    params: BlobParams,
}

/// The fork schedule of an Ethereum chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthereumForks {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The configured block-numbered forks in go-ethereum `ChainConfig`
    /// field order (`homestead`, `daoFork`, `eip150`, `eip155`, `eip158`,
    /// `byzantium`, `constantinople`, `petersburg`, `istanbul`,
    /// `muirGlacier`, `berlin`, `london`, `arrowGlacier`, `grayGlacier`,
    /// `mergeNetsplit`, then Bor's `shanghai`, `cancun`, `prague`,
    /// `verkle`, `osaka`), those at block 0 included.
    pub block_forks: Vec<Fork>,
    /// The configured timestamp forks in `ChainConfig` field order
    /// (`shanghai`, `cancun`, `prague`, `osaka`, `bpo1`…`bpo5`, `amsterdam`).
    pub time_forks: Vec<TimeFork>,
    /// The total difficulty at which proof of work ended, if configured.
    pub terminal_total_difficulty: Option<U256>,
    /// Where EIP-6110 deposit events come from (Prague).
    pub deposit_contract: Option<Address>,
    /// Whether the chain took the DAO fork's irregular state change.
    pub dao_fork_support: bool,
    /// Bor's additions when the genesis is in Bor's format.
    pub bor: Option<BorGenesis>,
    blob_steps: Vec<BlobStep>,
}

fn at_or_after(fork: Option<u64>, value: u64) -> bool {
    fork.is_some_and(|at| value >= at)
}

const ETHER: u128 = 1_000_000_000_000_000_000;

impl EthereumForks {
    /// Reads the schedule from a genesis `config`. Fails on a blob-parameter
    /// fork (`bpoN`) without its `blobSchedule` entry, or an entry whose
    /// update fraction or maximum is zero.
    pub fn from_config(config: &ChainConfig) -> Result<Self, String> {
        let bor = bor_genesis::read(config)?;
        let mut block_forks: Vec<Fork> = [
            ("homestead", config.homestead_block),
            ("daoFork", config.dao_fork_block),
            ("eip150", config.eip150_block),
            ("eip155", config.eip155_block),
            ("eip158", config.eip158_block),
            ("byzantium", config.byzantium_block),
            ("constantinople", config.constantinople_block),
            ("petersburg", config.petersburg_block),
            ("istanbul", config.istanbul_block),
            ("muirGlacier", config.muir_glacier_block),
            ("berlin", config.berlin_block),
            ("london", config.london_block),
            ("arrowGlacier", config.arrow_glacier_block),
            ("grayGlacier", config.gray_glacier_block),
            ("mergeNetsplit", config.merge_netsplit_block),
        ]
        .into_iter()
        .filter_map(|(name, block)| {
            block.map(|block| Fork {
                name: name.into(),
                block,
            })
        })
        .collect();
        if let Some(bor) = &bor {
            block_forks.extend(bor.block_forks.iter().map(|(name, block)| Fork {
                name: name.clone(),
                block: *block,
            }));
        }
        let times = [
            ("shanghai", config.shanghai_time),
            ("cancun", config.cancun_time),
            ("prague", config.prague_time),
            ("osaka", config.osaka_time),
            ("bpo1", config.bpo1_time),
            ("bpo2", config.bpo2_time),
            ("bpo3", config.bpo3_time),
            ("bpo4", config.bpo4_time),
            ("bpo5", config.bpo5_time),
            ("amsterdam", config.amsterdam_time),
        ];
        let time_forks: Vec<TimeFork> = times
            .iter()
            .filter_map(|(name, time)| {
                time.map(|time| TimeFork {
                    name: (*name).into(),
                    time,
                })
            })
            .collect();
        let mut blob_steps = Vec::new();
        for fork in &time_forks {
            let osaka_rules = !matches!(fork.name.as_str(), "shanghai" | "cancun" | "prague");
            let default = match fork.name.as_str() {
                "shanghai" | "amsterdam" => continue,
                "cancun" => Some(BlobParams::cancun()),
                "prague" => Some(BlobParams::prague()),
                "osaka" => Some(BlobParams::osaka()),
                _ => None,
            };
            let mut params = config
                .blob_schedule
                .get(&fork.name)
                .copied()
                .or(default)
                .ok_or_else(|| {
                    format!(
                        "config: {}Time is set but blobSchedule.{0} is missing",
                        fork.name
                    )
                })?;
            if params.update_fraction == 0 || params.max_blob_count == 0 {
                return Err(format!(
                    "config: blobSchedule.{}: baseFeeUpdateFraction and max must be non-zero",
                    fork.name
                ));
            }
            if osaka_rules {
                // EIP-7918's reserve price and EIP-7594's per-transaction cap.
                params = params
                    .with_blob_base_cost(alloy_eips::eip7840::BLOB_BASE_COST)
                    .with_max_blobs_per_tx(eip7594::MAX_BLOBS_PER_TX_FUSAKA);
            }
            blob_steps.push(BlobStep {
                time: fork.time,
                params,
            });
        }
        Ok(EthereumForks {
            chain_id: config.chain_id,
            block_forks,
            time_forks,
            terminal_total_difficulty: config.terminal_total_difficulty,
            deposit_contract: config.deposit_contract_address,
            dao_fork_support: config.dao_fork_support,
            bor,
            blob_steps,
        })
    }

    /// The activation block of a block-numbered fork.
    pub fn block_of(&self, name: &str) -> Option<u64> {
        self.block_forks
            .iter()
            .find(|fork| fork.name == name)
            .map(|fork| fork.block)
    }

    /// The activation timestamp of a timestamp fork.
    pub fn time_of(&self, name: &str) -> Option<u64> {
        self.time_forks
            .iter()
            .find(|fork| fork.name == name)
            .map(|fork| fork.time)
    }

    /// Whether the block-numbered fork `name` is active at `number`.
    pub fn is_block_active(&self, name: &str, number: u64) -> bool {
        at_or_after(self.block_of(name), number)
    }

    /// Whether the post-merge fork `name` (`shanghai`, `cancun`, …) is
    /// active for a block at (`number`, `timestamp`): by block on a
    /// Bor-format chain, else by time, which like go-ethereum needs London.
    pub fn is_active(&self, name: &str, number: u64, timestamp: u64) -> bool {
        if let Some(block) = self.block_of(name) {
            return number >= block;
        }
        self.is_block_active("london", number) && at_or_after(self.time_of(name), timestamp)
    }

    /// Whether the genesis config has a `bor` section (with or without
    /// Bor consensus).
    pub fn has_bor_section(&self) -> bool {
        self.bor.as_ref().is_some_and(|bor| bor.has_section)
    }

    /// Whose fork-id rules this chain's peers follow: Bor's for a
    /// Bor-format genesis, go-ethereum's otherwise.
    pub fn fork_id_rules(&self) -> ForkIdRules {
        if self.bor.is_some() {
            ForkIdRules::Bor
        } else {
            ForkIdRules::Ethereum
        }
    }

    /// The revm rules for a block. `post_merge` is whether the block is a
    /// proof-of-stake block (difficulty 0). Fails for Amsterdam, which this
    /// importer does not execute.
    ///
    /// revm has no separate Constantinople: blocks in
    /// `[constantinople, petersburg)` run with Petersburg rules, that is
    /// without EIP-1283 (which Petersburg removed again).
    pub fn spec_id(&self, number: u64, timestamp: u64, post_merge: bool) -> Result<SpecId, String> {
        let time = |name| self.is_active(name, number, timestamp);
        let block = |name| self.is_block_active(name, number);
        Ok(if time("amsterdam") {
            return Err("Amsterdam rules are not supported by this importer".into());
        } else if time("osaka") {
            SpecId::OSAKA
        } else if time("prague") {
            SpecId::PRAGUE
        } else if time("cancun") {
            SpecId::CANCUN
        } else if time("shanghai") {
            SpecId::SHANGHAI
        } else if post_merge && block("london") {
            SpecId::MERGE
        } else if block("london") {
            SpecId::LONDON
        } else if block("berlin") {
            SpecId::BERLIN
        } else if block("istanbul") {
            SpecId::ISTANBUL
        } else if block("petersburg") || block("constantinople") {
            SpecId::PETERSBURG
        } else if block("byzantium") {
            SpecId::BYZANTIUM
        } else if block("eip158") {
            SpecId::SPURIOUS_DRAGON
        } else if block("eip150") {
            SpecId::TANGERINE
        } else if block("homestead") {
            SpecId::HOMESTEAD
        } else {
            SpecId::FRONTIER
        })
    }

    /// The proof-of-work block reward at `number` (5, 3 from Byzantium, 2
    /// from Constantinople ether); proof-of-stake blocks get none.
    pub fn block_reward(&self, number: u64) -> u128 {
        if self.is_block_active("constantinople", number) {
            2 * ETHER
        } else if self.is_block_active("byzantium", number) {
            3 * ETHER
        } else {
            5 * ETHER
        }
    }

    /// The blob parameters in force at `timestamp`: those of the newest
    /// activated fork among Cancun, Prague, Osaka and BPO1–5 (from the
    /// genesis `blobSchedule`, or the EIP defaults for Cancun, Prague and
    /// Osaka when it has no entry). `None` before Cancun.
    pub fn blob_params(&self, timestamp: u64) -> Option<BlobParams> {
        self.blob_steps
            .iter()
            .rev()
            .find(|step| timestamp >= step.time)
            .map(|step| step.params)
    }

    /// The block numbers that enter the EIP-2124 fork id: the block forks,
    /// ascending, deduplicated, without those at block 0.
    pub fn fork_id_blocks(&self) -> Vec<u64> {
        let mut blocks: Vec<u64> = self
            .block_forks
            .iter()
            .map(|fork| fork.block)
            .filter(|block| *block > 0)
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        blocks
    }

    /// The timestamps that enter the EIP-2124 fork id: the timestamp forks,
    /// ascending, deduplicated, without those at or before the genesis time.
    pub fn fork_id_times(&self, genesis_timestamp: u64) -> Vec<u64> {
        let mut times: Vec<u64> = self
            .time_forks
            .iter()
            .map(|fork| fork.time)
            .filter(|time| *time > genesis_timestamp)
            .collect();
        times.sort_unstable();
        times.dedup();
        times
    }

    /// The shared chain spec for this chain. `forks` lists the block forks
    /// (as [`EthereumForks::block_forks`]); the timestamp forks go into
    /// `timestamp_forks` (their `block` field holds the time).
    /// `london_block` is the configured London block, `cancun_block` the
    /// first imported block at or after the Cancun time (if any; a
    /// Bor-format chain's Cancun block is taken from its config instead).
    /// `bor` holds the genesis's `bor` section, or without one inert values
    /// (no sprints, one endless span); `l1` is empty (no checkpoints).
    pub fn chain_spec(
        &self,
        name: &str,
        genesis_hash: B256,
        genesis_timestamp: u64,
        cancun_block: Option<u64>,
    ) -> ChainSpec {
        ChainSpec {
            name: name.into(),
            chain_id: self.chain_id,
            network_id: self.chain_id,
            genesis_hash: Some(genesis_hash),
            forks: self.block_forks.clone(),
            timestamp_forks: self
                .time_forks
                .iter()
                .map(|fork| hypasis_polygon::spec::Fork {
                    name: fork.name.clone(),
                    block: fork.time,
                })
                .collect(),
            genesis_timestamp,
            fork_id_rules: self.fork_id_rules(),
            london_block: self.block_of("london"),
            cancun_block: self.block_of("cancun").or(cancun_block),
            bor: self
                .bor
                .as_ref()
                .and_then(|bor| bor.rules.clone())
                .unwrap_or(BorRules {
                    period: BlockSchedule::constant(0),
                    producer_delay: BlockSchedule::constant(0),
                    sprint: BlockSchedule::constant(u64::MAX),
                    backup_multiplier: BlockSchedule::constant(0),
                    jaipur_block: None,
                    delhi_block: None,
                    indore_block: None,
                    ahmedabad_block: None,
                    bhilai_block: None,
                    rio_block: None,
                    madhugiri_block: None,
                    first_span_end: u64::MAX,
                    span_length: u64::MAX,
                }),
            l1: L1Contracts {
                chain_id: 0,
                root_chain: Address::ZERO,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ChainConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn specs_follow_block_and_time_forks() {
        let forks = EthereumForks::from_config(&config(
            r#"{"chainId":7,"homesteadBlock":0,"eip150Block":3,"eip155Block":6,"eip158Block":6,
                "byzantiumBlock":9,"constantinopleBlock":12,"petersburgBlock":15,"istanbulBlock":18,
                "londonBlock":27,"shanghaiTime":390,"cancunTime":420,"pragueTime":450,"osakaTime":480,
                "bpo1Time":510,"blobSchedule":{"bpo1":{"target":10,"max":15,"baseFeeUpdateFraction":8346193}}}"#,
        ))
        .unwrap();
        assert_eq!(forks.spec_id(0, 0, false).unwrap(), SpecId::HOMESTEAD);
        assert_eq!(forks.spec_id(6, 0, false).unwrap(), SpecId::SPURIOUS_DRAGON);
        assert_eq!(forks.spec_id(13, 0, false).unwrap(), SpecId::PETERSBURG);
        assert_eq!(forks.spec_id(30, 100, false).unwrap(), SpecId::LONDON);
        assert_eq!(forks.spec_id(40, 200, true).unwrap(), SpecId::MERGE);
        assert_eq!(forks.spec_id(41, 420, true).unwrap(), SpecId::CANCUN);
        assert_eq!(forks.spec_id(42, 515, true).unwrap(), SpecId::OSAKA);
        assert_eq!(forks.block_reward(8), 5 * ETHER);
        assert_eq!(forks.block_reward(9), 3 * ETHER);
        assert_eq!(forks.block_reward(12), 2 * ETHER);
        assert!(forks.blob_params(419).is_none());
        assert_eq!(forks.blob_params(420), Some(BlobParams::cancun()));
        let bpo1 = forks.blob_params(600).unwrap();
        assert_eq!((bpo1.target_blob_count, bpo1.max_blob_count), (10, 15));
        assert_eq!(bpo1.max_blobs_per_tx, 6);
        assert_eq!(forks.fork_id_blocks(), vec![3, 6, 9, 12, 15, 18, 27]);
        assert_eq!(forks.fork_id_times(0), vec![390, 420, 450, 480, 510]);
        let names: Vec<&str> = forks.block_forks.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[..3], ["homestead", "eip150", "eip155"]);
    }

    #[test]
    fn a_bpo_fork_needs_its_blob_schedule() {
        let error = EthereumForks::from_config(&config(
            r#"{"chainId":7,"londonBlock":0,"cancunTime":0,"bpo1Time":10}"#,
        ))
        .unwrap_err();
        assert!(error.contains("blobSchedule.bpo1"), "{error}");
    }
}
