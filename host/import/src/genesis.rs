//! The genesis block, built from `genesis.json` the way go-ethereum v1.15
//! (and Bor, which shares that code) builds it: the header fields from the
//! file, the state root of the alloc, and the fork-dependent optional
//! fields (base fee from London, withdrawals root from Shanghai, blob fields
//! and parent beacon root from Cancun, requests hash from Prague except on a
//! chain with a `bor` section).

use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH, Header};
use alloy_eips::{eip1559::INITIAL_BASE_FEE, eip7685::EMPTY_REQUESTS_HASH};
use alloy_genesis::Genesis;
use alloy_primitives::{B64, B256, Bloom, U256};
use serde_json::Value;

use crate::{forks::EthereumForks, state};

/// go-ethereum's gas limit for a genesis that gives none.
const GENESIS_GAS_LIMIT: u64 = 4_712_388;
/// go-ethereum's difficulty for an ethash genesis that gives neither a
/// difficulty nor a mix hash.
const GENESIS_DIFFICULTY: u64 = 131_072;

/// A parsed genesis file.
#[derive(Debug, Clone)]
pub(crate) struct GenesisFile {
    /// The file as alloy reads it.
    pub genesis: Genesis,
    /// Whether the file has a `difficulty` key (go-ethereum tells an absent
    /// difficulty from a zero one).
    has_difficulty: bool,
    /// The `gasUsed` field, which alloy does not read.
    gas_used: u64,
}

/// Parses a go-ethereum `genesis.json`.
pub(crate) fn parse(json: &str) -> Result<GenesisFile, String> {
    let value: Value = serde_json::from_str(json).map_err(|error| error.to_string())?;
    let genesis: Genesis = serde_json::from_str(json).map_err(|error| error.to_string())?;
    let gas_used = match value.get("gasUsed") {
        None | Some(Value::Null) => 0,
        Some(Value::String(text)) => {
            hypasis_polygon::rpc_json::parse_u64("gasUsed", text).map_err(|e| e.to_string())?
        }
        Some(Value::Number(number)) => number
            .as_u64()
            .ok_or_else(|| format!("gasUsed: {number} is not a u64"))?,
        Some(other) => return Err(format!("gasUsed: {other} is not a quantity")),
    };
    Ok(GenesisFile {
        has_difficulty: value.get("difficulty").is_some_and(|v| !v.is_null()),
        gas_used,
        genesis,
    })
}

impl GenesisFile {
    /// The genesis header. Fails when the base fee does not fit 64 bits or
    /// the genesis would already run Amsterdam rules.
    pub(crate) fn header(&self, forks: &EthereumForks) -> Result<Header, String> {
        let genesis = &self.genesis;
        let number = genesis.number.unwrap_or(0);
        let timestamp = genesis.timestamp;
        let time_active = |name| forks.is_active(name, number, timestamp);
        if time_active("amsterdam") {
            return Err("a genesis under Amsterdam rules is not supported".into());
        }
        // An absent difficulty is 0 unless the chain runs ethash; then, with
        // no mix hash either, go-ethereum's default.
        let difficulty = if self.has_difficulty {
            genesis.difficulty
        } else if genesis.config.ethash.is_some() && genesis.mix_hash == B256::ZERO {
            U256::from(GENESIS_DIFFICULTY)
        } else {
            U256::ZERO
        };
        let base_fee_per_gas = if forks.is_block_active("london", number) {
            let fee = genesis
                .base_fee_per_gas
                .unwrap_or(u128::from(INITIAL_BASE_FEE));
            Some(u64::try_from(fee).map_err(|_| format!("baseFeePerGas {fee} exceeds 64 bits"))?)
        } else {
            None
        };
        let cancun = time_active("cancun");
        Ok(Header {
            parent_hash: genesis.parent_hash.unwrap_or_default(),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: genesis.coinbase,
            state_root: state::alloc_root(&genesis.alloc),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Bloom::ZERO,
            difficulty,
            number,
            gas_limit: if genesis.gas_limit == 0 {
                GENESIS_GAS_LIMIT
            } else {
                genesis.gas_limit
            },
            gas_used: self.gas_used,
            timestamp,
            extra_data: genesis.extra_data.clone(),
            mix_hash: genesis.mix_hash,
            nonce: B64::from(genesis.nonce),
            base_fee_per_gas,
            withdrawals_root: time_active("shanghai").then_some(EMPTY_ROOT_HASH),
            blob_gas_used: cancun.then(|| genesis.blob_gas_used.unwrap_or(0)),
            excess_blob_gas: cancun.then(|| genesis.excess_blob_gas.unwrap_or(0)),
            // EIP-4788: the genesis has no parent, so the zero hash.
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            // Bor has no EIP-7685 requests.
            requests_hash: (time_active("prague") && !forks.has_bor_section())
                .then_some(EMPTY_REQUESTS_HASH),
            block_access_list_hash: None,
            slot_number: None,
        })
    }

    /// The genesis body: no transactions, no uncles, and an empty
    /// withdrawal list from Shanghai on.
    pub(crate) fn body(&self, header: &Header) -> Vec<u8> {
        if header.withdrawals_root.is_some() {
            vec![0xc3, 0xc0, 0xc0, 0xc0]
        } else {
            vec![0xc2, 0xc0, 0xc0]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: &str = r#"{
        "config": {"chainId": 1337, "homesteadBlock": 0, "londonBlock": 0,
                   "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0},
        "gasLimit": "0x1c9c380", "timestamp": "0x0", "extraData": "0x",
        "alloc": {"0x0000000000000000000000000000000000000001": {"balance": "0x1"}}
    }"#;

    #[test]
    fn fork_fields_follow_the_config() {
        let file = parse(GENESIS).unwrap();
        let forks = EthereumForks::from_config(&file.genesis.config).unwrap();
        let header = file.header(&forks).unwrap();
        assert_eq!(header.base_fee_per_gas, Some(INITIAL_BASE_FEE));
        assert_eq!(header.withdrawals_root, Some(EMPTY_ROOT_HASH));
        assert_eq!(header.blob_gas_used, Some(0));
        assert_eq!(header.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(header.requests_hash, Some(EMPTY_REQUESTS_HASH));
        // No difficulty and no ethash section: 0, as go-ethereum v1.15.
        assert_eq!(header.difficulty, U256::ZERO);
        assert_eq!(file.body(&header), [0xc3, 0xc0, 0xc0, 0xc0]);
        assert!(parse("{").is_err());

        let ethash =
            parse(&GENESIS.replace(r#""chainId": 1337,"#, r#""chainId": 1337, "ethash": {},"#))
                .unwrap();
        let header = ethash.header(&forks).unwrap();
        assert_eq!(header.difficulty, U256::from(GENESIS_DIFFICULTY));
    }

    #[test]
    fn bor_genesis_forks_by_block_and_has_no_requests_hash() {
        let file = parse(
            r#"{"config": {"chainId": 15001, "londonBlock": 0, "shanghaiBlock": 0, "cancunBlock": 0,
                           "pragueBlock": 0, "bor": {"validatorContract": "0x0000000000000000000000000000000000001000",
                           "period": {"0": 1}, "producerDelay": {"0": 2},
                           "sprint": {"0": 16}}},
                "gasLimit": "0x1c9c380", "difficulty": "0x1", "alloc": {}}"#,
        )
        .unwrap();
        let forks = EthereumForks::from_config(&file.genesis.config).unwrap();
        let header = file.header(&forks).unwrap();
        assert_eq!(header.withdrawals_root, Some(EMPTY_ROOT_HASH));
        assert_eq!(header.excess_blob_gas, Some(0));
        assert_eq!(header.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(header.requests_hash, None);
        assert_eq!(header.difficulty, U256::from(1));
    }
}
