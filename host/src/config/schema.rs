//! The configuration schema: plain serde types with defaults.
//!
//! Every struct refuses unknown keys. Durations are written like `5s`,
//! `250ms`, `1h`; sizes like `512MiB`. See `docs/OPERATOR_GUIDE.md` for
//! every key and the environment variable the shipped files map it to.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::units::{ByteSize, Secret};

/// Implements string (de)serialization for a fieldless enum with messages
/// that list the accepted values (`config` reports serde's enum errors
/// poorly).
macro_rules! string_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every accepted spelling, in order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The configuration spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of {}",
                        Self::NAMES.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

/// The whole configuration of one instance.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Which chain this instance serves.
    pub chain: ChainName,
    /// Where and as what this instance runs.
    pub cloud: CloudConfig,
    /// Sharing state with other instances through Redis.
    pub cluster: ClusterConfig,
    /// devp2p: discovery, RLPx and the eth protocol.
    pub p2p: P2pConfig,
    /// Request limits per operator and overall.
    pub ratelimit: RateLimitConfig,
    /// Forward and backward sync.
    pub sync: SyncConfig,
    /// The block store.
    pub storage: StorageConfig,
    /// The in-memory response cache.
    pub cache: CacheConfig,
    /// Connection limits for the APIs and upstream clients.
    pub connection_pool: ConnectionPoolConfig,
    /// Where blocks come from.
    pub upstream: UpstreamConfig,
    /// Ethereum L1, where checkpoints are committed.
    pub l1: L1Config,
    /// Heimdall REST, for milestones and spans.
    pub heimdall: HeimdallConfig,
    /// JSON-RPC and REST APIs.
    pub api: ApiConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Where plugins are found.
    pub plugins: PluginsConfig,
    /// Logging.
    pub log: LogConfig,
}

/// A chain this build knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChainName {
    /// Polygon PoS mainnet (chain id 137).
    Mainnet,
    /// Polygon Amoy testnet (chain id 80002).
    Amoy,
    /// The embedded devnet.
    #[default]
    Devnet,
}

string_enum!(ChainName { Mainnet => "mainnet", Amoy => "amoy", Devnet => "devnet" });

/// The public IP to put in the enode: discovered, or given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExternalIp {
    /// Ask the cloud metadata endpoints (and `cloud.ip_echo_url`), else use the listen address.
    #[default]
    Auto,
    /// This address.
    Fixed(IpAddr),
}

impl FromStr for ExternalIp {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("auto") || text.is_empty() {
            return Ok(ExternalIp::Auto);
        }
        text.parse()
            .map(ExternalIp::Fixed)
            .map_err(|_| format!("`{text}` is neither `auto` nor an IP address"))
    }
}

impl<'de> Deserialize<'de> for ExternalIp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for ExternalIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExternalIp::Auto => serializer.serialize_str("auto"),
            ExternalIp::Fixed(ip) => serializer.collect_str(ip),
        }
    }
}

/// Which cloud's metadata endpoint to ask for the public IP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CloudProvider {
    /// Try each known provider.
    #[default]
    Auto,
    /// Amazon Web Services (IMDSv2).
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
    /// Not in a cloud: do not ask metadata endpoints.
    None,
}

string_enum!(CloudProvider { Auto => "auto", Aws => "aws", Gcp => "gcp", Azure => "azure", None => "none" });

/// `cloud.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudConfig {
    /// This instance's id in the cluster and on the status page (INSTANCE_ID).
    pub instance_id: String,
    /// The region shown on the status page and in the bootnode list (REGION).
    pub region: String,
    /// The public IP for the enode (EXTERNAL_IP): `auto` or an address.
    pub external_ip: ExternalIp,
    /// Which metadata endpoints `auto` asks.
    pub provider: CloudProvider,
    /// An optional URL that answers with the caller's IP, tried after the metadata endpoints.
    pub ip_echo_url: Option<String>,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            instance_id: "hypasis-1".into(),
            region: "local".into(),
            external_ip: ExternalIp::Auto,
            provider: CloudProvider::Auto,
            ip_echo_url: None,
        }
    }
}

/// `cluster.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Join a cluster through Redis (ENABLE_CLUSTER).
    pub enabled: bool,
    /// Redis URL (REDIS_URL).
    pub redis_url: String,
    /// Redis password (REDIS_PASSWORD), if not in the URL.
    pub redis_password: Secret,
    /// Prefix for every Redis key, so clusters can share a Redis.
    pub key_prefix: String,
    /// How often this instance renews its membership.
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// How long a membership lasts without renewal.
    #[serde(with = "humantime_serde")]
    pub member_ttl: Duration,
    /// How long a backward-range lease lasts without renewal.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// Redis connection-pool size.
    pub pool_size: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_password: Secret::default(),
            key_prefix: "hypasis".into(),
            heartbeat_interval: Duration::from_secs(5),
            member_ttl: Duration::from_secs(15),
            lease_ttl: Duration::from_secs(60),
            pool_size: 16,
        }
    }
}

/// `p2p.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Run devp2p (ENABLE_DEVP2P).
    pub enabled: bool,
    /// TCP address for RLPx; discovery uses the same port on UDP.
    pub listen_addr: SocketAddr,
    /// Answer discv4 and discv5 on the UDP port.
    pub discovery: bool,
    /// Most peers at once, trusted peers not counted (MAX_PEERS).
    pub max_peers: u32,
    /// Enode URLs always admitted, even above `max_peers`.
    pub trusted_peers: Vec<String>,
    /// Enode URLs to seed discovery with.
    pub bootnodes: Vec<String>,
    /// Time allowed for the RLPx and eth handshakes.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// eth requests per second a peer may make before it is throttled.
    pub peer_requests_per_second: f64,
    /// How long a peer whose score fell to the ban threshold (invalid
    /// messages, flooding) is refused, by node id and IP; `0s` never bans.
    #[serde(with = "humantime_serde")]
    pub ban_duration: Duration,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            enabled: true,
            listen_addr: SocketAddr::from(([0, 0, 0, 0], 30303)),
            discovery: true,
            max_peers: 50,
            trusted_peers: Vec::new(),
            bootnodes: Vec::new(),
            handshake_timeout: Duration::from_secs(5),
            peer_requests_per_second: 50.0,
            ban_duration: Duration::from_secs(3600),
        }
    }
}

/// `ratelimit.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Apply limits at all.
    pub enabled: bool,
    /// The rate-limit policy plugin.
    pub plugin: String,
    /// Sustained requests per second per operator (PER_OPERATOR_RPS).
    pub per_operator_rps: f64,
    /// Sustained requests per second over all operators (GLOBAL_RPS).
    pub global_rps: f64,
    /// Burst allowance above the sustained rate.
    pub burst: u32,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            plugin: "ratelimit-token-bucket".into(),
            per_operator_rps: 100.0,
            global_rps: 10_000.0,
            burst: 200,
            options: serde_json::Value::Null,
        }
    }
}

/// A validation level; each is a plugin named `validation-<level>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValidationLevelName {
    /// Decode only.
    None,
    /// Hashes, parent links, checkpoint roots.
    Header,
    /// Header plus transaction and receipt roots.
    #[default]
    Light,
    /// Light plus Bor consensus.
    Full,
}

string_enum!(ValidationLevelName { None => "none", Header => "header", Light => "light", Full => "full" });

impl ValidationLevelName {
    /// The plugin that implements the level.
    pub fn plugin_name(self) -> &'static str {
        match self {
            ValidationLevelName::None => "validation-none",
            ValidationLevelName::Header => "validation-header",
            ValidationLevelName::Light => "validation-light",
            ValidationLevelName::Full => "validation-full",
        }
    }
}

/// `sync.forward.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardSyncConfig {
    /// Sync from the anchor towards the head and follow it.
    pub enabled: bool,
    /// How forward batches are validated.
    pub validation_level: ValidationLevelName,
    /// Blocks per fetch-and-verify batch.
    pub batch_size: u32,
}

impl Default for ForwardSyncConfig {
    fn default() -> Self {
        ForwardSyncConfig {
            enabled: true,
            validation_level: ValidationLevelName::Light,
            batch_size: 256,
        }
    }
}

/// `sync.backward.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackwardSyncConfig {
    /// Sync from the anchor towards genesis.
    pub enabled: bool,
    /// How backward ranges are validated.
    pub validation_level: ValidationLevelName,
    /// Lowest block to sync down to.
    pub floor: u64,
    /// Checkpoint ranges fetched at once.
    pub ranges_in_flight: u32,
}

impl Default for BackwardSyncConfig {
    fn default() -> Self {
        BackwardSyncConfig {
            enabled: true,
            validation_level: ValidationLevelName::Light,
            floor: 0,
            ranges_in_flight: 4,
        }
    }
}

/// `sync.anchor.*`: start from this block instead of the newest checkpoint.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnchorConfig {
    /// Anchor block number.
    pub number: Option<u64>,
    /// Its hash, `0x`-prefixed hex; trusted as given.
    pub hash: Option<String>,
}

/// `sync.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Forward direction.
    pub forward: ForwardSyncConfig,
    /// Backward direction.
    pub backward: BackwardSyncConfig,
    /// A configured anchor, instead of the newest L1 checkpoint.
    pub anchor: AnchorConfig,
    /// How often to poll the upstream head when no subscription is available.
    #[serde(with = "humantime_serde")]
    pub head_poll_interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            forward: ForwardSyncConfig::default(),
            backward: BackwardSyncConfig::default(),
            anchor: AnchorConfig::default(),
            head_poll_interval: Duration::from_secs(2),
        }
    }
}

/// `storage.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The storage plugin.
    pub plugin: String,
    /// Data directory: the store, `nodekey`, `enode.txt`.
    pub data_dir: PathBuf,
    /// Upper bound on the store's own cache.
    pub cache_size: ByteSize,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            plugin: "storage-embedded".into(),
            data_dir: PathBuf::from("./data"),
            cache_size: ByteSize(512 << 20),
            options: serde_json::Value::Null,
        }
    }
}

/// `cache.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Cache responses (ENABLE_CACHE).
    pub enabled: bool,
    /// Most entries kept.
    pub max_entries: u64,
    /// Most bytes of rendered JSON kept (`5GB`, `512MiB`); `0`: no byte bound.
    pub max_size: ByteSize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            max_entries: 100_000,
            max_size: ByteSize(0),
        }
    }
}

/// `connection_pool.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionPoolConfig {
    /// Most open API connections (MAX_CONNECTIONS).
    pub max_connections: u32,
    /// Idle connections kept per upstream host.
    pub max_idle_per_host: u32,
    /// Close upstream connections idle this long.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Give up on a request after this long.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for ConnectionPoolConfig {
    fn default() -> Self {
        ConnectionPoolConfig {
            max_connections: 1000,
            max_idle_per_host: 32,
            idle_timeout: Duration::from_secs(90),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// `upstream.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// The upstream plugin.
    pub plugin: String,
    /// Polygon JSON-RPC URLs (POLYGON_RPC_1, POLYGON_RPC_2, ...); empty entries are ignored.
    pub endpoints: Vec<String>,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            plugin: "upstream-jsonrpc".into(),
            endpoints: Vec::new(),
            options: serde_json::Value::Null,
        }
    }
}

/// `l1.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct L1Config {
    /// Ethereum JSON-RPC URL (ETH_L1_RPC_URL).
    pub rpc_url: Option<String>,
    /// RootChain contract address; the chain spec's when unset.
    pub root_chain: Option<String>,
    /// L1 blocks a checkpoint must be buried under before it is used.
    pub confirmations: u64,
    /// How often to look for new checkpoints.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for L1Config {
    fn default() -> Self {
        L1Config {
            rpc_url: None,
            root_chain: None,
            confirmations: 12,
            poll_interval: Duration::from_secs(30),
        }
    }
}

/// `heimdall.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeimdallConfig {
    /// Heimdall v2 REST URL (HEIMDALL_URL); milestones and spans come from here.
    pub url: Option<String>,
    /// How often to look for new milestones.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for HeimdallConfig {
    fn default() -> Self {
        HeimdallConfig {
            url: None,
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// `api.rpc.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcApiConfig {
    /// Serve JSON-RPC.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
    /// Most calls in one batch.
    pub max_batch: u32,
    /// Most bytes in one request body.
    pub max_request_size: ByteSize,
    /// Fetch blocks the store lacks from upstream (marked unverified).
    pub proxy_unknown: bool,
}

impl Default for RpcApiConfig {
    fn default() -> Self {
        RpcApiConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8545)),
            max_batch: 100,
            max_request_size: ByteSize(5 << 20),
            proxy_unknown: false,
        }
    }
}

/// `api.rest.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestApiConfig {
    /// Serve REST and the status page.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
}

impl Default for RestApiConfig {
    fn default() -> Self {
        RestApiConfig {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
        }
    }
}

/// `api.*`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// JSON-RPC.
    pub rpc: RpcApiConfig,
    /// REST and status page.
    pub rest: RestApiConfig,
    /// HS256 key for admin JWTs (JWT_SECRET); admin endpoints are off without it.
    pub jwt_secret: Secret,
}

/// `metrics.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics.
    pub enabled: bool,
    /// Listen address; keep it off the public interface.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

/// `plugins.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Directory holding plugin libraries; the executable's directory when unset.
    pub dir: Option<PathBuf>,
    /// Worker threads each I/O plugin's runtime starts.
    pub runtime_threads: usize,
    /// How long plugins get to stop at shutdown.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            runtime_threads: 2,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

string_enum!(LogFormat { Pretty => "pretty", Json => "json" });

/// `log.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, or `info,hypasis_sync::sync=debug`. `HYPASIS_LOG` overrides it.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}
