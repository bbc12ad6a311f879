//! Loading real plugin libraries through the ABI: the built-in ones, an
//! out-of-tree one, and ones built against another ABI.

mod common;

use std::{path::Path, sync::OnceLock};

use abi_stable::std_types::{ROption, RVec};
use alloy_consensus::Header;
use alloy_rlp::Encodable;
use hypasis_plugin_api::{
    ABI_VERSION, BlockPart, BlockRange, Direction, ErrorKind, IntervalChange, MetaChange, Outcome,
    PluginKind, RawBlock, ValidationRequest, Verdict, WriteBatch,
};
use hypasis_sync::{
    config::{self, Config, ConfigEnv, ValidationLevelName},
    plugins::{PluginLibrary, PluginLoadError, PluginLoader, library_file_name},
};

fn loader(dir: &Path, data_dir: &Path) -> PluginLoader {
    PluginLoader::new(dir.to_path_buf(), data_dir.to_path_buf(), 1)
}

fn config_with(yaml: &str) -> Config {
    config::parse(yaml, Path::new("test.yaml"), &ConfigEnv::default()).expect("test config parses")
}

fn header_rlp(number: u64, parent: [u8; 32]) -> Vec<u8> {
    let header = Header {
        number,
        parent_hash: parent.into(),
        gas_limit: 30_000_000,
        timestamp: 1_700_000_000 + number * 2,
        ..Default::default()
    };
    let mut bytes = Vec::new();
    header.encode(&mut bytes);
    bytes
}

fn raw_block(number: u64, hash_byte: u8) -> RawBlock {
    RawBlock {
        number,
        hash: [hash_byte; 32],
        header: header_rlp(number, [hash_byte.wrapping_sub(1); 32]).into(),
        // [[tx], []] with one opaque transaction.
        body: ROption::RSome(vec![0xc5, 0xc3, 0x82, 0xaa, 0xbb, 0xc0].into()),
        receipts: ROption::RSome(vec![0xc0].into()),
        state_sync: ROption::RNone,
        tx_hashes: Default::default(),
        senders: Default::default(),
        ext: Default::default(),
    }
}

#[test]
fn built_in_plugins_load_through_the_abi() {
    let dir = common::built_in_plugin_dir();
    for (name, kind) in [
        ("validation-none", PluginKind::Validation),
        ("storage-memory", PluginKind::Storage),
    ] {
        let library = PluginLibrary::open(&dir.join(library_file_name(name))).unwrap();
        let description = library.description();
        assert_eq!(description.name, name);
        assert_eq!(description.kind, kind);
        assert_eq!(description.version, hypasis_sync::VERSION);
        assert_eq!(description.abi, ABI_VERSION);
        assert!(!description.description.is_empty());
    }
}

#[tokio::test]
async fn storage_memory_round_trip_through_the_abi() {
    let dir = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let config = config_with("storage:\n  plugin: storage-memory\n");
    let storage = loader(&dir, data.path()).storage(&config).unwrap();
    assert_eq!(storage.name(), "storage-memory");

    let blocks: Vec<RawBlock> = (10..13)
        .map(|number| RawBlock {
            tx_hashes: vec![[0x70 + number as u8; 32]].into(),
            ..raw_block(number, number as u8)
        })
        .collect();
    storage
        .write(WriteBatch {
            blocks: blocks.clone().into(),
            intervals: vec![IntervalChange {
                set: "verified".into(),
                add: vec![BlockRange::new(10, 12)].into(),
                remove: RVec::new(),
                space: hypasis_plugin_api::Namespace::Chain,
                ext: Default::default(),
            }]
            .into(),
            meta: vec![MetaChange {
                key: "sync/forward".into(),
                value: ROption::RSome(b"12".to_vec().into()),
                space: hypasis_plugin_api::Namespace::Host,
                ext: Default::default(),
            }]
            .into(),
            ..Default::default()
        })
        .await
        .unwrap();

    assert_eq!(
        storage.canonical_hashes(&[9, 10, 12]).unwrap(),
        vec![None, Some([10; 32]), Some([12; 32])]
    );
    assert_eq!(storage.block_number(&[11; 32]).unwrap(), Some(11));
    let headers = storage
        .parts(BlockPart::Header, &[[11; 32], [99; 32]])
        .unwrap();
    assert_eq!(headers[0].as_ref().into_option(), Some(&blocks[1].header));
    assert!(headers[1].is_rnone());
    let state_sync = storage.parts(BlockPart::StateSync, &[[11; 32]]).unwrap();
    assert!(state_sync[0].is_rnone());
    let tx = storage.transaction(&[0x7b; 32]).unwrap().unwrap();
    assert_eq!((tx.number, tx.block_hash, tx.index), (11, [11; 32], 0));
    assert_eq!(
        storage
            .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
            .unwrap(),
        vec![BlockRange::new(10, 12)]
    );
    assert_eq!(
        storage
            .meta(hypasis_plugin_api::Namespace::Host, "sync/forward")
            .unwrap(),
        Some(b"12".to_vec())
    );
    assert_eq!(storage.stats().unwrap().blocks, 3);

    // A reorg: forget the canonical chain above 10, write a new 11.
    storage
        .write(WriteBatch {
            unwind_above: ROption::RSome(10),
            blocks: vec![raw_block(11, 0xee)].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        storage.canonical_hashes(&[11, 12]).unwrap(),
        vec![Some([0xee; 32]), None]
    );
    assert_eq!(storage.transaction(&[0x7b; 32]).unwrap(), None);
    // The replaced block stays readable by hash.
    assert_eq!(storage.block_number(&[11; 32]).unwrap(), Some(11));

    storage.shutdown().await.unwrap();
    let error = storage.stats().unwrap_err();
    assert_eq!(error.error.kind, ErrorKind::Shutdown);
    assert_eq!(
        error.to_string(),
        "plugin storage-memory: shutdown error: storage-memory is shut down"
    );
}

#[test]
fn validation_none_decodes_and_rejects_through_the_abi() {
    let dir = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let validation = loader(&dir, data.path())
        .validation(
            "sync.forward.validation_level",
            ValidationLevelName::None,
            "forward",
        )
        .unwrap();
    let request = |blocks: Vec<RawBlock>| ValidationRequest {
        direction: Direction::Forward,
        blocks: blocks.into(),
        parent: ROption::RNone,
        child: ROption::RNone,
        anchors: RVec::new(),
        checkpoints: RVec::new(),
        spans: RVec::new(),
        ext: Default::default(),
    };
    let good = vec![raw_block(5, 5), raw_block(6, 6)];
    assert_eq!(
        validation.validate(&request(good.clone())).unwrap(),
        Verdict::accepted(RVec::new())
    );

    let mut wrong_number = good.clone();
    wrong_number[1].header = header_rlp(60, [0; 32]).into();
    match validation
        .validate(&request(wrong_number))
        .unwrap()
        .into_result()
    {
        Err(rejection) => {
            assert_eq!(
                rejection.to_string(),
                "block 6: number mismatch: expected 6, found 60"
            )
        }
        other => panic!("accepted a header with the wrong number: {other:?}"),
    }

    let mut bad_body = good.clone();
    bad_body[0].body = ROption::RSome(vec![0xc3, 0xc0].into());
    match validation
        .validate(&request(bad_body))
        .unwrap()
        .into_result()
    {
        Err(rejection) => {
            assert_eq!((rejection.number, rejection.field.as_str()), (5, "body"));
        }
        other => panic!("accepted a malformed body: {other:?}"),
    }

    let gap = vec![raw_block(5, 5), raw_block(7, 7)];
    let error = validation.validate(&request(gap)).unwrap_err();
    assert_eq!(error.error.kind, ErrorKind::InvalidInput);
}

#[test]
fn wrong_kind_missing_file_and_not_a_plugin_are_refused() {
    let dir = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let loader = loader(&dir, data.path());

    let wrong_kind = loader
        .storage(&config_with("storage:\n  plugin: validation-none\n"))
        .unwrap_err();
    assert_eq!(
        wrong_kind.to_string(),
        format!(
            "{}: plugin `validation-none` is a validation plugin, but `storage.plugin` needs a storage plugin",
            dir.join(library_file_name("validation-none"))
                .canonicalize()
                .unwrap()
                .display()
        )
    );

    let missing = loader
        .storage(&config_with("storage:\n  plugin: storage-nowhere\n"))
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!(
            "plugin `storage-nowhere`: file not found: {} (looked in plugins.dir; build it with `cargo build --workspace`, or give a path)",
            dir.join(library_file_name("storage-nowhere")).display()
        )
    );

    let fake = data.path().join("libfake.so");
    std::fs::write(&fake, "this is not a library").unwrap();
    let error = PluginLibrary::open(&fake).unwrap_err();
    assert!(matches!(error, PluginLoadError::NotAPlugin { .. }));
    assert!(
        error.to_string().starts_with(&format!(
            "{}: not a Hypasis Sync plugin: cannot load it as a shared library",
            fake.canonicalize().unwrap().display()
        )),
        "{error}"
    );

    // A real shared library that is not a plugin: a proc-macro from the build.
    let proc_macro = std::fs::read_dir(common::target_dir().join("debug/deps"))
        .unwrap()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    name.starts_with("libthiserror_impl-")
                        && name.ends_with(std::env::consts::DLL_SUFFIX)
                })
        })
        .expect("thiserror-impl is built as a shared library");
    let error = PluginLibrary::open(&proc_macro).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: not a Hypasis Sync plugin: it exports no `HYPASIS_PLUGIN_ABI` symbol (plugins are built with hypasis-plugin-sdk's export_plugin!)",
            proc_macro.canonicalize().unwrap().display()
        )
    );
}

#[test]
fn failing_init_names_the_plugin_and_the_option() {
    let dir = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let config = config_with("storage:\n  plugin: storage-memory\n  options:\n    shards: 4\n");
    let error = loader(&dir, data.path()).storage(&config).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: plugin `storage-memory` failed to initialise: config error: storage-memory: option `shards`: unknown field `shards`, there are no fields",
            dir.join(library_file_name("storage-memory"))
                .canonicalize()
                .unwrap()
                .display()
        )
    );
}

fn foreign_plugins() -> &'static (std::path::PathBuf, std::path::PathBuf) {
    static BUILT: OnceLock<(std::path::PathBuf, std::path::PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let old = common::build_out_of_tree("foreign-abi", &[]);
        let drifted = common::build_out_of_tree("foreign-abi", &["drifted"]);
        (old, drifted)
    })
}

#[test]
fn plugin_built_against_an_older_abi_is_refused() {
    let (old, _) = foreign_plugins();
    let error = PluginLibrary::open(old).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: plugin ABI mismatch: expected plugin ABI 3.0 (a plugin built against hypasis-plugin-api 3.0 or an older release of the same major version), found 2.0; rebuild the plugin against this host's hypasis-plugin-api",
            old.canonicalize().unwrap().display()
        )
    );
}

#[test]
fn plugin_with_a_drifted_layout_is_refused() {
    let (_, drifted) = foreign_plugins();
    let error = PluginLibrary::open(drifted).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: plugin ABI layout mismatch: the plugin claims ABI 3.0 but its types differ from this host's ABI 3.0; it was built against a modified hypasis-plugin-api. Details: mismatched package (the plugin has foreign-abi, this host has hypasis-plugin-api)",
            drifted.canonicalize().unwrap().display()
        )
    );
}

#[tokio::test]
async fn out_of_tree_storage_is_built_alone_loaded_by_path_and_used() {
    let library = common::build_out_of_tree("team-storage", &[]);
    let data = tempfile::tempdir().unwrap();
    let config = config_with(&format!(
        "storage:\n  plugin: {}\n  options:\n    panic_on_meta: explode\n",
        library.display()
    ));
    // The plugin directory is irrelevant: the plugin is named by path.
    let storage = loader(Path::new("/nonexistent"), data.path())
        .storage(&config)
        .unwrap();
    assert_eq!(storage.name(), "team-storage");

    for start in [100u64, 102] {
        let blocks: Vec<RawBlock> = (start..start + 2)
            .map(|number| raw_block(number, number as u8))
            .collect();
        storage
            .write(WriteBatch {
                blocks: blocks.into(),
                intervals: vec![IntervalChange {
                    set: "verified".into(),
                    add: vec![BlockRange::new(start, start + 1)].into(),
                    remove: RVec::new(),
                    space: hypasis_plugin_api::Namespace::Chain,
                    ext: Default::default(),
                }]
                .into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    assert_eq!(
        storage
            .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
            .unwrap(),
        vec![BlockRange::new(100, 103)]
    );
    assert_eq!(
        storage.canonical_hashes(&[101, 104]).unwrap(),
        vec![Some([101; 32]), None]
    );
    let bodies = storage.parts(BlockPart::Body, &[[103; 32]]).unwrap();
    assert_eq!(
        bodies[0].as_ref().into_option().map(|body| body.len()),
        Some(6)
    );
    assert_eq!(
        std::fs::read_to_string(data.path().join("team-storage.journal")).unwrap(),
        "batch 1 blocks 2\nbatch 2 blocks 2\n"
    );

    // A panic inside the plugin comes back as an error; the host carries on.
    let error = storage
        .meta(hypasis_plugin_api::Namespace::Host, "explode")
        .unwrap_err();
    assert_eq!(error.error.kind, ErrorKind::Panic);
    assert_eq!(
        error.to_string(),
        "plugin team-storage: panic error: plugin panicked: team-storage: asked to panic on meta key `explode`"
    );
    assert_eq!(storage.stats().unwrap().blocks, 4);
}

#[test]
fn every_validation_level_runs_through_the_abi_with_the_chain_spec() {
    use hypasis_devnet::{
        ChainConfig,
        chain::Chain,
        faults::{Tamper, TamperTarget, tampered},
        generator::ChainGenerator,
    };
    use hypasis_plugin_api::{Producer, Span};

    let dir = common::built_in_plugin_dir();
    let data = tempfile::tempdir().unwrap();
    let mut chain = Chain::new(
        ChainGenerator::new(ChainConfig {
            txs_per_block: 3,
            ..ChainConfig::default()
        })
        .unwrap(),
    );
    for _ in 0..80 {
        chain.grow();
    }
    let spec = chain.generator().spec().clone();
    let spans: Vec<Span> = (0..=1)
        .map(|id| {
            let (start, end) = spec.span_range(id);
            let producers: Vec<Producer> = chain
                .generator()
                .span_producers(id)
                .iter()
                .map(|validator| Producer {
                    id: validator.id,
                    address: validator.address.0.0,
                    power: validator.power,
                    ext: Default::default(),
                })
                .collect();
            Span {
                id,
                range: BlockRange::new(start, end),
                producers: producers.into(),
                ext: Default::default(),
            }
        })
        .collect();
    let raw = |block: &hypasis_devnet::block::DevBlock| RawBlock {
        number: block.number(),
        hash: block.hash.0,
        header: block.header_rlp.to_vec().into(),
        body: ROption::RSome(block.body_rlp.to_vec().into()),
        receipts: ROption::RSome(block.receipts_rlp.to_vec().into()),
        state_sync: ROption::RNone,
        tx_hashes: Default::default(),
        senders: Default::default(),
        ext: Default::default(),
    };
    let honest: Vec<RawBlock> = (20..=60)
        .map(|number| raw(&chain.by_number(number).unwrap()))
        .collect();
    let request = |blocks: Vec<RawBlock>| ValidationRequest {
        direction: Direction::Forward,
        blocks: blocks.into(),
        parent: ROption::RNone,
        child: ROption::RNone,
        anchors: RVec::new(),
        checkpoints: RVec::new(),
        spans: spans.clone().into(),
        ext: Default::default(),
    };
    let loader = loader(&dir, data.path()).with_chain(serde_json::to_value(&spec).unwrap());
    let lie = tampered(
        &chain.by_number(40).unwrap(),
        &Tamper {
            block: 40,
            target: TamperTarget::Transaction { index: 0 },
            rehash: false,
        },
    );
    let mut lying = honest.clone();
    lying[20] = raw(&lie);
    for (level, rejects_the_transaction) in [
        (ValidationLevelName::None, false),
        (ValidationLevelName::Header, false),
        (ValidationLevelName::Light, true),
        (ValidationLevelName::Full, true),
    ] {
        let plugin = loader
            .validation("sync.forward.validation_level", level, "forward")
            .unwrap();
        assert!(
            plugin.validate(&request(honest.clone())).unwrap().outcome == Outcome::Accepted,
            "{level:?}"
        );
        let verdict = plugin.validate(&request(lying.clone())).unwrap();
        match (verdict.into_result(), rejects_the_transaction) {
            (Err(rejection), true) => assert_eq!(
                (rejection.number, rejection.field.as_str()),
                (40, "transactionsRoot")
            ),
            (Ok(_), false) => {}
            (other, _) => panic!("{level:?}: {other:?}"),
        }
    }

    // Without a chain spec, a level that needs one refuses to start.
    let error = self::loader(&dir, data.path())
        .validation(
            "sync.backward.validation_level",
            ValidationLevelName::Full,
            "backward",
        )
        .unwrap_err();
    assert!(error.to_string().ends_with("plugin `validation-full` failed to initialise: config error: validation-full: needs a chain spec and none was passed"), "{error}");
}

/// Runs the test-only 3.1 host (`tests/plugins/next-host`) on `plugin`.
fn next_host(plugin: &Path) -> serde_json::Value {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let bin = BIN.get_or_init(|| common::build_out_of_tree_bin("next-host"));
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(bin)
        .arg(plugin)
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "next-host on {}: {}",
        plugin.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn plugins_built_against_3_0_work_in_a_host_whose_types_grew() {
    // A host built against the next minor ABI (3.1): `WriteBatch` and
    // `StorageStats` gained a field, `Storage` a method.
    let team = common::build_out_of_tree("team-storage", &[]);
    let embedded = common::built_in_plugin_dir().join(library_file_name("storage-embedded"));
    for plugin in [&team, &embedded] {
        let seen = next_host(plugin);
        assert_eq!(seen["host_abi"], "3.1", "{seen}");
        assert_eq!(seen["plugin_abi"], "3.0", "{seen}");
        // It loads, takes a batch carrying the 3.1 field, and reads it back.
        assert_eq!(seen["header_read_back"], true, "{seen}");
        assert_eq!(seen["blocks"], 1, "{seen}");
        // The field it does not know reads as its default; the method it
        // lacks answers with the default body.
        assert_eq!(seen["stats_ext_compactions"], 0, "{seen}");
        assert_eq!(
            seen["compact"], "unsupported error: compact: not in this plugin's ABI",
            "{seen}"
        );
    }
    // team-storage made an extension object with its 3.0 vtable: the 3.1
    // method called on it fell back to the default above.
    assert_eq!(next_host(&team)["stats_ext_minor"], 0);
    assert_eq!(
        next_host(&embedded)["stats_ext_minor"],
        serde_json::Value::Null
    );
}

#[test]
fn a_plugin_built_against_a_newer_minor_is_refused_with_both_versions() {
    let newer = common::build_out_of_tree("team-storage", &["next-minor"]);
    let error = PluginLibrary::open(&newer).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: plugin ABI mismatch: expected plugin ABI 3.0 (a plugin built against hypasis-plugin-api 3.0 or an older release of the same major version), found 3.1; rebuild the plugin against this host's hypasis-plugin-api",
            newer.canonicalize().unwrap().display()
        )
    );
    // The 3.1 host takes it.
    assert_eq!(next_host(&newer)["plugin_abi"], "3.1");
}
