//! Bor's genesis format, read the way Bor v2.2.11's `params.ChainConfig`
//! reads it: go-ethereum's, except that the post-merge forks are numbered
//! by block (`shanghaiBlock`, `cancunBlock`, `pragueBlock`, `verkleBlock`,
//! `osakaBlock`) and a `bor` section holds the consensus parameters
//! (sprint, period, producer delay, burnt contract, Bor's own forks).
//!
//! alloy's `ChainConfig` keeps these keys in its `extra_fields`; this
//! module takes them from there.

use std::collections::BTreeMap;

use alloy_genesis::ChainConfig;
use alloy_primitives::Address;
use hypasis_polygon::{schedule::BlockSchedule, spec::BorRules};
use serde::Deserialize;
use serde_json::Value;

/// Bor's block-numbered post-merge forks, in its `ChainConfig` field order:
/// (JSON key, fork name as in go-ethereum's `*Time` key).
pub(crate) const BLOCK_NUMBERED_FORKS: [(&str, &str); 5] = [
    ("shanghaiBlock", "shanghai"),
    ("cancunBlock", "cancun"),
    ("pragueBlock", "prague"),
    ("verkleBlock", "verkle"),
    ("osakaBlock", "osaka"),
];

/// What a Bor-format genesis adds to go-ethereum's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorGenesis {
    /// The block-numbered post-merge forks that are set, as
    /// (fork name, block), in `ChainConfig` field order.
    pub block_forks: Vec<(String, u64)>,
    /// Whether the config has a `bor` section at all (Bor then builds no
    /// EIP-7685 requests hash, whatever the consensus).
    pub has_section: bool,
    /// Bor's consensus parameters, when the chain runs Bor consensus: as
    /// Bor decides it, a `bor` section with a `validatorContract` and no
    /// `clique` section (Bor's `--dev` genesis has a `bor` section with only
    /// a burnt contract, and runs clique).
    pub rules: Option<BorRules>,
    /// Where the base fee goes instead of being burnt (`burntContract`),
    /// from the block each address applies.
    pub burnt_contract: Option<BlockSchedule<Address>>,
}

/// The `bor` section as Bor's `BorConfig` has it (keys we do not need, such
/// as `validatorContract` or `blockAlloc`, are skipped).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BorSection {
    #[serde(default)]
    period: BTreeMap<String, u64>,
    #[serde(default)]
    producer_delay: BTreeMap<String, u64>,
    #[serde(default)]
    sprint: BTreeMap<String, u64>,
    #[serde(default)]
    backup_multiplier: BTreeMap<String, u64>,
    #[serde(default)]
    burnt_contract: BTreeMap<String, Address>,
    #[serde(default)]
    validator_contract: String,
    jaipur_block: Option<u64>,
    delhi_block: Option<u64>,
    indore_block: Option<u64>,
    ahmedabad_block: Option<u64>,
    bhilai_block: Option<u64>,
    rio_block: Option<u64>,
    madhugiri_block: Option<u64>,
}

/// The first block of span 1 minus one, and the span length, as Heimdall
/// sets them on every Polygon network (they are not in the genesis).
const FIRST_SPAN_END: u64 = 255;
const SPAN_LENGTH: u64 = 6400;

/// Reads the Bor additions from a genesis `config`; `None` when the file is
/// in go-ethereum's format (no block-numbered post-merge fork and no `bor`
/// section). Fails on a fork given both by block and by time, a value that
/// is not a block number, or a `bor` section without its sprint, period or
/// producer delay.
pub(crate) fn read(config: &ChainConfig) -> Result<Option<BorGenesis>, String> {
    let extra = &config.extra_fields;
    let times = [
        ("shanghai", config.shanghai_time),
        ("cancun", config.cancun_time),
        ("prague", config.prague_time),
        ("osaka", config.osaka_time),
    ];
    let mut block_forks = Vec::new();
    for (key, name) in BLOCK_NUMBERED_FORKS {
        let Some(value) = extra.get_with(key, |value| value) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let block = block_number(key, &value)?;
        if let Some((_, Some(_))) = times.iter().find(|(time_name, _)| *time_name == name) {
            return Err(format!(
                "config: both {key} and {name}Time are set; a chain forks by block (Bor) or by time (go-ethereum), not both"
            ));
        }
        block_forks.push((name.to_string(), block));
    }
    let section = match extra.get_with("bor", |value| value) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<BorSection>(value)
                .map_err(|error| format!("config.bor: {error}"))?,
        ),
    };
    if block_forks.is_empty() && section.is_none() {
        return Ok(None);
    }
    let has_section = section.is_some();
    let (rules, burnt_contract) = match section {
        None => (None, None),
        Some(section) => {
            let burnt = if section.burnt_contract.is_empty() {
                None
            } else {
                Some(schedule("burntContract", &section.burnt_contract, None)?)
            };
            let bor_consensus = !section.validator_contract.is_empty() && config.clique.is_none();
            (bor_consensus.then(|| rules(&section)).transpose()?, burnt)
        }
    };
    Ok(Some(BorGenesis {
        has_section,
        block_forks,
        rules,
        burnt_contract,
    }))
}

fn block_number(key: &str, value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(number) => number
            .as_u64()
            .ok_or_else(|| format!("config: {key}: {number} is not a block number")),
        Value::String(text) => match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse::<u64>(),
        }
        .map_err(|error| format!("config: {key}: {text:?}: {error}")),
        other => Err(format!("config: {key}: {other} is not a block number")),
    }
}

/// A Bor `{"<block>": value}` map as a schedule; `nonzero` names a value
/// that must not be 0 (a sprint of 0 blocks would divide by zero).
fn schedule<T: Clone>(
    key: &str,
    map: &BTreeMap<String, T>,
    nonzero: Option<fn(&T) -> bool>,
) -> Result<BlockSchedule<T>, String> {
    if map.is_empty() {
        return Err(format!("config.bor.{key} is missing or empty"));
    }
    let mut pairs = Vec::with_capacity(map.len());
    for (block, value) in map {
        let block = block
            .parse::<u64>()
            .map_err(|_| format!("config.bor.{key}: key {block:?} is not a block number"))?;
        if nonzero.is_some_and(|is_zero| is_zero(value)) {
            return Err(format!("config.bor.{key}: the value at block {block} is 0"));
        }
        pairs.push((block, value.clone()));
    }
    Ok(BlockSchedule::from_pairs(pairs))
}

fn rules(section: &BorSection) -> Result<BorRules, String> {
    let zero = |value: &u64| *value == 0;
    Ok(BorRules {
        period: schedule("period", &section.period, None)?,
        producer_delay: schedule("producerDelay", &section.producer_delay, None)?,
        sprint: schedule("sprint", &section.sprint, Some(zero))?,
        backup_multiplier: if section.backup_multiplier.is_empty() {
            BlockSchedule::constant(0)
        } else {
            schedule("backupMultiplier", &section.backup_multiplier, None)?
        },
        jaipur_block: section.jaipur_block,
        delhi_block: section.delhi_block,
        indore_block: section.indore_block,
        ahmedabad_block: section.ahmedabad_block,
        bhilai_block: section.bhilai_block,
        rio_block: section.rio_block,
        madhugiri_block: section.madhugiri_block,
        first_span_end: FIRST_SPAN_END,
        span_length: SPAN_LENGTH,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ChainConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn go_ethereum_format_has_no_bor_part() {
        let read = read(&config(
            r#"{"chainId":1,"londonBlock":0,"shanghaiTime":10}"#,
        ))
        .unwrap();
        assert_eq!(read, None);
    }

    #[test]
    fn bor_format_reads_block_forks_and_the_bor_section() {
        let bor = read(&config(
            r#"{"chainId":137,"londonBlock":5,"shanghaiBlock":10,"cancunBlock":"20","pragueBlock":30,
                "bor":{"validatorContract":"0x0000000000000000000000000000000000001000",
                       "period":{"0":2},"producerDelay":{"0":6,"100":4},"sprint":{"0":64,"100":16},
                       "backupMultiplier":{"0":2},"jaipurBlock":5,"delhiBlock":100,
                       "burntContract":{"5":"0x70bca57f4579f58670ab2d18ef16e02c17553c38"}}}"#,
        ))
        .unwrap()
        .unwrap();
        let forks: Vec<(&str, u64)> = bor
            .block_forks
            .iter()
            .map(|(name, block)| (name.as_str(), *block))
            .collect();
        assert_eq!(forks, [("shanghai", 10), ("cancun", 20), ("prague", 30)]);
        let rules = bor.rules.unwrap();
        assert_eq!((rules.sprint.at(99), rules.sprint.at(100)), (64, 16));
        assert_eq!(rules.producer_delay.at(100), 4);
        assert_eq!(
            (rules.jaipur_block, rules.delhi_block),
            (Some(5), Some(100))
        );
        assert_eq!(
            bor.burnt_contract.unwrap().at(5),
            "0x70bca57f4579f58670ab2d18ef16e02c17553c38"
                .parse::<Address>()
                .unwrap()
        );
    }

    /// Bor's `--dev` genesis: block-numbered forks and a `bor` section with
    /// only a burnt contract; Bor runs clique on it, not Bor consensus.
    #[test]
    fn a_bor_section_without_validator_contract_is_not_bor_consensus() {
        let bor = read(&config(
            r#"{"chainId":1337,"londonBlock":0,"shanghaiBlock":0,"cancunBlock":0,"pragueBlock":0,
                "bor":{"burntContract":{"0":"0x000000000000000000000000000000000000dead"}}}"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(bor.rules, None);
        assert!(bor.burnt_contract.is_some());
        let clique = read(&config(
            r#"{"chainId":1,"clique":{"period":1,"epoch":30000},
                "bor":{"validatorContract":"0x1000","period":{"0":2},"producerDelay":{"0":2},"sprint":{"0":16}}}"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(clique.rules, None);
    }

    #[test]
    fn bad_bor_configs_are_refused_with_the_key() {
        for (json, needle) in [
            (
                r#"{"chainId":1,"shanghaiBlock":10,"shanghaiTime":10}"#,
                "both shanghaiBlock and shanghaiTime",
            ),
            (r#"{"chainId":1,"cancunBlock":-3}"#, "cancunBlock"),
            (
                r#"{"chainId":1,"bor":{"validatorContract":"0x1000","period":{"0":2},"producerDelay":{"0":2}}}"#,
                "config.bor.sprint is missing",
            ),
            (
                r#"{"chainId":1,"bor":{"validatorContract":"0x1000","period":{"0":2},"producerDelay":{"0":2},"sprint":{"0":0}}}"#,
                "config.bor.sprint: the value at block 0 is 0",
            ),
            (
                r#"{"chainId":1,"bor":{"validatorContract":"0x1000","period":{"x":2},"producerDelay":{"0":2},"sprint":{"0":16}}}"#,
                "config.bor.period: key \"x\"",
            ),
            (r#"{"chainId":1,"bor":{"sprint":"16"}}"#, "config.bor:"),
        ] {
            let error = read(&config(json)).unwrap_err();
            assert!(error.contains(needle), "{json}: {error}");
        }
    }
}
