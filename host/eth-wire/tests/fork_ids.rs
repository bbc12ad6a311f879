//! Fork ids against the published vectors: every EIP-2124 and EIP-6122
//! fork-id, validation and RLP case, and Bor's mainnet and Amoy ids from the
//! research notes (`testdata/devp2p/eip2124-*.json`, `eip6122-forkid.json`).

use alloy_primitives::B256;
use hypasis_eth_wire::{ForkHash, ForkHead, ForkId, ValidationError, fork_filter, fork_id};
use hypasis_polygon::{
    ChainSpec,
    spec::{Fork, ForkIdRules},
};
use serde::Deserialize;

fn vectors<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = format!(
        "{}/../../testdata/devp2p/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[derive(Deserialize)]
struct ForkIdFile {
    chains: Vec<Chain>,
    validation: Validation,
    #[serde(default)]
    rlp: Vec<RlpCase>,
}

#[derive(Deserialize)]
struct Chain {
    name: String,
    genesis: B256,
    genesis_timestamp: u64,
    forks: Vec<Fork>,
    timestamp_forks: Vec<Fork>,
    cases: Vec<IdCase>,
}

#[derive(Deserialize)]
struct IdCase {
    head: u64,
    #[serde(default)]
    time: u64,
    hash: String,
    next: u64,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
struct Validation {
    chain: String,
    cases: Vec<ValidationCase>,
}

#[derive(Deserialize)]
struct ValidationCase {
    head: u64,
    time: u64,
    hash: String,
    next: u64,
    result: String,
    comment: String,
}

#[derive(Deserialize)]
struct RlpCase {
    hash: String,
    next: u64,
    rlp: String,
}

fn fork_hash(text: &str) -> ForkHash {
    let bytes = hex::decode(text.trim_start_matches("0x")).unwrap();
    ForkHash(bytes.try_into().unwrap())
}

fn spec_of(chain: &Chain) -> ChainSpec {
    ChainSpec {
        name: chain.name.clone(),
        genesis_hash: Some(chain.genesis),
        forks: chain.forks.clone(),
        timestamp_forks: chain.timestamp_forks.clone(),
        genesis_timestamp: chain.genesis_timestamp,
        fork_id_rules: ForkIdRules::Ethereum,
        ..ChainSpec::mainnet()
    }
}

/// Checks every fork-id case and validation case of one vector file;
/// returns (fork-id cases, validation cases) checked.
fn check_file(file: &str) -> (usize, usize) {
    let vectors: ForkIdFile = vectors(file);
    let mut id_cases = 0;
    for chain in &vectors.chains {
        let spec = spec_of(chain);
        for case in &chain.cases {
            let got = fork_id(&spec, ForkHead::new(case.head, case.time)).unwrap();
            let want = ForkId {
                hash: fork_hash(&case.hash),
                next: case.next,
            };
            assert_eq!(
                got, want,
                "{file}: {} head {} time {} ({})",
                chain.name, case.head, case.time, case.comment
            );
            id_cases += 1;
        }
    }

    let chain = vectors
        .chains
        .iter()
        .find(|chain| chain.name == vectors.validation.chain)
        .unwrap();
    let spec = spec_of(chain);
    for case in &vectors.validation.cases {
        let filter = fork_filter(&spec, ForkHead::new(case.head, case.time)).unwrap();
        let remote = ForkId {
            hash: fork_hash(&case.hash),
            next: case.next,
        };
        let got = match filter.validate(remote) {
            Ok(()) => "ok",
            Err(ValidationError::RemoteStale { .. }) => "remote_stale",
            Err(ValidationError::LocalIncompatibleOrStale { .. }) => "local_incompatible_or_stale",
        };
        assert_eq!(
            got, case.result,
            "{file}: head {} time {}: {}",
            case.head, case.time, case.comment
        );
    }

    for case in &vectors.rlp {
        let id = ForkId {
            hash: fork_hash(&case.hash),
            next: case.next,
        };
        let want = hex::decode(case.rlp.trim_start_matches("0x")).unwrap();
        assert_eq!(alloy_rlp::encode(id), want, "{file}: rlp of {id:?}");
        assert_eq!(alloy_rlp::decode_exact::<ForkId>(&want).unwrap(), id);
    }
    (id_cases, vectors.validation.cases.len())
}

#[test]
fn eip2124_vectors() {
    let (ids, validations) = check_file("eip2124-forkid.json");
    // Mainnet 14, Ropsten 12, Rinkeby 13, Goerli 4; 15 validation cases.
    assert_eq!((ids, validations), (43, 15));
}

#[test]
fn eip6122_vectors() {
    let (ids, validations) = check_file("eip6122-forkid.json");
    assert_eq!((ids, validations), (29, 16));
}

#[test]
fn eip6122_timestamp_fork_example() {
    #[derive(Deserialize)]
    struct Example {
        genesis: B256,
        forks: Vec<u64>,
        timestamp_forks: Vec<u64>,
        hash: String,
    }
    #[derive(Deserialize)]
    struct File {
        example: Example,
    }
    let File { example } = vectors("eip6122-forkid.json");
    let fork = |block| Fork {
        name: "fork".into(),
        block,
    };
    let spec = ChainSpec {
        genesis_hash: Some(example.genesis),
        forks: example.forks.into_iter().map(fork).collect(),
        timestamp_forks: example.timestamp_forks.iter().copied().map(fork).collect(),
        genesis_timestamp: 0,
        fork_id_rules: ForkIdRules::Ethereum,
        ..ChainSpec::mainnet()
    };
    let id = fork_id(&spec, ForkHead::new(2_000_000, example.timestamp_forks[0])).unwrap();
    assert_eq!(id.hash, fork_hash(&example.hash));
    assert_eq!(id.next, 0);
    // A timestamp fork at or before genesis does not count.
    let at_genesis = ChainSpec {
        genesis_timestamp: example.timestamp_forks[0],
        ..spec
    };
    let id = fork_id(&at_genesis, ForkHead::new(2_000_000, u64::MAX)).unwrap();
    assert_eq!(id.hash, ForkHash([0x97, 0xc2, 0xc3, 0x4c])); // homestead alone (EIP-2124)
}

#[test]
fn bor_fork_ids_match_the_notes() {
    #[derive(Deserialize)]
    struct File {
        chains: Vec<BorChain>,
    }
    #[derive(Deserialize)]
    struct BorChain {
        spec: String,
        cases: Vec<IdCase>,
    }
    let file: File = vectors("eip2124-bor-forkid.json");
    let mut checked = 0;
    for chain in &file.chains {
        let spec = match chain.spec.as_str() {
            "mainnet" => ChainSpec::mainnet(),
            "amoy" => ChainSpec::amoy(),
            other => panic!("unknown spec {other}"),
        };
        for case in &chain.cases {
            let got = fork_id(&spec, ForkHead::new(case.head, case.time)).unwrap();
            assert_eq!(
                got.hash,
                fork_hash(&case.hash),
                "{} head {}",
                chain.spec,
                case.head
            );
            assert_eq!(got.next, case.next, "{} head {}", chain.spec, case.head);
            checked += 1;
        }
    }
    assert_eq!(checked, 22);

    // The ones the brief names.
    let mainnet = ChainSpec::mainnet();
    let current = fork_id(&mainnet, ForkHead::new(80_000_000, 1_760_000_000)).unwrap();
    assert_eq!(
        current,
        ForkId {
            hash: ForkHash([0x22, 0xd5, 0x23, 0xb2]),
            next: 0
        }
    );
    let cancun = fork_id(&mainnet, ForkHead::new(54_876_000, 0)).unwrap();
    assert_eq!(
        cancun,
        ForkId {
            hash: ForkHash([0xf0, 0x97, 0xbc, 0x13]),
            next: 73_440_256
        }
    );
    let amoy = fork_id(&ChainSpec::amoy(), ForkHead::new(30_000_000, 1_760_000_000)).unwrap();
    assert_eq!(
        amoy,
        ForkId {
            hash: ForkHash([0x8b, 0x7e, 0x41, 0x75]),
            next: 0
        }
    );
}

#[test]
fn bor_peers_are_judged_by_the_filter() {
    let mainnet = ChainSpec::mainnet();
    let filter = fork_filter(&mainnet, ForkHead::new(80_000_000, 0)).unwrap();
    let current = filter.current();
    // A synced Bor node.
    assert_eq!(filter.validate(current), Ok(()));
    // A Bor node still syncing through Cancun that knows of Prague.
    let syncing = ForkId {
        hash: ForkHash([0xf0, 0x97, 0xbc, 0x13]),
        next: 73_440_256,
    };
    assert_eq!(filter.validate(syncing), Ok(()));
    // A node that does not know of Prague: stale.
    let stale = ForkId {
        hash: ForkHash([0xf0, 0x97, 0xbc, 0x13]),
        next: 0,
    };
    assert!(matches!(
        filter.validate(stale),
        Err(ValidationError::RemoteStale { .. })
    ));
    // Amoy's current id on mainnet: another chain.
    let amoy = fork_id(&ChainSpec::amoy(), ForkHead::new(30_000_000, 0)).unwrap();
    assert!(matches!(
        filter.validate(amoy),
        Err(ValidationError::LocalIncompatibleOrStale { .. })
    ));
    // Our filter at genesis accepts a synced peer (we are the one behind).
    let behind = fork_filter(&mainnet, ForkHead::new(0, 0)).unwrap();
    assert_eq!(behind.validate(current), Ok(()));
}
