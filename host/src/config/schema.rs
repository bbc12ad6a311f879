//! The configuration schema: plain serde types with defaults.
//!
//! Every struct refuses unknown keys. Durations are written like `5s`,
//! `250ms`, `1h`; sizes like `512MiB`. See `docs/OPERATOR_GUIDE.md` for
//! every key and the environment variable the shipped files map it to.
//!
//! Each section lives in its own submodule; everything is re-exported here,
//! so `crate::config::X` names every type.

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

mod api;
mod cloud;
mod p2p;
mod runtime;
mod sources;
mod storage;
mod sync;

pub use api::{
    ApiConfig, ConnectionPoolConfig, MetricsConfig, RateLimitConfig, RestApiConfig, RpcApiConfig,
};
pub use cloud::{CloudConfig, CloudProvider, ClusterConfig, ExternalIp};
pub use p2p::P2pConfig;
pub use runtime::{LogConfig, LogFormat, PluginsConfig};
pub use sources::{HeimdallConfig, L1Config, UpstreamConfig};
pub use storage::{CacheConfig, StorageConfig};
pub use sync::{
    AnchorConfig, BackwardSyncConfig, ForwardSyncConfig, SyncConfig, ValidationLevelName,
};

/// The whole configuration of one instance.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Which chain this instance serves.
    pub chain: ChainName,
    /// The genesis file of a `custom` chain (go-ethereum's or Bor's format).
    pub genesis_file: Option<std::path::PathBuf>,
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
    /// A private chain given by its genesis file (`genesis_file`, in
    /// go-ethereum's or Bor's format), as Bor's `--chain <file>` takes one.
    Custom,
}

string_enum!(ChainName { Mainnet => "mainnet", Amoy => "amoy", Devnet => "devnet", Custom => "custom" });
