//! Interop against Bor v2.2.11, the client Polygon operators run: Bor's own
//! `devp2p rlpx eth-test` (its copy of go-ethereum's suite, with
//! `MaliciousStatus` added) against `serve` on the suite's chain, and our
//! fork ids against those Bor's own code computes (`tests/bor-forkid`).
//!
//! Bor computes fork ids from block-numbered forks only, so the chain is
//! imported with `--fork-id-rules bor`, as an operator serving a go-ethereum
//! genesis to Bor nodes would.
//!
//! Needs Bor's devp2p tool and `bor-forkid`, built from `../shared/bor/`
//! (.ci/run builds them into target/go-tools/); set `HYPASIS_BOR_DEVP2P` /
//! `HYPASIS_BOR_FORKID` to use other paths. Without them the tests fail and
//! say how to build them.

mod common;

use std::{path::PathBuf, process::Command};

use alloy_primitives::B256;
use common::ethtest::{self, run_ok, serve_ethtest_chain};
use hypasis_eth_wire::{ForkHead, fork_id};
use hypasis_polygon::{ChainSpec, spec::ForkIdRules};

const BUILD_HINT: &str = "run .ci/run, which extracts ../shared/bor/bor-v2.2.11.tar.gz under \
     target/ and builds Bor's tools into target/go-tools/";

fn bor_devp2p_tool() -> PathBuf {
    ethtest::go_tool("HYPASIS_BOR_DEVP2P", "bor-devp2p").unwrap_or_else(|| {
        panic!("Bor's devp2p tool is not built: {BUILD_HINT}, or set HYPASIS_BOR_DEVP2P")
    })
}

/// (genesis hash, fork id) per head, as Bor computes them for `chain`
/// (`mainnet`, `amoy` or a genesis file).
fn bor_fork_ids(chain: &str, heads: &[u64]) -> Vec<(B256, String, u64)> {
    let tool = ethtest::go_tool("HYPASIS_BOR_FORKID", "bor-forkid").unwrap_or_else(|| {
        panic!("bor-forkid is not built: {BUILD_HINT}, or set HYPASIS_BOR_FORKID")
    });
    let output = run_ok(
        Command::new(tool)
            .arg(chain)
            .args(heads.iter().map(u64::to_string)),
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!(fields.len(), 4, "{line}");
            (
                fields[1].parse().unwrap(),
                fields[2].to_string(),
                fields[3].parse().unwrap(),
            )
        })
        .collect()
}

/// Every fork boundary of `spec` (the block before and the block itself),
/// genesis, and a head far past the last fork.
fn heads_around_forks(spec: &ChainSpec) -> Vec<u64> {
    let mut heads = vec![0, 1, 200_000_000];
    for fork in spec.forks.iter().filter(|fork| fork.block > 0) {
        heads.extend([fork.block - 1, fork.block]);
    }
    heads.sort_unstable();
    heads.dedup();
    heads
}

fn assert_same_fork_ids(what: &str, spec: &ChainSpec, bor_chain: &str) {
    let heads = heads_around_forks(spec);
    let theirs = bor_fork_ids(bor_chain, &heads);
    assert_eq!(theirs.len(), heads.len());
    for (head, (genesis, hash, next)) in heads.iter().zip(theirs) {
        assert_eq!(spec.genesis_hash, Some(genesis), "{what}: genesis");
        let ours = fork_id(spec, ForkHead::new(*head, 0)).unwrap();
        assert_eq!(
            (hex::encode(ours.hash.0), ours.next),
            (hash, next),
            "{what}: fork id at head {head}"
        );
    }
}

/// Our built-in mainnet and Amoy specs, and the spec `import` builds from
/// Bor's mainnet genesis file, give the fork ids Bor's own code computes.
#[test]
fn fork_ids_are_the_ones_bor_computes() {
    assert_same_fork_ids("mainnet", &ChainSpec::mainnet(), "mainnet");
    assert_same_fork_ids("amoy", &ChainSpec::amoy(), "amoy");
    let genesis = common::workspace_root().join("testdata/bor/genesis-mainnet-v1.json");
    let text = std::fs::read_to_string(&genesis).unwrap();
    let imported = hypasis_import::import(&text, &[]).unwrap();
    assert_same_fork_ids(
        "imported mainnet genesis",
        &imported.spec,
        genesis.to_str().unwrap(),
    );
    // A private clique chain in Bor's format (every fork at block 0): the
    // same genesis block, withdrawals and blob fields and no requests hash.
    let private = common::workspace_root().join("testdata/bor/private-clique-genesis.json");
    let text = std::fs::read_to_string(&private).unwrap();
    let imported = hypasis_import::import(&text, &[]).unwrap();
    assert_eq!(imported.spec.fork_id_rules, ForkIdRules::Bor);
    assert_same_fork_ids(
        "private clique genesis",
        &imported.spec,
        private.to_str().unwrap(),
    );
    // The eth-test chain's go-ethereum genesis as a Bor node reads it: its
    // `*Time` forks do not count.
    let chain = ethtest::ethtest_chain();
    let mut ethtest =
        hypasis_import::import_files(&chain.join("genesis.json"), &chain.join("chain.rlp"))
            .unwrap()
            .spec;
    assert_eq!(ethtest.fork_id_rules, ForkIdRules::Ethereum);
    ethtest.fork_id_rules = ForkIdRules::Bor;
    assert_same_fork_ids(
        "eth-test chain under Bor's rules",
        &ethtest,
        chain.join("genesis.json").to_str().unwrap(),
    );
}

#[test]
fn bor_eth_test_passes_against_serve() {
    let tool = bor_devp2p_tool();
    let served = serve_ethtest_chain(&["--fork-id-rules", "bor"]);
    // go-ethereum's eight block-serving and handshake tests, and Bor's own.
    let mut tests = ethtest::BLOCK_SERVING_TESTS.to_vec();
    tests.push("MaliciousStatus");
    ethtest::run_eth_test(&tool, &served.enode, &tests);
}
