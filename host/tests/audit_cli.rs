//! The operator's audit commands: `header decode` on real mainnet data and
//! `checkpoint verify|list` against the devnet, honest and lying.

use std::{process::Command, time::Duration};

use hypasis_devnet::{
    ChainConfig, CheckpointConfig, Devnet, DevnetOptions,
    faults::{Tamper, TamperTarget},
};

fn hypasis(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hypasis-sync"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn header_decode_prints_hash_and_signer_by_the_blocks_rule() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/polygon/block-50000000/header.rlp.hex"
    );
    let output = hypasis(&["header", "decode", path, "--chain", "mainnet"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "hash:        0xed6bc55bb3fbf391fb47a96bb0327906a2dab5f50c1330f89684b79a5195efaa"
        ),
        "{text}"
    );
    assert!(text.contains("number:      50000000"), "{text}");
    assert!(
        text.contains("signer:      0x9ead03f7136fc6b4bdb0780b00a1c14ae5a8b6d0"),
        "{text}"
    );
    let output = hypasis(&["header", "decode", "0xc0ffee", "--chain", "mainnet"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("header: malformed RLP"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_verify_agrees_with_an_honest_rpc_and_not_with_a_liar() {
    let devnet = Devnet::start(DevnetOptions {
        chain: ChainConfig {
            txs_per_block: 2,
            ..ChainConfig::default()
        },
        checkpoints: CheckpointConfig {
            interval: 128,
            max_length: 512,
            ..CheckpointConfig::default()
        },
        block_time: Duration::from_secs(3600),
        prefill: 800,
        upstreams: 2,
        port: 0,
        ..DevnetOptions::default()
    })
    .await
    .unwrap();
    // The liar changes the timestamp of the last block of checkpoint 20000
    // (blocks 512..=...), with a consistent hash.
    let second = devnet.checkpoints().read()[1].clone();
    devnet.faults(1).unwrap().update(|settings| {
        settings.tamper = vec![Tamper {
            block: second.end,
            target: TamperTarget::Header {
                field: "timestamp".into(),
            },
            rehash: true,
        }]
    });
    let (l1, heimdall) = (devnet.l1_url(), devnet.heimdall_url());
    let (honest, liar) = (
        devnet.upstream_urls()[0].clone(),
        devnet.upstream_urls()[1].clone(),
    );
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            hypasis(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let base = |polygon: &str, id: &str| {
        vec![
            "checkpoint".into(),
            "verify".into(),
            "--chain".into(),
            "devnet".into(),
            "--l1".into(),
            l1.clone(),
            "--heimdall".into(),
            heimdall.clone(),
            "--polygon".into(),
            polygon.to_string(),
            id.to_string(),
        ]
    };
    let output = run(base(&honest, "20000")).await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("AGREE: the"), "{text}");

    let output = run(base(&liar, "20000")).await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("DISAGREE"), "{text}");

    let output = run(vec![
        "checkpoint".into(),
        "list".into(),
        "--chain".into(),
        "devnet".into(),
        "--l1".into(),
        l1.clone(),
        "--heimdall".into(),
        heimdall.clone(),
    ])
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        text.lines()
            .any(|line| line.trim_start().starts_with("20000")),
        "{text}"
    );
    devnet.stop().await;
}
