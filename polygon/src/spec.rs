//! Chain specs: everything that differs between Polygon mainnet, Amoy and
//! the devnet, in one place. No chain constant lives anywhere else.

use alloy_primitives::{Address, B256, address, b256};
use serde::{Deserialize, Serialize};

use crate::schedule::BlockSchedule;

/// A top-level, block-numbered fork (these feed the EIP-2124 fork id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// The go-ethereum chain-config name (`londonBlock` → `london`).
    pub name: String,
    /// Its activation block.
    pub block: u64,
}

/// Which client's rules a chain's EIP-2124 fork id follows, so the fork id
/// we announce is the one our peers compute for the same chain.
///
/// go-ethereum counts block forks and timestamp forks; Bor has no timestamp
/// forks (its `ChainConfig` has `shanghaiBlock`, `cancunBlock`, … instead),
/// so a Bor node reading a genesis counts its `*Block` fields only and
/// ignores any `*Time` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForkIdRules {
    /// go-ethereum's: block forks, then timestamp forks after genesis.
    #[default]
    Ethereum,
    /// Bor's: the block forks only.
    Bor,
}

/// Bor's consensus parameters (the `bor` section of Bor's chain config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BorRules {
    /// Minimum seconds between a block and its parent.
    pub period: BlockSchedule<u64>,
    /// Seconds before the first block of a sprint.
    pub producer_delay: BlockSchedule<u64>,
    /// Blocks per sprint.
    pub sprint: BlockSchedule<u64>,
    /// Extra seconds per step of succession for a backup producer.
    pub backup_multiplier: BlockSchedule<u64>,
    /// From here the seal hash includes the base fee.
    pub jaipur_block: Option<u64>,
    /// Delhi (sprint 16, base-fee denominator 16 on mainnet).
    pub delhi_block: Option<u64>,
    /// Indore (state-sync confirmation delay).
    pub indore_block: Option<u64>,
    /// Ahmedabad.
    pub ahmedabad_block: Option<u64>,
    /// Bhilai.
    pub bhilai_block: Option<u64>,
    /// Rio (one producer per span; no validator bytes in headers).
    pub rio_block: Option<u64>,
    /// Madhugiri: state syncs move into a 0x7F transaction in the body.
    pub madhugiri_block: Option<u64>,
    /// Last block of span 0.
    pub first_span_end: u64,
    /// Blocks per span after span 0.
    pub span_length: u64,
}

/// The L1 side of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Contracts {
    /// Ethereum chain id of the L1.
    pub chain_id: u64,
    /// The RootChain proxy that stores checkpoints.
    pub root_chain: Address,
}

/// Everything the host and the plugins need to know about one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// `mainnet`, `amoy`, `devnet`, or an imported chain's name.
    pub name: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// devp2p network id.
    pub network_id: u64,
    /// Genesis block hash; `None` until learnt (the devnet's depends on its seed).
    pub genesis_hash: Option<B256>,
    /// Top-level block-numbered forks in chain-config order (for the fork id).
    pub forks: Vec<Fork>,
    /// Timestamp-numbered forks (`block` holds the time); none on Bor
    /// chains, which fork by block number only.
    #[serde(default)]
    pub timestamp_forks: Vec<Fork>,
    /// Genesis timestamp (timestamp forks at or before it do not count in the fork id).
    #[serde(default)]
    pub genesis_timestamp: u64,
    /// Whose fork-id rules our peers on this chain follow (specs stored
    /// before this field are go-ethereum imports: [`ForkIdRules::Ethereum`]).
    #[serde(default)]
    pub fork_id_rules: ForkIdRules,
    /// London: headers carry a base fee from here.
    pub london_block: Option<u64>,
    /// Cancun (Bor's "Napoli"): extra data between vanity and seal is RLP(BlockExtraData).
    pub cancun_block: Option<u64>,
    /// Bor consensus parameters.
    pub bor: BorRules,
    /// Where checkpoints are committed.
    pub l1: L1Contracts,
}

fn at_or_after(fork: Option<u64>, number: u64) -> bool {
    fork.is_some_and(|block| number >= block)
}

impl ChainSpec {
    /// Whether the seal hash includes the base fee at `number`.
    pub fn is_jaipur(&self, number: u64) -> bool {
        at_or_after(self.bor.jaipur_block, number)
    }

    /// Whether headers carry a base fee at `number`.
    pub fn is_london(&self, number: u64) -> bool {
        at_or_after(self.london_block, number)
    }

    /// Whether extra data holds RLP(BlockExtraData) at `number`.
    pub fn is_cancun(&self, number: u64) -> bool {
        at_or_after(self.cancun_block, number)
    }

    /// Whether Delhi rules apply at `number`.
    pub fn is_delhi(&self, number: u64) -> bool {
        at_or_after(self.bor.delhi_block, number)
    }

    /// Whether Rio rules apply at `number`.
    pub fn is_rio(&self, number: u64) -> bool {
        at_or_after(self.bor.rio_block, number)
    }

    /// Whether state syncs travel as a 0x7F body transaction at `number`.
    pub fn is_madhugiri(&self, number: u64) -> bool {
        at_or_after(self.bor.madhugiri_block, number)
    }

    /// Sprint length in force at `number`.
    pub fn sprint(&self, number: u64) -> u64 {
        self.bor.sprint.at(number)
    }

    /// Whether `number` is the last block of a sprint (its header carries the
    /// next validator set before Rio).
    pub fn is_sprint_end(&self, number: u64) -> bool {
        number > 0 && (number + 1).is_multiple_of(self.sprint(number))
    }

    /// Whether `number` is the first block of a sprint (state syncs land here).
    pub fn is_sprint_start(&self, number: u64) -> bool {
        number.is_multiple_of(self.sprint(number))
    }

    /// The span id covering `number` on the fixed pre-Rio grid.
    pub fn span_id(&self, number: u64) -> u64 {
        if number <= self.bor.first_span_end {
            0
        } else {
            (number - self.bor.first_span_end - 1) / self.bor.span_length + 1
        }
    }

    /// The first and last block of span `id` on the fixed pre-Rio grid.
    pub fn span_range(&self, id: u64) -> (u64, u64) {
        if id == 0 {
            (0, self.bor.first_span_end)
        } else {
            let start = self.bor.first_span_end + 1 + (id - 1) * self.bor.span_length;
            (start, start + self.bor.span_length - 1)
        }
    }

    /// Polygon PoS mainnet.
    pub fn mainnet() -> Self {
        ChainSpec {
            name: "mainnet".into(),
            chain_id: 137,
            network_id: 137,
            genesis_hash: Some(b256!(
                "a9c28ce2141b56c474f1dc504bee9b01eb1bd7d1a507580d5519d4437a97de1b"
            )),
            forks: forks(&[
                ("istanbul", 3_395_000),
                ("muirGlacier", 3_395_000),
                ("berlin", 14_750_000),
                ("london", 23_850_000),
                ("shanghai", 50_523_000),
                ("cancun", 54_876_000),
                ("prague", 73_440_256),
            ]),
            timestamp_forks: Vec::new(),
            genesis_timestamp: 1_590_824_836,
            fork_id_rules: ForkIdRules::Bor,
            london_block: Some(23_850_000),
            cancun_block: Some(54_876_000),
            bor: BorRules {
                // After Madhugiri the period is 1 s according to third-party
                // configs (not yet confirmed in Bor's source); 1 is the safe
                // side: a 2 would reject real blocks if the change is real.
                period: BlockSchedule::from_pairs([(0, 2), (80_084_800, 1)]),
                producer_delay: BlockSchedule::from_pairs([(0, 6), (38_189_056, 4)]),
                sprint: BlockSchedule::from_pairs([(0, 64), (38_189_056, 16)]),
                backup_multiplier: BlockSchedule::constant(2),
                jaipur_block: Some(23_850_000),
                delhi_block: Some(38_189_056),
                indore_block: Some(44_934_656),
                ahmedabad_block: Some(62_278_656),
                bhilai_block: Some(73_440_256),
                rio_block: Some(77_414_656),
                madhugiri_block: Some(80_084_800),
                first_span_end: 255,
                span_length: 6400,
            },
            l1: L1Contracts {
                chain_id: 1,
                root_chain: address!("86E4Dc95c7FBdBf52e33D563BbDB00823894C287"),
            },
        }
    }

    /// Polygon Amoy testnet.
    pub fn amoy() -> Self {
        ChainSpec {
            name: "amoy".into(),
            chain_id: 80002,
            network_id: 80002,
            genesis_hash: Some(b256!(
                "7202b2b53c5a0836e773e319d18922cc756dd67432f9a1f65352b61f4406c697"
            )),
            forks: forks(&[
                ("london", 73_100),
                ("shanghai", 73_100),
                ("cancun", 5_423_600),
                ("prague", 22_765_056),
            ]),
            timestamp_forks: Vec::new(),
            genesis_timestamp: 1_700_225_065,
            fork_id_rules: ForkIdRules::Bor,
            london_block: Some(73_100),
            cancun_block: Some(5_423_600),
            bor: BorRules {
                period: BlockSchedule::from_pairs([(0, 2), (28_899_616, 1)]),
                producer_delay: BlockSchedule::constant(4),
                sprint: BlockSchedule::constant(16),
                backup_multiplier: BlockSchedule::constant(2),
                jaipur_block: Some(73_100),
                delhi_block: Some(73_100),
                indore_block: Some(73_100),
                ahmedabad_block: Some(11_865_856),
                bhilai_block: Some(22_765_056),
                rio_block: Some(26_272_256),
                madhugiri_block: Some(28_899_616),
                first_span_end: 255,
                span_length: 6400,
            },
            l1: L1Contracts {
                chain_id: 11_155_111,
                root_chain: address!("bd07D7E1E93c8d4b2a261327F3C28a8EA7167209"),
            },
        }
    }
}

fn forks(list: &[(&str, u64)]) -> Vec<Fork> {
    list.iter()
        .map(|(name, block)| Fork {
            name: (*name).into(),
            block: *block,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprint_and_span_arithmetic() {
        let mainnet = ChainSpec::mainnet();
        assert!(mainnet.is_sprint_end(9_825_983)); // 9_825_984 = 64 × 153_531
        assert!(mainnet.is_sprint_start(9_825_984));
        assert!(!mainnet.is_sprint_end(0));
        assert_eq!(mainnet.sprint(38_189_056), 16);
        // Span 1536 covers 9,824,256..=9,830,655 and span 7813 covers 49,997,056..=50,003,455.
        assert_eq!(mainnet.span_id(9_825_948), 1536);
        assert_eq!(mainnet.span_range(1536), (9_824_256, 9_830_655));
        assert_eq!(mainnet.span_id(50_000_000), 7813);
        assert_eq!(mainnet.span_range(7813), (49_997_056, 50_003_455));
        assert_eq!(mainnet.span_range(0), (0, 255));
        assert_eq!(mainnet.span_id(256), 1);
    }

    #[test]
    fn specs_round_trip_through_json() {
        for spec in [ChainSpec::mainnet(), ChainSpec::amoy()] {
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<ChainSpec>(&json).unwrap(), spec);
        }
    }
}
