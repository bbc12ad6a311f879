//! Configuration: the shipped files load, and every kind of bad input gets
//! a message naming the file (or variable) and the key.

use std::path::Path;

use hypasis_sync::config::{self, ChainName, ConfigEnv, ExternalIp, ValidationLevelName};

fn env(vars: &[(&str, &str)]) -> ConfigEnv {
    ConfigEnv::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn error(yaml: &str, vars: &[(&str, &str)]) -> String {
    config::parse(yaml, Path::new("bad.yaml"), &env(vars))
        .expect_err("the configuration should be refused")
        .to_string()
}

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config")
        .join(name)
}

#[test]
fn example_config_loads_with_defaults_and_variables() {
    let config = config::load(&shipped("config.example.yaml"), &env(&[])).unwrap();
    assert_eq!(config.chain, ChainName::Devnet);
    assert_eq!(config.p2p.max_peers, 50);
    assert_eq!(config.storage.plugin, "storage-embedded");
    assert_eq!(
        config.upstream.endpoints,
        vec!["http://127.0.0.1:8547", "http://127.0.0.1:8548"]
    );

    let config = config::load(
        &shipped("config.example.yaml"),
        &env(&[
            ("MAX_PEERS", "80"),
            ("POLYGON_RPC_1", "http://rpc.example:8545"),
            ("EXTERNAL_IP", "203.0.113.7"),
        ]),
    )
    .unwrap();
    assert_eq!(config.p2p.max_peers, 80);
    assert_eq!(config.upstream.endpoints[0], "http://rpc.example:8545");
    assert_eq!(
        config.cloud.external_ip,
        ExternalIp::Fixed("203.0.113.7".parse().unwrap())
    );
}

#[test]
fn cloud_config_needs_its_variables_and_sets_every_section() {
    let message = config::load(&shipped("config.cloud.yaml"), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        message.ends_with("config.cloud.yaml: line 10: environment variable `INSTANCE_ID` is not set (write `${INSTANCE_ID:-default}` to give a default)"),
        "{message}"
    );
    let vars = [
        ("INSTANCE_ID", "eu-1"),
        ("REGION", "eu-west-1"),
        ("POLYGON_RPC_1", "https://polygon.example"),
        ("ETH_L1_RPC_URL", "https://eth.example"),
        ("JWT_SECRET", "s3cret"),
        ("REDIS_PASSWORD", "hunter2"),
        ("GLOBAL_RPS", "5000"),
    ];
    let config = config::load(&shipped("config.cloud.yaml"), &env(&vars)).unwrap();
    assert_eq!(config.chain, ChainName::Mainnet);
    assert_eq!(config.cloud.instance_id, "eu-1");
    assert!(!config.cluster.enabled, "ENABLE_CLUSTER is unset");
    assert_eq!(config.cache.max_size.0, 5_000_000_000);
    assert_eq!(config.cluster.redis_password.expose(), "hunter2");
    assert_eq!(config.ratelimit.global_rps, 5000.0);
    assert_eq!(
        config.sync.backward.validation_level,
        ValidationLevelName::Header
    );
    assert_eq!(config.storage.cache_size.0, 2 << 30);
    assert_eq!(config.api.jwt_secret.expose(), "s3cret");

    // The printed configuration hides the secrets.
    let printed = config::render_yaml(&config).unwrap();
    assert!(
        !printed.contains("s3cret") && !printed.contains("hunter2"),
        "{printed}"
    );
    assert!(printed.contains("jwt_secret: \"<redacted>\""), "{printed}");
}

#[test]
fn dotenv_fills_unset_variables_only() {
    let dir = tempfile::tempdir().unwrap();
    let dotenv = dir.path().join(".env");
    std::fs::write(&dotenv, "HYPASIS_TEST_DOTENV_A=from-file\nPATH=from-file\n").unwrap();
    let env = ConfigEnv::from_process_and_file(&dotenv);
    assert_eq!(
        env.get("HYPASIS_TEST_DOTENV_A").as_deref(),
        Some("from-file")
    );
    assert_ne!(env.get("PATH").as_deref(), Some("from-file"));
}

#[test]
fn unknown_key_is_named_with_its_path() {
    assert_eq!(
        error("sync:\n  forward:\n    validation_levl: light\n", &[]),
        "bad.yaml: `sync.forward.validation_levl`: unknown field `validation_levl`, expected one of `enabled`, `validation_level`, `batch_size`"
    );
    assert_eq!(
        error("p2pp:\n  max_peers: 3\n", &[]),
        "bad.yaml: `p2pp`: unknown field `p2pp`, expected one of `chain`, `genesis_file`, `cloud`, `cluster`, `p2p`, `ratelimit`, `sync`, `storage`, `cache`, `connection_pool`, `upstream`, `l1`, `heimdall`, `api`, `metrics`, `plugins`, `log`"
    );
}

#[test]
fn bad_values_are_named_with_their_path() {
    assert_eq!(
        error("sync:\n  backward:\n    validation_level: fast\n", &[]),
        "bad.yaml: `sync.backward.validation_level`: `fast` is not one of `none`, `header`, `light`, `full`"
    );
    assert_eq!(
        error("p2p:\n  max_peers: lots\n", &[]),
        "bad.yaml: `p2p.max_peers`: invalid type: string \"lots\", expected an integer"
    );
    assert_eq!(
        error("storage:\n  cache_size: 12 parsecs\n", &[]),
        "bad.yaml: `storage.cache_size`: unknown size unit `parsecs` in `12 parsecs`"
    );
    assert_eq!(
        error("cluster:\n  heartbeat_interval: soon\n", &[]),
        "bad.yaml: `cluster.heartbeat_interval`: invalid value: string \"soon\", expected a duration"
    );
    assert_eq!(
        error("cloud:\n  external_ip: my-laptop\n", &[]),
        "bad.yaml: `cloud.external_ip`: `my-laptop` is neither `auto` nor an IP address"
    );
    assert_eq!(
        error("chain: polygon\n", &[]),
        "bad.yaml: `chain`: `polygon` is not one of `mainnet`, `amoy`, `devnet`, `custom`"
    );
}

#[test]
fn rules_across_keys_name_the_key_at_fault() {
    assert_eq!(
        error(
            "ratelimit:\n  per_operator_rps: 500\n  global_rps: 100\n",
            &[]
        ),
        "bad.yaml: `ratelimit.per_operator_rps`: 500 is above ratelimit.global_rps (100)"
    );
    assert_eq!(
        error("api:\n  rest:\n    listen: 0.0.0.0:8545\n", &[]),
        "bad.yaml: `api.rest.listen`: 0.0.0.0:8545 is already used by api.rpc.listen"
    );
    assert_eq!(
        error("upstream:\n  endpoints: [\"http://a\", \"ftp://b\"]\n", &[]),
        "bad.yaml: `upstream.endpoints.1`: `ftp://b` is not an http(s) or ws(s) URL"
    );
    assert_eq!(
        error("chain: custom\n", &[]),
        "bad.yaml: `genesis_file`: chain `custom` needs the chain's genesis file (go-ethereum's or Bor's format)"
    );
    assert_eq!(
        error("chain: amoy\ngenesis_file: g.json\n", &[]),
        "bad.yaml: `genesis_file`: is only read for chain `custom`; chain `amoy` has its own genesis"
    );
    assert_eq!(
        error("sync:\n  anchor:\n    hash: \"0x1234\"\n", &[]),
        "bad.yaml: `sync.anchor.hash`: `0x1234` is not a 32-byte hex hash"
    );
    assert_eq!(
        error("log:\n  level: \"info,[=\"\n", &[])
            .split(':')
            .take(2)
            .collect::<Vec<_>>()
            .join(":"),
        "bad.yaml: `log.level`"
    );
}

#[test]
fn environment_problems_name_the_variable() {
    assert_eq!(
        error("p2p:\n  max_peers: ${MAX_PEERS}\n", &[]),
        "bad.yaml: line 2: environment variable `MAX_PEERS` is not set (write `${MAX_PEERS:-default}` to give a default)"
    );
    assert_eq!(
        error(
            "p2p:\n  max_peers: ${MAX_PEERS}\n",
            &[("MAX_PEERS", "many")]
        ),
        "bad.yaml: `p2p.max_peers`: invalid type: string \"many\", expected an integer"
    );
    // An override variable at fault is named instead of the file.
    assert_eq!(
        error(
            "p2p:\n  max_peers: 5\n",
            &[("HYPASIS__P2P__MAX_PEERS", "abc")]
        ),
        "HYPASIS__P2P__MAX_PEERS: `p2p.max_peers`: invalid type: string \"abc\", expected an integer"
    );
    let config = config::parse(
        "p2p:\n  max_peers: 5\n",
        Path::new("ok.yaml"),
        &env(&[
            ("HYPASIS__P2P__MAX_PEERS", "9"),
            ("HYPASIS__UPSTREAM__ENDPOINTS", "http://a,http://b"),
        ]),
    )
    .unwrap();
    assert_eq!(config.p2p.max_peers, 9);
    assert_eq!(config.upstream.endpoints, vec!["http://a", "http://b"]);
}

#[test]
fn broken_yaml_is_a_syntax_error() {
    let message = error("p2p:\n  max_peers: [1\n", &[]);
    assert!(
        message.starts_with("bad.yaml: not valid YAML: "),
        "{message}"
    );
}

#[test]
fn the_guides_names_load_as_ours_and_keys_that_do_nothing_are_refused() {
    // As the cloud guide writes them.
    let guide = "p2p:\n  mode: devp2p\n  listen: \"0.0.0.0:30313\"\ncluster:\n  heartbeat_period: 7s\ncache:\n  max_size: \"5GB\"\n";
    let config = config::parse(guide, Path::new("guide.yaml"), &env(&[])).unwrap();
    assert!(config.p2p.enabled);
    assert_eq!(config.p2p.listen_addr, "0.0.0.0:30313".parse().unwrap());
    assert_eq!(
        config.cluster.heartbeat_interval,
        std::time::Duration::from_secs(7)
    );
    assert_eq!(config.cache.max_size.0, 5_000_000_000);
    let off = config::parse("p2p:\n  mode: \"off\"\n", Path::new("g.yaml"), &env(&[])).unwrap();
    assert!(!off.p2p.enabled);
    // An override still works alongside an alias.
    let config = config::parse(
        guide,
        Path::new("guide.yaml"),
        &env(&[("HYPASIS__P2P__MAX_PEERS", "7")]),
    )
    .unwrap();
    assert_eq!(config.p2p.max_peers, 7);

    assert_eq!(
        error("p2p:\n  mode: libp2p\n", &[]),
        "bad.yaml: `p2p.mode`: must be `devp2p` or `off`, not \"libp2p\""
    );
    assert_eq!(
        error(
            "p2p:\n  listen: \"0.0.0.0:1\"\n  listen_addr: \"0.0.0.0:2\"\n",
            &[]
        ),
        "bad.yaml: `p2p.listen`: the operator guide's name for p2p.listen_addr, which is set too: keep one"
    );
    let ttl = error("cache:\n  ttl: 2s\n", &[]);
    assert!(
        ttl.starts_with("bad.yaml: `cache.ttl`: not supported: responses are cached by block hash"),
        "{ttl}"
    );
    let member = error(
        "cloud:\n  instance_id: \"eu 1\"\ncluster:\n  enabled: true\n",
        &[],
    );
    assert!(
        member.starts_with("bad.yaml: `cloud.instance_id`: `eu 1` cannot name a cluster member"),
        "{member}"
    );
    let prefix = error("cluster:\n  enabled: true\n  key_prefix: \"a:b\"\n", &[]);
    assert!(
        prefix.starts_with("bad.yaml: `cluster.key_prefix`: `a:b` is not"),
        "{prefix}"
    );
    let url = error("cloud:\n  public_api_url: \"ftp://x\"\n", &[]);
    assert!(
        url.starts_with("bad.yaml: `cloud.public_api_url`: `ftp://x` is not"),
        "{url}"
    );
}
